"""Exercise of notebook 00 (choose the flow per scenario) against a real local stack: a wrong answer
is explained by the limit that rules it out; the right one passes and proves the camera's signed PUT."""

from __future__ import annotations

import pytest

from helpers import workbook
from helpers.exercises import architecture as exercise
from helpers.exercises.marks import ExerciseFailed


def test_wrong_answer_names_the_limit_that_rules_it_out(book: workbook.Book,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    answer = {**exercise.solution(book), "video_app": "signed url", "orders": "sts"}
    with pytest.raises(ExerciseFailed):
        exercise.check(book, answer, strict=True)
    out = capsys.readouterr().out
    assert "✗ video_app: sts (not signed url: a signed URL authorises one request, and one PutObject " \
           "carries at most 5 GB" in out
    assert "✗ orders: callback (not sts: with temporary credentials OSS never tells the app server" in out
    assert "✓ camera: signed url" in out and "2 of 5 checks failed." in out


def test_unknown_flow_and_wrong_type_are_named(book: workbook.Book,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert exercise.check(book, {**exercise.solution(book), "web_page": "ftp"}) is False
    assert "✗ web_page: one of sts, signed url, form, callback (got 'ftp')" in capsys.readouterr().out
    assert exercise.check(book, "app server") is False
    assert "✗ the answer is a dict {scenario: flow} (got str)" in capsys.readouterr().out


def test_right_answer_passes_and_proves_the_signed_put(book: workbook.Book,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert exercise.check(book, exercise.solution(book), strict=True) is True
    out = capsys.readouterr().out
    assert "✓ camera, proved: a PUT with plain HTTP" in out and "All 5 checks passed." in out
    book.delete_objects(exercise.created_keys())
    assert "deleted 1 objects" in capsys.readouterr().out
