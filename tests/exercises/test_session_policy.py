"""Exercise of notebook 01 (a read-only session policy for alice's photos) against a real local stack:
a too-wide policy is explained by the action it must not hold; the reference policy passes."""

from __future__ import annotations

import pytest

from helpers import workbook
from helpers.exercises import session_policy as exercise
from helpers.exercises.marks import ExerciseFailed


def test_a_policy_that_also_writes_is_explained(book: workbook.Book,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    wide = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["oss:GetObject", "oss:PutObject"],
                                           "Resource": [f"acs:oss:*:*:{book.bucket}/users/alice/photos/*"]}]}
    with pytest.raises(ExerciseFailed):
        exercise.check(book, wide, strict=True)
    out = capsys.readouterr().out
    assert ("✗ PutObject users/alice/photos/new.jpg: expected refused (OSS: allowed; writing: the Action "
            "list must not hold oss:PutObject") in out
    assert "✓ GetObject users/alice/photos/exercise-cat.jpg: expected allowed" in out


def test_a_policy_on_the_whole_folder_is_explained(book: workbook.Book,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["oss:GetObject"],
                                             "Resource": [f"acs:oss:*:*:{book.bucket}/users/alice/*"]}]}
    assert exercise.check(book, folder) is False
    assert "outside photos/: the Resource must end in users/alice/photos/*" in capsys.readouterr().out


def test_the_reference_policy_passes(book: workbook.Book, capsys: pytest.CaptureFixture[str]) -> None:
    assert exercise.check(book, exercise.solution(book), strict=True) is True
    assert "All 6 checks passed." in capsys.readouterr().out
