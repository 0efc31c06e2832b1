"""Notebook 07's exercise against a real local stack: each wrong prediction is explained with the rule
that decided it; the reference answer passes (and is what OSS really did)."""

from __future__ import annotations

from typing import Any

import pytest

from helpers.exercises import policy_prediction as exercise
from helpers.exercises.marks import ExerciseFailed


def test_the_reference_prediction_passes(book: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert exercise.check(book, exercise.solution(book), strict=True) is True
    out = capsys.readouterr().out
    assert f"All {len(exercise.OPERATIONS)} checks passed." in out
    assert "✗" not in out


def test_a_wrong_prediction_names_the_rule(book: Any, capsys: pytest.CaptureFixture[str]) -> None:
    answer = exercise.solution(book)
    answer["PutObject users/alice/photos/new.jpg"] = "allowed"      # forgot that Deny wins
    answer["ListObjects prefix users/alice/"] = "allowed"           # forgot the bucket-level resource
    answer["GetObject users/bob/photos/cat.jpg"] = "refused"        # thought OSS isolates users itself
    assert exercise.check(book, answer) is False
    out = capsys.readouterr().out
    assert ("✗ PutObject users/alice/photos/new.jpg: you said allowed (OSS: refused (AccessDenied): "
            "the explicit Deny of oss:PutObject on users/alice/photos/* wins over the Allow of oss:*)") in out
    assert "✗ ListObjects prefix users/alice/: you said allowed (OSS: refused (AccessDenied): listing is a " \
           "bucket-level action" in out
    assert "✗ GetObject users/bob/photos/cat.jpg: you said refused (OSS: allowed: the session policy " \
           "allows it and the role covers every user's folder" in out
    assert "3 of 7 checks failed." in out
    with pytest.raises(ExerciseFailed):
        exercise.check(book, answer, strict=True)


def test_not_a_dict_and_not_answered(book: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert exercise.check(book, None) is False
    assert "Not answered yet" in capsys.readouterr().out
    assert exercise.check(book, ["allowed"]) is False
    assert "✗ the answer is a dict {operation: 'allowed' or 'refused'} (got list)" in capsys.readouterr().out
