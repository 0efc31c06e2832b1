"""The local cloud's one XML module: control characters in keys (reference oss-behaviours §2) are read
from the DeleteMultipleObjects body only, and written as character references everywhere."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from alibabacloud_oss_v2.utils import escape_xml_value

from helpers.localcloud.errors import MalformedXML
from helpers.localcloud.xml import build, build_text, parse, parse_with_control_chars

CONTROLS = "".join(chr(c) for c in range(0x01, 0x20)) + "\x7f"


def keys(root: ET.Element) -> list[str | None]:
    return [o.findtext("Key") for o in root.findall("Object")]


def test_references_decimal_hex_and_raw_resolve_to_the_characters() -> None:
    key = "k" + CONTROLS + "中\ue000"   # a private-use character in the key itself stays what it is
    hexed = "".join(f"&#x{ord(c):x};" if ord(c) < 0x20 else c for c in key)
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\r\n<Delete>\r\n  <Quiet>true</Quiet>\r\n'
            f"  <Object><Key>{escape_xml_value(key)}</Key></Object>\r\n"
            f"  <Object><Key>{hexed}</Key></Object>\r\n"
            f"  <Object><Key>{key.replace('&', '&amp;')}</Key></Object>\r\n</Delete>\r\n").encode()
    root = parse_with_control_chars(body)
    assert keys(root) == [key, key, key]
    assert root.findtext("Quiet") == "true"


def test_raw_cr_in_a_key_is_kept_layout_is_not_touched() -> None:
    root = parse_with_control_chars(b"<Delete>\r\n<Object><Key>a\r\nb\r</Key></Object>\r\n</Delete>")
    assert keys(root) == ["a\r\nb\r"]
    assert root.text == "\n"   # whitespace between tags: ordinary XML end-of-line handling


@pytest.mark.parametrize("body", [
    b"<Delete><Object><Key>&#0;</Key></Object></Delete>",
    b"<Delete><Object><Key>&#x110000;</Key></Object></Delete>",
    b"<Delete><Object\x01><Key>a</Key></Object></Delete>",
    b"\x01<Delete><Object><Key>a</Key></Object></Delete>",           # outside the document element
    b"<Delete><Object><Key>a</Key></Object>",
    b"\xfe\xff<Delete/>",
    b'<!DOCTYPE d [<!ENTITY e "x">]><Delete/>',
    b"<Delete>" + b"x" * (2 * 1024 * 1024) + b"</Delete>",
])
def test_malformed_stays_malformed(body: bytes) -> None:
    with pytest.raises(MalformedXML):
        parse_with_control_chars(body)


def test_strict_parse_is_unchanged() -> None:
    for body in (b"<Delete><Object><Key>&#01;</Key></Object></Delete>",
                 b"<Delete><Object><Key>\x01</Key></Object></Delete>"):
        with pytest.raises(MalformedXML):
            parse(body)
    assert parse(b"<a>\r\n</a>").text == "\n"


def test_build_writes_control_characters_as_references() -> None:
    body = build("R", [("Key", "a" + CONTROLS + "中")])
    refs = "".join(f"&#{c};" for c in range(0x01, 0x20) if c not in (0x09, 0x0A))
    expected = "<Key>a" + refs[:refs.index("&#11;")] + "\t\n" + refs[refs.index("&#11;"):] + "\x7f中</Key>"
    assert expected.encode() in body
    assert build_text("R", "x\ry").endswith(b"<R>x&#13;y</R>")
    assert ET.fromstring(build("R", [("Key", "\t\n\r\x7f中")])).findtext("Key") == "\t\n\r\x7f中"
