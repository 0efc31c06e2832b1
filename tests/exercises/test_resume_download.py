"""Notebook 05's exercise against a real local stack: the headers that resume a download (Range from
byte 7, If-Match with the ETag the app saw); each wrong answer is explained by the header at fault."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import sample_data
from helpers.exercises import resume_download as exercise
from helpers.exercises.marks import ExerciseFailed

Capsys = pytest.CaptureFixture[str]

TEXT = sample_data.TEXT.read_bytes()


@pytest.fixture(scope="module", autouse=True)
def source(book: Any) -> None:
    """The file the exercise resumes, uploaded once for the module."""
    book.client("alice").upload(exercise.SOURCE, TEXT, content_type="text/plain; charset=utf-8")


def etag(book: Any) -> str:
    return str(book.client("alice").download(exercise.SOURCE).etag)


def test_without_if_match_a_changed_file_would_be_glued(book: Any, capsys: Capsys) -> None:
    with pytest.raises(ExerciseFailed):
        exercise.check(book, {"Range": "bytes=7-"}, strict=True)
    out = capsys.readouterr().out
    assert f"✓ the unchanged file: OSS sends bytes 7–{len(TEXT) - 1} ({len(TEXT) - 7} bytes)" in out
    assert ("✗ the changed file: OSS refuses with 412 PreconditionFailed "
            f"(it sent {len(TEXT) + 8} bytes of the NEW version") in out
    assert "add If-Match with the ETag it saw" in out


def test_without_range_the_whole_file_comes_again(book: Any, capsys: Capsys) -> None:
    assert exercise.check(book, {"If-Match": etag(book)}, strict=False) is False
    out = capsys.readouterr().out
    assert f"✗ a Range header (missing: OSS sent the whole file ({len(TEXT)} bytes)" in out
    assert "✓ the changed file: OSS refuses with 412 PreconditionFailed" in out


def test_if_none_match_is_the_opposite(book: Any, capsys: Capsys) -> None:
    assert exercise.check(book, {"Range": "bytes=7-", "If-None-Match": etag(book)}, strict=False) is False
    assert "304 Not Modified: If-None-Match asks for the file only if it CHANGED" in capsys.readouterr().out


def test_a_wrong_etag_is_named(book: Any, capsys: Capsys) -> None:
    assert exercise.check(book, {"Range": "bytes=7-", "If-Match": "0" * 32}, strict=False) is False
    assert f"If-Match must be the ETag the app saw, {etag(book)}" in capsys.readouterr().out


def test_the_reference_solution_passes(book: Any, capsys: Capsys) -> None:
    assert exercise.check(book, exercise.solution(book), strict=True) is True
    assert "All 4 checks passed." in capsys.readouterr().out
    book.delete_objects(exercise.created_keys())
