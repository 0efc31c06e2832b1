"""The fuzz benchmark's answer checks (is the answer in the service's own format?) and its tallies."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from fuzz_request_model import Req
from fuzz_wire import Answer

# ------------------------------------------------------------------------------------ checks

_XML_START = re.compile(rb'^<\?xml version="1.0" encoding="UTF-8"\?>\s*<Error>')
_XML_CODE = re.compile(rb"<Code>[^<]+</Code>")
_XML_REQUEST_ID = re.compile(rb"<RequestId>[^<]+</RequestId>")


def _xml_error(body: bytes) -> bool:
    """An XML Error document with a Code and a RequestId (in either order)."""
    return bool(_XML_START.match(body) and _XML_CODE.search(body) and _XML_REQUEST_ID.search(body))


PROTOCOL_REJECT = b"Invalid HTTP request received."  # uvicorn's answer to bytes its parser refuses


def format_problem(req: Req, a: Answer) -> str | None:
    """None when the answer is in the service's own format, else what is wrong."""
    if a.status < 400:
        if req.target == "oss" and "x-oss-request-id" not in a.headers:
            return "OSS answer without x-oss-request-id"
        return None
    if req.target == "oss":
        if "x-oss-request-id" not in a.headers:
            return "OSS error without x-oss-request-id"
        if req.method == "HEAD":
            return None if "x-oss-err" in a.headers or not a.body else "HEAD error with a body"
        if not a.headers.get("content-type", "").startswith("application/xml") or not _xml_error(a.body):
            return "OSS error not an XML Error with Code and RequestId"
        return None
    if req.method == "HEAD":
        return None
    if req.target == "sts" and _xml_error(a.body):
        # Format=XML asks STS for XML answers, errors included (reference: RPC Format parameter).
        return None if "Format=XML" in req.target_path or b"Format=XML" in req.body else "STS XML unasked"
    try:
        doc = json.loads(a.body)
    except ValueError:
        return f"{req.target} error body is not JSON"
    if req.target == "sts":
        return (
            None if isinstance(doc, dict) and {"Code", "RequestId"} <= set(doc) else "STS error without Code"
        )
    return None if isinstance(doc, dict) and "detail" in doc else "app server error without detail"


@dataclass
class Tally:
    requests: int = 0
    server_errors: int = 0
    format_errors: int = 0
    protocol_rejects: int = 0
    hung_up: int = 0
    no_answer: int = 0
    timeouts: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [count, 5xx, format]
    by_status: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def sample(self, req: Req, what: str) -> None:
        if len(self.samples) < 12:
            headers = "; ".join(f"{k}: {v[:40]}" for k, v in req.headers)[:300]
            self.samples.append(f"{what}: {req.kind} {req.method!r} {req.target_path[:120]!r} [{headers!r}]")


def merge(a: Tally, b: Tally) -> None:
    for name in (
        "requests",
        "server_errors",
        "format_errors",
        "protocol_rejects",
        "hung_up",
        "no_answer",
        "timeouts",
    ):
        setattr(a, name, getattr(a, name) + getattr(b, name))
    for k, row in b.by_kind.items():
        mine = a.by_kind.setdefault(k, [0, 0, 0])
        for i in range(3):
            mine[i] += row[i]
    for k, v in b.by_status.items():
        a.by_status[k] = a.by_status.get(k, 0) + v
    a.samples.extend(b.samples[: max(0, 20 - len(a.samples))])
