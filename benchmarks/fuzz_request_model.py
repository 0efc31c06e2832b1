"""The fuzz benchmark's request model (`Req`, `Keys`) and the junk values several services' strategies share.

`Req` is one request as the raw client sends it; `Keys` is what signed requests need (handed to each
worker). The tables and strategies below (weird keys, Authorization values, bad base64, text and junk
JSON) are drawn from by the OSS, PostObject, STS and app server strategies alike.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

FUZZ_BUCKET = "fuzz"


# ------------------------------------------------------------------------------------ requests


@dataclass
class Req:
    target: str  # oss | sts | app
    kind: str  # a label for the table
    method: str
    target_path: str  # raw request target (path and query), sent as is
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    content_length: int | None = None  # declared length when it differs from the body
    hang_up: bool = False  # the client sends a truncated body and hangs up
    invalid_http: bool = False  # not valid HTTP/1.1: the server layer may answer before the service
    chunked: bool = False  # send the body chunked (a Transfer-Encoding header is present)

    def encode(self, host: str) -> bytes:
        length = len(self.body) if self.content_length is None else self.content_length
        lines = [f"{self.method} {self.target_path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        body = self.body
        if self.chunked:
            body = (
                b"".join(
                    b"%x\r\n%s\r\n" % (len(body[i : i + 97]), body[i : i + 97])
                    for i in range(0, len(body), 97)
                )
                + b"0\r\n\r\n"
            )
        elif self.method not in ("GET", "HEAD") or self.body or self.content_length is not None:
            lines.append(f"Content-Length: {length}")
        return "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body


@dataclass
class Keys:
    """What signed requests need: keys and a bearer session (handed to each worker)."""

    admin_id: str
    admin_secret: str
    ram_id: str
    ram_secret: str
    bearer: str
    username: str
    oss: tuple[str, int]
    sts: tuple[str, int]
    app: tuple[str, int]
    oss_endpoint: str


WEIRD = [
    "..",
    "../..",
    "%2e%2e",
    ".",
    "",
    "a\x00b",
    "\x01\x1f",
    "\x7f",
    "a/../../etc/passwd",
    "中文",
    "\u202e",
    "a" * 1100,
    "/leading",
    "trailing/",
    "a//b",
    "\\..\\x",
    "%",
    "%ZZ",
    "?q",
    "#frag",
    " ",
    "\t",
]
AUTH_VALUES = [
    "",
    "OSS",
    "OSS :",
    "OSS a:b",
    "OSS4-HMAC-SHA256",
    "OSS4-HMAC-SHA256 Credential=a/b/c,Signature=d",
    "OSS4-HMAC-SHA256 Credential=LTAI/20240101/cn-hangzhou/oss/aliyun_v4_request,"
    "AdditionalHeaders=host;;,Signature=zz",
    "OSS2 AccessKeyId:x,Signature:y",
    "Bearer x",
    "x" * 9000,
    "OSS \x01:\x02",
]
B64_JUNK = [
    "%%%",
    "e30=",
    "eyJjYWxsYmFja1VybCI6MX0=",
    "====",
    "bm90IGpzb24=",
    "W10=",
    "bnVsbA==",
    base64.b64encode(b'{"callbackUrl":"http://127.0.0.1:1/x","callbackBody":"${x}"}').decode(),
    base64.b64encode(b'{"callbackUrl":"","callbackBody":""}').decode(),
    base64.b64encode(b'{"callbackUrl":"ftp://x","callbackBody":"a","callbackBodyType":"bad"}').decode(),
    base64.b64encode(b'{"expiration":"2099-01-01T00:00:00Z","conditions":[["eq"]]}').decode(),
    base64.b64encode(b'{"expiration":"nope","conditions":{}}').decode(),
    base64.b64encode(
        b'{"expiration":"2099-01-01T00:00:00.000Z","conditions":[["content-length-range",'
        b'5,1],{"bucket":"x"},["starts-with","$key",1],["in","$key","x"]]}'
    ).decode(),
    base64.b64encode(
        b'{"expiration":"2099-01-01T00:00:00.000Z","conditions":[["content-length-range",'
        b'"a","b"],["eq","$x-oss-meta-a",{}],["starts-with"]]}'
    ).decode(),
    base64.b64encode(b"\xff" * 20).decode(),
    "a" * 20000,
]

text = st.text(st.characters(min_codepoint=1, max_codepoint=0x2FFF), max_size=40)
junk_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=8,
)
