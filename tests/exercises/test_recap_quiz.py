"""Notebook 11's quiz checker: the reference answers pass; a wrong letter is explained (why that choice is
wrong, the right letter, the notebook to revisit); the quiz uploads nothing, so it needs no stack."""

from __future__ import annotations

import pytest

from helpers.exercises import recap_quiz as quiz
from helpers.exercises.marks import ExerciseFailed


def test_the_reference_answers_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert quiz.check(None, quiz.solution(None), strict=True) is True
    assert f"All {len(quiz.QUESTIONS)} checks passed." in capsys.readouterr().out
    assert quiz.created_keys() == []


def test_every_wrong_choice_has_its_explanation() -> None:
    for n, q in quiz.QUESTIONS.items():
        assert q.right in q.choices, n
        assert set(q.wrong) == set(q.choices) - {q.right}, f"question {n}: explain every wrong choice"


def test_a_wrong_letter_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    answer = {**quiz.solution(None), 3: "c", 5: "a", 8: "z"}
    answer["1"] = answer.pop(1)  # string keys are accepted too
    assert quiz.check(None, answer) is False
    out = capsys.readouterr().out
    assert ("✗ 3. c) any duration, if the session policy allows it (a session policy limits actions and "
            "resources, never the duration; 7200 s was refused; the answer is b), see notebook 07 "
            "(InvalidParameter.DurationSeconds))") in out
    assert "✗ 5. a) retry the same request (the same token stays expired: every retry is refused; " in out
    assert "✗ 8. z (choose one of a, b, c, d)" in out
    assert "✓ 1. b)" in out and "3 of 8 checks failed." in out
    with pytest.raises(ExerciseFailed):
        quiz.check(None, answer, strict=True)


def test_not_a_dict(capsys: pytest.CaptureFixture[str]) -> None:
    assert quiz.check(None, "b") is False
    assert "✗ the answer is a dict {question number: letter} (got str)" in capsys.readouterr().out
