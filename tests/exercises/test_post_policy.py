"""Exercise of notebook 03 (the conditions of a PNG-avatar form policy) against a real local stack:
conditions missing the type and with a zero minimum are explained; the reference conditions pass."""

from __future__ import annotations

import pytest

from helpers import workbook
from helpers.exercises import post_policy as exercise
from helpers.exercises.marks import ExerciseFailed


def test_missing_type_and_zero_minimum_are_named(book: workbook.Book,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    loose = [["starts-with", "$key", exercise.PREFIX], ["content-length-range", 0, exercise.MIB]]
    with pytest.raises(ExerciseFailed):
        exercise.check(book, loose, strict=True)
    out = capsys.readouterr().out
    assert ("✗ users/alice/avatars/exercise-notes.txt (text/plain, 1024 bytes): expected refused (OSS: 204; "
            'a text file must fail: add ["eq", "$Content-Type", "image/png"])') in out
    assert "an empty file must fail: content-length-range's minimum must be 1, not 0" in out
    assert "2 of 7 checks failed." in out
    book.delete_objects(exercise.created_keys())


def test_the_reference_conditions_pass(book: workbook.Book, capsys: pytest.CaptureFixture[str]) -> None:
    assert exercise.check(book, exercise.solution(book), strict=True) is True
    assert "All 7 checks passed." in capsys.readouterr().out
