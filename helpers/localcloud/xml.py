"""The only XML producer and parser of the local cloud (xml.etree.ElementTree, so escaping is automatic).

Build responses with `build(root_tag, children)`, where children is a list of (tag, value) pairs;
a value is a string, an int, a bool (rendered `true`/`false`), None (element skipped), or a nested
list of pairs. Parse request bodies with `parse(body)`, which raises MalformedXML on any error;
`parse_with_control_chars(body)` is the one exception, for the DeleteMultipleObjects body (reference §2).
This module imports nothing from Starlette.
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from helpers.localcloud.errors import MalformedXML, OssError

Value: TypeAlias = "str | int | bool | None | Sequence[tuple[str, Value]]"
Children = Iterable[tuple[str, Value]]

XML_DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Request bodies larger than this are refused before parsing (real OSS caps XML bodies similarly).
MAX_XML_BODY = 2 * 1024 * 1024

# C0 characters XML 1.0 forbids, plus CR, which a parser would turn into LF (end-of-line handling).
# Object keys may hold any of them (reference §2).
_XML_UNSAFE_OUT = re.compile(rb"[\x01-\x08\x0b-\x1f]")
_XML_ILLEGAL = frozenset([*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}));")
_TEXT_RUN = re.compile(r">([^<]*)<")


def _fill(parent: ET.Element, children: Children) -> None:
    for tag, value in children:
        if value is None:
            continue
        el = ET.SubElement(parent, tag)
        if isinstance(value, bool):
            el.text = "true" if value else "false"
        elif isinstance(value, int | str):
            el.text = str(value)
        else:
            _fill(el, value)


def _serialise(root: ET.Element) -> bytes:
    # ElementTree writes control characters raw. They can only come from text (a key without
    # encoding-type=url), so each becomes a numeric character reference, as S3 writes them
    # [unverified for OSS: no SDK test reads such a response; Python's expat refuses `&#1;` as it
    # refuses a raw 0x01, but `&#13;` keeps a CR that a raw CR would lose].
    out = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return XML_DECL + _XML_UNSAFE_OUT.sub(lambda m: b"&#%d;" % m.group()[0], out)


def build(root_tag: str, children: Children) -> bytes:
    """Serialise a document: XML declaration plus `<root_tag>` with the given children."""
    root = ET.Element(root_tag)
    _fill(root, children)
    return _serialise(root)


def build_text(root_tag: str, text: str) -> bytes:
    """A document whose root element holds only text, e.g. `<LocationConstraint>oss-cn-hangzhou</…>`."""
    root = ET.Element(root_tag)
    root.text = text
    return _serialise(root)


def render_error(err: OssError, *, request_id: str, host_id: str) -> bytes:
    """The `<Error>` body real OSS sends: Code, Message, RequestId, HostId, extras, EC, RecommendDoc."""
    children: list[tuple[str, Value]] = [("Code", err.code), ("Message", err.message),
                                         ("RequestId", request_id), ("HostId", host_id)]
    children.extend(err.extra.items())
    children.append(("EC", err.ec))
    children.append(("RecommendDoc", f"https://api.aliyun.com/troubleshoot?q={err.ec}"))
    return build("Error", children)


def error_header_value(body: bytes) -> str:
    """The `x-oss-err` header for HEAD errors: the error XML, base64-encoded."""
    return base64.b64encode(body).decode("ascii")


def _check_safe(body: bytes) -> None:
    if len(body) > MAX_XML_BODY:
        raise MalformedXML()
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        # No DTDs or entities: they are how XML bombs get in, and OSS schemas use none.
        raise MalformedXML()


def parse(body: bytes) -> ET.Element:
    """Parse a request body; raise MalformedXML for anything that is not a well-formed document."""
    _check_safe(body)
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise MalformedXML() from exc


def parse_with_control_chars(body: bytes) -> ET.Element:
    """`parse`, except that element text may carry the C0 characters XML 1.0 forbids, which object keys
    hold (reference §2): as character references, decimal or hex (`&#01;` from the v2 SDK, `&#x01;` from
    the Go SDK), or raw (oss2 writes them unescaped [IT oss2-t test_chinese.py: a raw 0x0C in a
    batch-delete key]). A raw CR in text is kept as CR, not turned into LF [unverified], so the key
    oss2 names is the key deleted. Same size and DTD limits as `parse`; tags and everything else
    are parsed as strictly as ever, and a reference to NUL is still MalformedXML.
    """
    _check_safe(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedXML() from exc
    # Each such character travels through expat as a private-use stand-in absent from the document.
    present = set(text)
    wanted = sorted(_XML_ILLEGAL | {0x0D})
    pool = (chr(cp) for cp in range(0xE000, 0xF900) if chr(cp) not in present)
    stand_in = {cp: next(pool) for cp in wanted}
    back = {ord(v): chr(k) for k, v in stand_in.items()}

    def ref(m: re.Match[str]) -> str:
        cp = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        return stand_in[cp] if cp in _XML_ILLEGAL else m.group()

    def run(m: re.Match[str]) -> str:
        if not m.group(1).strip(" \t\r\n"):
            return m.group()   # layout between tags (CRLF line ends, also in the prolog) stays as it is
        raw = "".join(stand_in.get(ord(ch), ch) for ch in m.group(1))
        return ">" + _CHAR_REF.sub(ref, raw) + "<"

    try:
        root = ET.fromstring(_TEXT_RUN.sub(run, text).encode("utf-8"))
    except ET.ParseError as exc:
        raise MalformedXML() from exc
    for el in root.iter():
        if el.text:
            el.text = el.text.translate(back)
        if el.tail:
            el.tail = el.tail.translate(back)
    return root


def child_text(el: ET.Element, tag: str, default: str | None = None) -> str | None:
    """The text of the first child `tag` of `el` (empty string for an empty element), else default."""
    found = el.find(tag)
    if found is None:
        return default
    return found.text or ""
