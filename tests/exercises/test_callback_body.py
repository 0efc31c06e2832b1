"""Notebook 04's exercise against a real local stack: a form-encoded callbackBody that the app server
verifies and records; wrong answers are explained field by field."""

from __future__ import annotations

from typing import Any

import pytest

from helpers.exercises import callback_body as exercise
from helpers.exercises.marks import ExerciseFailed

Capsys = pytest.CaptureFixture[str]



def test_the_json_template_shown_in_the_notebook_is_not_the_answer(book: Any, capsys: Capsys) -> None:
    shown = '{"bucket":${bucket},"object":${object},"size":${size},"user":${x:user}}'
    with pytest.raises(ExerciseFailed):
        exercise.check(book, shown, strict=True)
    out = capsys.readouterr().out
    assert "✗ it is form-encoded (name=value pairs joined by &) (it starts with '{'" in out


def test_a_missing_field_and_a_wrong_variable_are_named(book: Any, capsys: Capsys) -> None:
    wrong = "bucket=${bucket}&object=${object}&size=${size}&mimeType=${mimeType}&user=${user}"
    assert exercise.check(book, wrong, strict=False) is False
    out = capsys.readouterr().out
    assert "✗ etag=${etag} (missing)" in out
    assert "✗ user=${x:user} (found user=${user})" in out
    assert "✓ size=${size}" in out
    assert "recorded" not in out, "a template the app server would refuse is not uploaded"


def test_the_reference_solution_is_recorded_by_the_app_server(book: Any, capsys: Capsys) -> None:
    assert exercise.check(book, exercise.solution(book), strict=True) is True
    out = capsys.readouterr().out
    key = exercise.created_keys()[0]
    assert f"✓ the app server verified the callback and answered for {key}" in out
    assert f"✓ the app server recorded {key} ({exercise.SAMPLE.stat().st_size} bytes) for alice" in out
    book.delete_objects(exercise.created_keys())
