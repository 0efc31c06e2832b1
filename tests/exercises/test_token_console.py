"""Notebook 08's exercise against a real local stack: the console is driven with the answer, its token
is tried against OSS; wrong settings are named with what they cause; the reference answer passes."""

from __future__ import annotations

from typing import Any

import pytest

from helpers.exercises import token_console as exercise
from helpers.exercises.marks import ExerciseFailed


def test_the_reference_settings_pass(book: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert exercise.check(book, exercise.solution(book), strict=True) is True
    out = capsys.readouterr().out
    assert "✓ PutObject users/alice/nightly-report.txt: allowed" in out
    assert "✓ ListObjects users/alice/: refused (OSS: refused (403 AccessDenied))" in out
    assert "All 12 checks passed." in out
    book.delete_objects(exercise.created_keys())


def test_the_app_servers_token_is_explained(book: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert exercise.check(book, {"mode": "app server", "scope": "upload"}) is False
    out = capsys.readouterr().out
    assert "the app server's /api/sts gives one scope (upload OR download) for 15 minutes" in out


def test_too_much_and_too_short_are_named(book: Any, capsys: pytest.CaptureFixture[str]) -> None:
    answer = {"mode": "custom", "actions": ("oss:PutObject", "oss:GetObject", "oss:ListObjects"),
              "duration": 1800}
    assert exercise.check(book, answer) is False
    out = capsys.readouterr().out
    assert "✗ oss:ListObjects not ticked (the job never lists" in out
    assert "✗ duration 3600 s (1800 s: the token would expire mid-job" in out
    assert "✗ ListObjects users/alice/: refused (OSS: allowed)" in out
    with pytest.raises(ExerciseFailed):
        exercise.check(book, answer, strict=True)
    book.delete_objects(exercise.created_keys())


def test_a_missing_action_is_named(book: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert exercise.check(book, {"mode": "custom", "actions": ("oss:PutObject",), "duration": 3600}) is False
    out = capsys.readouterr().out
    assert "✗ oss:GetObject ticked (the job reads the report back to verify it)" in out
    assert "✗ GetObject users/alice/nightly-report.txt: allowed (OSS: refused (403 AccessDenied))" in out
    book.delete_objects(exercise.created_keys())
