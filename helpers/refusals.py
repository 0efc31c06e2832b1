"""Expected refusals in the notebooks: what was refused (status, code, message), and a check that it was.

    with refused("AccessDenied"):          # prints `refused: 403 AccessDenied — ...`
        alice.download("users/bob/x.txt", absolute=True)

OSS refusals also carry an `EC` (its finer error code, e.g. `0003-00000001`) and often a
`RecommendDoc` (Alibaba's troubleshooting page for that EC): both are shown on the line after.

A step that should be refused but goes through raises `NotRefused`: the lesson would be wrong.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

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
    """Status, code and message of any refusal the workbook meets (client, SDK or HTTP errors)."""
    status = (getattr(exc, "status", None) or getattr(exc, "status_code", None)
              or getattr(exc, "http_status", None))    # aliyunsdkcore ServerException (STS)
    code = getattr(exc, "code", None) or getattr(exc, "error_code", None) or ""
    message = getattr(exc, "message", None) or getattr(exc, "detail", None) or ""
    # oss2 keeps every <Error> child in `details`, the v2 SDK in `error_fileds` (sic), the client copies
    # them as attributes; each has `ec` (the v2 SDK falls back to the x-oss-ec header).
    fields = getattr(exc, "details", None) or getattr(exc, "error_fileds", None)
    fields = fields if isinstance(fields, dict) else {}
    ec = getattr(exc, "ec", None) or fields.get("EC") or ""
    doc = getattr(exc, "recommend_doc", None) or fields.get("RecommendDoc") or ""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        xml = _xml_fields(exc.response.content)
        code, message = (xml.get("Code", ""), xml.get("Message", "")) if xml else (str(status),
                                                                                  exc.response.reason_phrase)
        ec = xml.get("EC") or exc.response.headers.get("x-oss-ec", "")
        doc = xml.get("RecommendDoc", "")
    return Refusal(int(status) if isinstance(status, int | str) and str(status).isdigit() else None,
                   str(code), str(message), str(ec), str(doc))


def _xml_fields(content: bytes) -> dict[str, str]:
    """The children of an OSS `<Error>` document; {} when the body is not XML."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        return {}
    return {child.tag: child.text or "" for child in root}


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
    else:
        raise NotRefused(f"expected a refusal{f' ({code})' if code else ''}, but the request went through")
    if code is not None and outcome.code != code:
        raise NotRefused(f"expected {code}, got {outcome.status} {outcome.code}: {outcome.message}")
    if status is not None and outcome.status != status:
        raise NotRefused(f"expected HTTP {status}, got {outcome.status} {outcome.code}")
    print("\n".join(outcome.lines()))
