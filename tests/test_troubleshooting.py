"""Notebook 10's helpers without a kernel: the catalogue, the Casebook's contract (a case that is not
refused, or refused for another reason, fails loudly), the exercise checker, the bad callback server."""

from __future__ import annotations

import httpx
import pytest

from helpers.exercises import troubleshooting as exercise
from helpers.exercises.marks import ExerciseFailed
from helpers.lessons import troubleshooting as trouble
from helpers.refusals import NotRefused


def test_every_case_names_a_code_a_meaning_and_a_fix() -> None:
    for name, case in trouble.CASES.items():
        assert case.code and case.meaning and case.fix and case.gist and case.remedy, name
        assert len(case.gist) <= 40 and len(case.remedy) <= 40, f"{name}: keep the table narrow"


def test_a_case_that_goes_through_is_not_the_lesson() -> None:
    cases = trouble.Casebook()
    with pytest.raises(NotRefused), cases.case("skew"):
        pass
    assert cases.met == []


def test_a_case_refused_for_another_reason_is_not_the_lesson() -> None:
    from helpers.client.errors import oss_error

    cases = trouble.Casebook()
    expected = "expected HTTP 403 RequestTimeTooSkewed, got 403 AccessDenied"
    with pytest.raises(NotRefused, match=expected), cases.case("skew"):
        raise oss_error(403, "AccessDenied", "no")


def test_a_met_case_is_a_table_row(capsys: pytest.CaptureFixture[str]) -> None:
    from helpers.client.errors import oss_error

    cases = trouble.Casebook()
    with cases.case("part-too-small"):
        raise oss_error(400, "EntityTooSmall", "too small", ec="0000-00000000")
    with cases.case("skew"):
        raise oss_error(403, "RequestTimeTooSkewed", "skewed", ec="0002-00000504")
    capsys.readouterr()
    cases.table()
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["code", "HTTP", "EC"]
    assert "(local: none)" in table[2] and "0002-00000504" in table[3]


def test_the_reference_solution_passes_and_a_wrong_match_fails(capsys: pytest.CaptureFixture[str]) -> None:
    exercise.check(None, exercise.solution(), strict=True)
    assert "All 6 checks passed." in capsys.readouterr().out
    wrong = {**exercise.solution(), "CallbackFailed": "A"}
    with pytest.raises(ExerciseFailed, match="CallbackFailed"):
        exercise.check(None, wrong, strict=True)
    assert ("✗ CallbackFailed → A (A (add a CORS rule for the web page's origin to the bucket) "
            "is the fix for AccessForbidden; CallbackFailed means the object is stored, but the "
            "callback server did not answer 200 JSON in 5 s: the fix is C)") in capsys.readouterr().out
    assert exercise.created_keys() == []
    exercise.check(None, "D", strict=False)
    assert "✗ the answer is a dict" in capsys.readouterr().out


def test_bad_callback_server_answers_not_json() -> None:
    with trouble.BadCallbackServer() as server:
        r = httpx.post(server.url("not-json"), content=b"x", trust_env=False, timeout=5)
    assert r.status_code == 200 and r.text == "OK" and r.headers["content-type"] == "text/plain"
