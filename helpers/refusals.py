"""Expected refusals in the notebooks: what was refused (status, code, message), and a check that it was.

    with refused("AccessDenied"):          # prints `refused: 403 AccessDenied — ...`
        alice.download("users/bob/x.txt", absolute=True)

A step that should be refused but goes through raises `NotRefused`: the lesson would be wrong.
Every error text shown here (`describe_error`, `error_text`, `NotRefused`) is masked through
`helpers.logging.mask_error`: SDK errors can hold a whole signed request.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from helpers.logging import mask_error


class NotRefused(AssertionError):
    """A step that should have been refused went through: the lesson would be wrong."""


@dataclass
class Refusal:
    status: int | None = None
    code: str = ""
    message: str = ""


def describe_error(exc: BaseException) -> Refusal:
    """Status, code and message of any refusal the workbook meets (client, SDK or HTTP errors), masked.

    An error without a status of its own takes the first one in its causes (a client's
    `CredentialsUnavailable` caused by the app server's 502); without a code, its message is its
    own text (which then says what went wrong, e.g. "app server answered 502: STS is unreachable")."""
    status = _status(exc)
    for cause in _causes(exc):
        status = status or _status(cause)
    code = getattr(exc, "code", None) or getattr(exc, "error_code", None) or ""
    message = getattr(exc, "message", None) or getattr(exc, "detail", None) or ("" if code else str(exc))
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        code, message = _xml_code(exc.response.content) or (str(status), exc.response.reason_phrase)
    return Refusal(int(status) if isinstance(status, int | str) and str(status).isdigit() else None,
                   str(code), mask_error(str(message)))


def error_text(exc: BaseException) -> str:
    """`<ExceptionType>: <text>` for showing an unexpected error in a notebook, masked."""
    return f"{type(exc).__name__}: {mask_error(str(exc))}"


def _status(exc: BaseException) -> object:
    return (getattr(exc, "status", None) or getattr(exc, "status_code", None)
            or getattr(exc, "http_status", None))    # aliyunsdkcore ServerException (STS)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen = {id(exc)}
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = cause.__cause__ or cause.__context__


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
        if code is not None and outcome.code != code or status is not None and outcome.status != status:
            # Not the refusal the lesson shows: say what really happened (e.g. STS unreachable).
            want = " ".join(([f"HTTP {status}"] if status is not None else []) + ([code] if code else []))
            head = " ".join(str(x) for x in (got.status, got.code) if x) or "an error without a refusal code"
            detail = got.message if got.code else error_text(exc)
            raise NotRefused(f"expected {want}, got {head}: {detail}") from None
    else:
        raise NotRefused(f"expected a refusal{f' ({code})' if code else ''}, but the request went through")
    head = " ".join(str(x) for x in (outcome.status, outcome.code) if x)
    print(f"refused: {head} — {outcome.message}")
