"""Notebook 06's exercise against a real local stack: a URL alice's app signs with its download token,
overriding the stored Content-Type and Content-Disposition so a web view shows the file."""

from __future__ import annotations

from typing import Any

import pytest

from helpers.exercises import inline_view as exercise
from helpers.exercises.marks import ExerciseFailed

Capsys = pytest.CaptureFixture[str]



def test_a_request_header_name_is_not_an_override(book: Any, capsys: Capsys) -> None:
    with pytest.raises(ExerciseFailed):
        exercise.check(book, {"expires": 60, "params": {"content-type": "text/plain"}}, strict=True)
    assert "✗ 'content-type' is a response-* parameter (OSS's override is response-content-type)" in \
        capsys.readouterr().out


def test_without_the_disposition_override_the_browser_saves_it(book: Any, capsys: Capsys) -> None:
    answer = {"expires": 60, "params": {"response-content-type": "text/plain; charset=utf-8"}}
    assert exercise.check(book, answer, strict=False) is False
    out = capsys.readouterr().out
    assert "✓ Content-Type: text/plain; charset=utf-8 (the web view shows text)" in out
    assert ('✗ Content-Disposition: inline (shown, not saved) (OSS sent attachment; filename="report.txt")'
            in out)


def test_a_wrong_lifetime_is_named(book: Any, capsys: Capsys) -> None:
    answer = {**exercise.solution(), "expires": 3600}
    assert exercise.check(book, answer, strict=False) is False
    assert "✗ valid for 60 s (x-oss-expires) (got 3600)" in capsys.readouterr().out


def test_the_reference_solution_passes(book: Any, capsys: Capsys) -> None:
    assert exercise.check(book, exercise.solution(book), strict=True) is True
    assert "All 6 checks passed." in capsys.readouterr().out
    book.delete_objects(exercise.created_keys())
