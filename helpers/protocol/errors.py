"""OSS error documents, as a client reads them (OSS "Error responses"; reference §9.4).

    <Error><Code>AccessDenied</Code><Message>...</Message><RequestId>...</RequestId>
           <HostId>...</HostId><EC>0003-00000001</EC><RecommendDoc>https://...</RecommendDoc></Error>

A HEAD answer has no body: OSS sends the same document base64-encoded in `x-oss-err` (and the EC in
`x-oss-ec`, the request id in `x-oss-request-id`). STS and RAM answer JSON with the same names
(`Code`, `Message`, `RequestId`, `HostId`), which `parse_error` reads too.
"""

from __future__ import annotations

import base64
import binascii
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field

ERR_HEADER = "x-oss-err"
EC_HEADER = "x-oss-ec"
REQUEST_ID_HEADER = "x-oss-request-id"


@dataclass(frozen=True, slots=True)
class ErrorDoc:
    """The fields of one error answer ('' when absent); `fields` holds every child as sent."""

    code: str = ""
    message: str = ""
    request_id: str = ""
    host_id: str = ""
    ec: str = ""
    recommend_doc: str = ""
    fields: dict[str, str] = field(default_factory=dict)


def error_fields(body: bytes) -> dict[str, str]:
    """Children of an XML `<Error>` document; {} when `body` is not one."""
    try:
        root = ET.fromstring(body) if body else None
    except ET.ParseError:
        return {}
    if root is None or root.tag != "Error":
        return {}
    return {child.tag: (child.text or "").strip() for child in root}


def _json_fields(body: bytes) -> dict[str, str]:
    try:
        doc = json.loads(body)
    except ValueError:
        return {}
    if not isinstance(doc, dict) or not isinstance(doc.get("Code"), str):
        return {}
    return {k: v for k, v in doc.items() if isinstance(v, str)}


def decode_err_header(value: str | None) -> bytes:
    """The XML document a HEAD answer carries base64-encoded in `x-oss-err`; b'' if absent or bad."""
    if not value:
        return b""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return b""


def parse_error(body: bytes, headers: Mapping[str, str] | None = None) -> ErrorDoc | None:
    """The error an answer carries (XML body, JSON body, or the `x-oss-err` header of a bodiless
    answer), the EC and request id falling back on their headers; None when there is no document."""
    if not body and headers is not None:
        body = decode_err_header(headers.get(ERR_HEADER))
    fields = _json_fields(body) if body[:1] == b"{" else error_fields(body)
    if not fields:
        return None
    hdrs: Mapping[str, str] = headers or {}
    return ErrorDoc(code=fields.get("Code", ""), message=fields.get("Message", ""),
                    request_id=fields.get("RequestId") or hdrs.get(REQUEST_ID_HEADER, ""),
                    host_id=fields.get("HostId", ""), ec=fields.get("EC") or hdrs.get(EC_HEADER, ""),
                    recommend_doc=fields.get("RecommendDoc", ""), fields=fields)
