"""Expected refusals in the notebooks: what was refused (status, code, message), and a check that it was.

    with refused("AccessDenied"):          # prints `refused: 403 AccessDenied — ...`
        alice.download("users/bob/x.txt", absolute=True)

OSS refusals also carry an `EC` (its finer error code, e.g. `0003-00000001`) and often a
`RecommendDoc` (Alibaba's troubleshooting page for that EC): both are shown on the line after.

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
from helpers.protocol.errors import parse_error

# The local cloud sends this EC where its references name no real one [helpers/localcloud/errors.py
# DEFAULT_EC]; shown as such, without its meaningless RecommendDoc link. Real OSS sends a real EC.
PLACEHOLDER_EC = "0000-00000000"


class NotRefused(AssertionError):
    """A step that should have been refused went through: the lesson would be wrong."""


@dataclass
class Refusal:
    status: int | None = None
    code: str = ""
    message: str = ""
    ec: str = ""               # OSS's <EC>, e.g. 0003-00000001 (empty for STS and the app server)
    recommend_doc: str = ""    # OSS's <RecommendDoc> URL, when it sends one

    def lines(self) -> list[str]:
        """`refused: <status> <code> — <message>`, then `  EC <ec> · <RecommendDoc>` when OSS sent one."""
        head = " ".join(str(x) for x in (self.status, self.code) if x)
        out = [f"refused: {head} — {self.message}"]
        if self.ec == PLACEHOLDER_EC:
            out.append(f"  EC {self.ec} (the local cloud's placeholder: Alibaba Cloud sends the real EC)")
        elif self.ec or self.recommend_doc:
            parts = [f"EC {self.ec}" if self.ec else "", self.recommend_doc]
            out.append("  " + " · ".join(x for x in parts if x))
        return out


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
    # oss2 keeps every <Error> child in `details`, the v2 SDK in `error_fileds` (sic), the client copies
    # them as attributes; each has `ec` (the v2 SDK falls back to the x-oss-ec header).
    fields = getattr(exc, "details", None) or getattr(exc, "error_fileds", None)
    fields = fields if isinstance(fields, dict) else {}
    ec = getattr(exc, "ec", None) or fields.get("EC") or ""
    doc = getattr(exc, "recommend_doc", None) or fields.get("RecommendDoc") or ""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        parsed = parse_error(exc.response.content, exc.response.headers)
        code, message = (parsed.code, parsed.message) if parsed else (str(status), exc.response.reason_phrase)
        ec = parsed.ec if parsed else exc.response.headers.get("x-oss-ec", "")
        doc = parsed.recommend_doc if parsed else ""
    return Refusal(int(status) if isinstance(status, int | str) and str(status).isdigit() else None,
                   str(code), mask_error(str(message)), str(ec), str(doc))


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


@contextlib.contextmanager
def refused(code: str | None = None, *, status: int | None = None) -> Iterator[Refusal]:
    """Expect the block to be refused: print `refused: <status> <code> — <message>` (and the EC line
    when OSS sent one) and carry on.

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
        outcome.ec, outcome.recommend_doc = got.ec, got.recommend_doc
        if code is not None and outcome.code != code or status is not None and outcome.status != status:
            # Not the refusal the lesson shows: say what really happened (e.g. STS unreachable).
            want = " ".join(([f"HTTP {status}"] if status is not None else []) + ([code] if code else []))
            head = " ".join(str(x) for x in (got.status, got.code) if x) or "an error without a refusal code"
            detail = got.message if got.code else error_text(exc)
            raise NotRefused(f"expected {want}, got {head}: {detail}") from None
    else:
        raise NotRefused(f"expected a refusal{f' ({code})' if code else ''}, but the request went through")
    print("\n".join(outcome.lines()))
