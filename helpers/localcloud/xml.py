"""The only XML producer and parser of the local cloud (xml.etree.ElementTree, so escaping is automatic).

Build responses with `build(root_tag, children)`, where children is a list of (tag, value) pairs;
a value is a string, an int, a bool (rendered `true`/`false`), None (element skipped), or a nested
list of pairs. Parse request bodies with `parse(body)`, which raises MalformedXML on any error.
This module imports nothing from Starlette.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from helpers.localcloud.errors import MalformedXML, OssError

Value: TypeAlias = "str | int | bool | None | Sequence[tuple[str, Value]]"
Children = Iterable[tuple[str, Value]]

XML_DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Request bodies larger than this are refused before parsing (real OSS caps XML bodies similarly).
MAX_XML_BODY = 2 * 1024 * 1024


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


def build(root_tag: str, children: Children) -> bytes:
    """Serialise a document: XML declaration plus `<root_tag>` with the given children."""
    root = ET.Element(root_tag)
    _fill(root, children)
    return XML_DECL + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def build_text(root_tag: str, text: str) -> bytes:
    """A document whose root element holds only text, e.g. `<LocationConstraint>oss-cn-hangzhou</…>`."""
    root = ET.Element(root_tag)
    root.text = text
    return XML_DECL + ET.tostring(root, encoding="utf-8", xml_declaration=False)


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


def parse(body: bytes) -> ET.Element:
    """Parse a request body; raise MalformedXML for anything that is not a well-formed document."""
    if len(body) > MAX_XML_BODY:
        raise MalformedXML()
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        # No DTDs or entities: they are how XML bombs get in, and OSS schemas use none.
        raise MalformedXML()
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise MalformedXML() from exc


def child_text(el: ET.Element, tag: str, default: str | None = None) -> str | None:
    """The text of the first child `tag` of `el` (empty string for an empty element), else default."""
    found = el.find(tag)
    if found is None:
        return default
    return found.text or ""
