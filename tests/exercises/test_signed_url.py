"""Exercise of notebook 02 (a signed PUT URL bound to data/notes.txt by Content-MD5) against a real
local stack: a hex MD5 and an unsigned MD5 are explained; the reference answer passes."""

from __future__ import annotations

import hashlib

import pytest

from helpers import workbook
from helpers.exercises import signed_url as exercise
from helpers.exercises.marks import ExerciseFailed


def test_a_hex_md5_is_explained(book: workbook.Book, capsys: pytest.CaptureFixture[str]) -> None:
    url, headers = exercise.solution(book)
    hexed = {**headers, "Content-MD5": hashlib.md5(exercise.SAMPLE.path.read_bytes()).hexdigest()}
    with pytest.raises(ExerciseFailed):
        exercise.check(book, (url, hexed), strict=True)
    out = capsys.readouterr().out
    assert "✗ Content-MD5 is the base64 MD5 of data/notes.txt" in out
    assert "base64 of hashlib.md5(data).digest(), not the hex digest" in out


def test_an_md5_sent_but_not_signed_is_named(book: workbook.Book, capsys: pytest.CaptureFixture[str]) -> None:
    alice = book.client("alice")
    only_type = {"Content-Type": exercise.SAMPLE.content_type}
    url = alice.oss2_bucket("upload").sign_url("PUT", exercise.KEY, 120, headers=only_type)
    md5 = exercise.file_md5(exercise.SAMPLE.path.read_bytes())
    assert exercise.check(book, (url, {**only_type, "Content-MD5": md5})) is False
    out = capsys.readouterr().out
    # Content-MD5 is part of every V4 (and V1) string to sign: sent but not signed, OSS refuses it.
    assert ("✗ another body of the same size: 400 InvalidDigest (OSS answered 403 SignatureDoesNotMatch; the "
            "headers must be the ones signed: pass them to sign_url(..., headers=...))") in out


def test_the_reference_answer_passes(book: workbook.Book, capsys: pytest.CaptureFixture[str]) -> None:
    assert exercise.check(book, exercise.solution(book), strict=True) is True
    assert "All 7 checks passed." in capsys.readouterr().out
