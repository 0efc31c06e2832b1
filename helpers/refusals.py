"""Expected refusals in the notebooks: what was refused (status, code, message), and a check that it was.

    with refused("AccessDenied"):          # prints `refused: 403 AccessDenied — ...`
        alice.download("users/bob/x.txt", absolute=True)

A step that should be refused but goes through raises `NotRefused`: the lesson would be wrong.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx


class NotRefused(AssertionError):
    """A step that should have been refused went through: the lesson would be wrong."""


@dataclass
class Refusal:
    status: int | None = None
    code: str = ""
    message: str = ""


def describe_error(exc: BaseException) -> Refusal:
    """Status, code and message of any refusal the workbook meets (client, SDK or HTTP errors)."""
    status = (getattr(exc, "status", None) or getattr(exc, "status_code", None)
              or getattr(exc, "http_status", None))    # aliyunsdkcore ServerException (STS)
    code = getattr(exc, "code", None) or getattr(exc, "error_code", None) or ""
    message = getattr(exc, "message", None) or getattr(exc, "detail", None) or ""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        code, message = _xml_code(exc.response.content) or (str(status), exc.response.reason_phrase)
    return Refusal(int(status) if isinstance(status, int | str) and str(status).isdigit() else None,
                   str(code), str(message))


def _xml_code(content: bytes) -> tuple[str, str] | None:
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        return None
    return (root.findtext("Code") or "", root.findtext("Message") or "")


@contextlib.contextmanager
def refused(code: str | None = None, *, status: int | None = None) -> Iterator[Refusal]:
    """Expect the block to be refused: print `refused: <status> <code> — <message>` and carry on.

    Raises NotRefused when nothing was refused, or when the code/status differs from the expected one:
    a step that should fail but does not would teach the wrong lesson.
    """
    outcome = Refusal()
    try:
        yield outcome
    except NotRefused:
        raise
    except Exception as exc:  # any refusal is data here; the checks below decide if it is the right one
        got = describe_error(exc)
        outcome.status, outcome.code, outcome.message = got.status, got.code, got.message
    else:
        raise NotRefused(f"expected a refusal{f' ({code})' if code else ''}, but the request went through")
    if code is not None and outcome.code != code:
        raise NotRefused(f"expected {code}, got {outcome.status} {outcome.code}: {outcome.message}")
    if status is not None and outcome.status != status:
        raise NotRefused(f"expected HTTP {status}, got {outcome.status} {outcome.code}")
    head = " ".join(str(x) for x in (outcome.status, outcome.code) if x)
    print(f"refused: {head} — {outcome.message}")
