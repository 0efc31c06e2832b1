"""Fuzz: many malformed requests at the OSS port, the STS port and the app server; no 5xx, no crash.

    .venv/bin/python benchmarks/fuzz.py [--quick] [--requests N] [--workers N] [--out build/bench/fuzz.json]

Starts the real stack (`helpers.stack.up` on a fresh directory). `--workers` processes each run a
hypothesis `@given` (generation phase only, no database, no shrinking: a bad answer is counted and
the run goes on) over one strategy that draws a whole request, and send it over a raw keep-alive
socket (so paths keep `..` and control characters exactly, headers can be huge or invalid, and bodies
can be truncated). Requests cover:

- OSS: unsigned and V1-signed (account owner's key, so requests get past authentication into the
  handlers) with random methods, traversal and control-character keys, sub-resources, bad Range,
  Content-MD5, dates, callbacks (bad base64 and JSON) and user metadata, malformed and huge XML bodies
  (Delete, CompleteMultipartUpload, CORS), PostObject forms with bad policies (bad base64, bad JSON,
  junk conditions, a correct signature over a junk policy), bad multipart framing;
- STS: unsigned and correctly RPC-signed (the app server's RAM key) AssumeRole with junk RoleArn,
  RoleSessionName, Policy and DurationSeconds, wrong methods and bodies;
- app server: login, STS, signed-URL, post-policy, uploads, trace and callback endpoints, with and
  without a valid bearer session, junk JSON, wrong types, traversal keys, bad callback signatures and
  public-key URLs, wrong methods, unknown paths;
- transport: truncated bodies (the client hangs up mid-body), Content-Length far beyond the body,
  huge and very many headers, invalid request lines.

Every answer must be < 500 and in the service's own format: OSS XML with Code and RequestId (a HEAD
error: an `x-oss-err` header) and an `x-oss-request-id` header; STS JSON with Code and RequestId; app
server JSON with `detail`. Requests that are not valid HTTP/1.1 at all (invalid request line or
header bytes) are answered by the HTTP server layer before any service code and are counted apart
(`protocol_rejects`), as are requests the client abandoned on purpose. A crash is a server process
that died or stopped answering its health check. The admin endpoints under `/_localcloud/` (loopback
only: the movable clock) are left out.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import re
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psutil
from benchlib import BENCH_DIR, load_note, machine, table, write_json
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from helpers import stack

FUZZ_BUCKET = "fuzz"


# ------------------------------------------------------------------------------------ raw client


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class RawConn:
    """One keep-alive HTTP/1.1 connection over a plain socket; reconnects when the server closes."""

    def __init__(self, host: str, port: int, timeout: float = 20.0) -> None:
        self.addr = (host, port)
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buf = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buf = None, b""

    def _connect(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection(self.addr, timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.sock

    def _read_more(self) -> bool:
        assert self.sock is not None
        data = self.sock.recv(262144)
        self.buf += data
        return bool(data)

    def _read_until(self, marker: bytes) -> bytes | None:
        while marker not in self.buf:
            if not self._read_more():
                return None
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_n(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._read_more():
                raise ConnectionError("connection closed mid-body")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, payload: bytes, method: str, *, hang_up: bool = False) -> Answer | None:
        """Send raw bytes; read one answer. `hang_up`: shut down writing first (a truncated body)."""
        for attempt in range(2):
            sock = self._connect()
            try:
                sock.sendall(payload)
                if hang_up:
                    sock.shutdown(socket.SHUT_WR)
                answer = self._read_answer(method)
            except (BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt or hang_up:
                    return None
                continue
            if answer is None and attempt == 0 and not hang_up:
                self.close()  # a keep-alive connection the server had closed: once more, fresh
                continue
            if hang_up or answer is None or answer.headers.get("connection", "").lower() == "close":
                self.close()
            return answer
        return None

    def _read_answer(self, method: str) -> Answer | None:
        while True:
            head = self._read_until(b"\r\n\r\n")
            if head is None:
                return None
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            if status != 100:  # "100 Continue" (Expect: 100-continue) comes before the answer
                break
        headers: dict[str, str] = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return Answer(status, headers, b"")
        if "content-length" in headers:
            return Answer(status, headers, self._read_n(int(headers["content-length"])))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size_line = self._read_until(b"\r\n")
                if size_line is None:
                    raise ConnectionError("connection closed mid-chunk")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n")
                    return Answer(status, headers, body)
                body += self._read_n(size)
                self._read_n(2)
        while self._read_more():
            pass
        body, self.buf = self.buf, b""
        self.close()
        return Answer(status, headers, body)


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
SUBRESOURCES = [
    "",
    "acl",
    "uploads",
    "uploadId=ABC",
    "partNumber=1&uploadId=X",
    "partNumber=0&uploadId=X",
    "partNumber=99999&uploadId=X",
    "delete",
    "cors",
    "bucketInfo",
    "location",
    "append&position=0",
    "append&position=-1",
    "objectMeta",
    "list-type=2",
    "encoding-type=url",
    "max-keys=0",
    "max-keys=99999",
    "max-keys=x",
    "continuation-token=%ZZ",
    "prefix=%00",
    "delimiter=%FF",
    "Signature=x&OSSAccessKeyId=y&Expires=1",
    "Expires=99999999999&OSSAccessKeyId=a&Signature=b",
    "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=bad&x-oss-expires=-1&x-oss-credential=a",
    "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=a%2Fb%2Fc%2Fd%2Fe&x-oss-date="
    "20240101T000000Z&x-oss-expires=1&x-oss-signature=00",
    "response-content-type=%0d%0aX:y",
    "response-content-disposition=attachment%3B%0a",
    "x-oss-process=image/resize",
    "tagging",
    "versioning",
    "policy",
    "website",
    "lifecycle",
    "uploads&max-uploads=-1",
    "restore",
    "symlink",
]
XML_BODIES = [
    b"",
    b"<",
    b"<Delete><Object><Key>a</Key></Object>",
    b"<Delete><Quiet>maybe</Quiet></Delete>",
    b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1100 + b"</Delete>",
    b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>",
    b'<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part>'
    b"<Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
    b"<CompleteMultipartUpload></CompleteMultipartUpload>",
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>',
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    b"<a>" * 5000,
    b"\xff\xfe\x00garbage",
    b"<CORSConfiguration><CORSRule><AllowedMethod>NOPE</AllowedMethod></CORSRule></CORSConfiguration>",
    b"<CORSConfiguration>" + b"<CORSRule>"
    b"<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
    * 30
    + b"</CORSConfiguration>",
    b"<AccessControlPolicy><AccessControlList><Grant>x</Grant></AccessControlList></AccessControlPolicy>",
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


def _http_date() -> str:
    return formatdate(usegmt=True)


def _sign_v1(
    keys: Keys, method: str, bucket: str, key: str, params: dict[str, str], headers: dict[str, str]
) -> str:
    """OSS V1 (HMAC-SHA1) over the canonical resource, as oss2.Auth signs (reference §4)."""
    oss_headers = sorted((k.lower(), v) for k, v in headers.items() if k.lower().startswith("x-oss-"))
    canon_headers = "".join(f"{k}:{v}\n" for k, v in oss_headers)
    sub = "&".join(k if v == "" else f"{k}={v}" for k, v in sorted(params.items()))
    resource = f"/{bucket}/{key}" if bucket else "/"
    if sub:
        resource += "?" + sub
    to_sign = "\n".join(
        [
            method,
            headers.get("Content-MD5", ""),
            headers.get("Content-Type", ""),
            headers.get("Date", ""),
            canon_headers + resource,
        ]
    )
    mac = hmac.new(keys.admin_secret.encode(), to_sign.encode("utf-8", "surrogateescape"), hashlib.sha1)
    return f"OSS {keys.admin_id}:{base64.b64encode(mac.digest()).decode()}"


def _query(params: dict[str, str]) -> str:
    return "&".join(k if v == "" else f"{k}={quote(v, safe='')}" for k, v in params.items())


@st.composite
def oss_request(draw: st.DrawFn, keys: Keys) -> Req:
    signed = draw(st.booleans())
    bucket = draw(
        st.sampled_from(
            [
                FUZZ_BUCKET,
                FUZZ_BUCKET,
                "workbook",
                "",
                "nosuchbucket1",
                "UPPER",
                "a",
                "x" * 70,
                "-bad-",
                "fuzz..",
            ]
        )
    )
    key = draw(
        st.one_of(
            text, st.sampled_from(WEIRD), st.lists(st.sampled_from(WEIRD + ["k"]), max_size=4).map("/".join)
        )
    )
    encode = draw(st.sampled_from(["quote", "quote", "raw-dots", "raw"]))
    if encode == "quote":
        wire_key = quote(key, safe="/")
    elif encode == "raw-dots":  # dot segments kept literally in the path
        wire_key = quote(key, safe="/.")
    else:
        wire_key = key
    path = f"/{bucket}/{wire_key}" if bucket else "/" + wire_key
    sub = draw(st.sampled_from(SUBRESOURCES))
    params: dict[str, str] = {}
    for item in filter(None, sub.split("&")):
        k, _, v = item.partition("=")
        params[k] = v
    method = draw(
        st.sampled_from(
            [
                "GET",
                "PUT",
                "POST",
                "DELETE",
                "HEAD",
                "OPTIONS",
                "PATCH",
                "TRACE",
                "PROPFIND",
                "CONNECT",
                "get",
            ]
        )
    )
    headers: dict[str, str] = {}
    for name, values in (
        ("Content-MD5", st.sampled_from(["", "!!!", "AAAA", "1B2M2Y8AsgTpgAmY7PhCfg==", "a" * 300])),
        (
            "Range",
            st.sampled_from(
                [
                    "bytes=",
                    "bytes=5-1",
                    "bytes=-0",
                    "items=0-1",
                    "bytes=0-0,1-1",
                    "bytes=99999999999999999999-",
                    "bytes=--1",
                ]
            ),
        ),
        ("x-oss-callback", st.sampled_from(B64_JUNK)),
        ("x-oss-callback-var", st.sampled_from(B64_JUNK)),
        (
            "Content-Type",
            st.sampled_from(
                [
                    "multipart/form-data",
                    "multipart/form-data; boundary=x",
                    "application/xml",
                    "text/plain; charset=\x01",
                    "a" * 5000,
                ]
            ),
        ),
        (
            "x-oss-meta-" + draw(st.sampled_from(["a", "é", "A_B", ""])),
            st.sampled_from(["v", "é", "x" * 9000]),
        ),
        ("x-oss-object-acl", st.sampled_from(["private", "nope", ""])),
        ("x-oss-storage-class", st.sampled_from(["Standard", "Glacier", "x"])),
        ("x-oss-forbid-overwrite", st.sampled_from(["true", "maybe"])),
        ("x-oss-copy-source", st.sampled_from(["/fuzz/a", "/../../x", "%ZZ", "/nosuch/b", ""])),
        ("x-oss-copy-source-range", st.sampled_from(["bytes=0-1", "bytes=x"])),
        ("If-Modified-Since", st.sampled_from(["yesterday", "Mon, 01 Jan 1990 00:00:00 GMT"])),
        ("If-Match", st.sampled_from(['"x"', "*", ""])),
        ("Origin", st.sampled_from(["http://a", "null", "\x7f"])),
        ("Access-Control-Request-Method", st.sampled_from(["GET", "NOPE", ""])),
        ("x-oss-date", st.sampled_from(["", "yesterday", "Mon, 01 Jan 1990 00:00:00 GMT"])),
        ("x-oss-security-token", st.sampled_from(["", "junk", "a" * 3000])),
        ("Expect", st.sampled_from(["100-continue", "nothing"])),
        ("Transfer-Encoding", st.sampled_from(["chunked", "chunked", "gzip, chunked"])),
    ):
        if draw(st.integers(0, 5)) == 0:
            headers[name] = draw(values)
    body = draw(st.one_of(st.sampled_from(XML_BODIES), st.binary(max_size=300)))
    if signed:
        headers["Date"] = _http_date()
        headers.pop("x-oss-date", None)
        headers["Authorization"] = _sign_v1(keys, method, bucket, key, params, headers)
    elif draw(st.booleans()):
        headers["Authorization"] = draw(st.sampled_from(AUTH_VALUES))
    req = Req(
        "oss",
        f"oss {'signed' if signed else 'unsigned'}",
        method,
        path + ("?" + _query(params) if params else ""),
        list(headers.items()),
        body,
    )
    if "Transfer-Encoding" in headers:  # a body in chunks (the SDKs stream files this way)
        req.kind, req.chunked = "oss chunked body", True
    if not all(_TOKEN.fullmatch(k) for k, _ in req.headers):
        req.invalid_http = True  # a header name outside the HTTP token characters (e.g. x-oss-meta-é)
    if encode == "raw" or any(
        ord(c) < 32 or ord(c) == 127 for c in req.target_path + "".join(k + v for k, v in req.headers)
    ):
        req.invalid_http = True
    return req


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _form(fields: list[tuple[str, str | bytes]], boundary: str) -> bytes:
    out = b""
    for name, value in fields:
        data = value if isinstance(value, bytes) else value.encode()
        disp = f'form-data; name="{name}"' + ('; filename="f.bin"' if name == "file" else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


@st.composite
def post_object_request(draw: st.DrawFn, keys: Keys) -> Req:
    policy = draw(
        st.one_of(
            st.sampled_from(B64_JUNK),
            junk_json.map(lambda j: base64.b64encode(json.dumps(j).encode()).decode()),
        )
    )
    fields: list[tuple[str, str | bytes]] = []
    for name, values in (
        ("key", st.one_of(text, st.sampled_from(WEIRD + ["${filename}", "u/${filename}"]))),
        ("policy", st.just(policy)),
        ("OSSAccessKeyId", st.sampled_from([keys.admin_id, "x", ""])),
        ("success_action_status", st.sampled_from(["200", "201", "204", "999", "x"])),
        ("callback", st.sampled_from(B64_JUNK)),
        ("x-oss-meta-a", text),
        ("x-oss-signature-version", st.sampled_from(["OSS4-HMAC-SHA256", "x"])),
        ("x-oss-credential", st.sampled_from(["a/b/c/d/e", ""])),
        ("Content-Type", text),
    ):
        if draw(st.integers(0, 3)) > 0:
            fields.append((name, draw(values)))
    if draw(st.booleans()):  # a correct signature over whatever policy was drawn
        sig = base64.b64encode(hmac.new(keys.admin_secret.encode(), policy.encode(), hashlib.sha1).digest())
        fields.append(("Signature", sig.decode()))
    if draw(st.integers(0, 4)) > 0:
        fields.append(("file", draw(st.binary(max_size=500))))
    if draw(st.booleans()):
        fields.append(("after-file", "ignored"))
    boundary = draw(st.sampled_from(["bOuNdArY", "x", "a" * 80]))
    body = _form(fields, boundary)
    framing = draw(st.sampled_from(["ok", "ok", "truncate", "no-final", "wrong-boundary", "no-boundary"]))
    ctype = f"multipart/form-data; boundary={boundary}"
    if framing == "truncate":
        body = body[: draw(st.integers(0, max(0, len(body) - 1)))]
    elif framing == "no-final":
        body = body.rsplit(b"--" + boundary.encode() + b"--", 1)[0]
    elif framing == "wrong-boundary":
        ctype = "multipart/form-data; boundary=other"
    elif framing == "no-boundary":
        ctype = "multipart/form-data"
    bucket = draw(st.sampled_from([FUZZ_BUCKET, "workbook", "nosuchbucket1"]))
    return Req("oss", "oss post-object", "POST", f"/{bucket}/", [("Content-Type", ctype)], body)


def _pe(value: str) -> str:
    return quote(value, safe="~")


@st.composite
def sts_request(draw: st.DrawFn, keys: Keys) -> Req:
    params = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "Action",
                    "Version",
                    "RoleArn",
                    "RoleSessionName",
                    "Policy",
                    "DurationSeconds",
                    "Format",
                    "ExternalId",
                    "x",
                ]
            ),
            st.one_of(
                text,
                st.sampled_from(
                    [
                        "AssumeRole",
                        "2015-04-01",
                        "JSON",
                        "XML",
                        "-1",
                        "900",
                        "99999999999",
                        "1e3",
                        '{"Version":"1","Statement":[{"Effect":"Allow","Action":"*"}]}',
                        '{"Statement":"x"}',
                        "{",
                        "acs:ram::1:role/x",
                        "a" * 3000,
                    ]
                ),
            ),
            max_size=7,
        )
    )
    signed = draw(st.booleans())
    method = draw(st.sampled_from(["GET", "POST", "POST", "PUT", "DELETE", "HEAD", "PATCH"]))
    headers: list[tuple[str, str]] = []
    if signed:
        params.setdefault("Action", "AssumeRole")
        params.update(
            {
                "AccessKeyId": keys.ram_id,
                "SignatureMethod": "HMAC-SHA1",
                "SignatureVersion": "1.0",
                "SignatureNonce": uuid.uuid4().hex,
                "Format": params.get("Format", "JSON"),
                "Version": params.get("Version", "2015-04-01"),
                "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
        canonical = "&".join(f"{_pe(k)}={_pe(v)}" for k, v in sorted(params.items()))
        to_sign = f"{method}&{_pe('/')}&{_pe(canonical)}"
        mac = hmac.new((keys.ram_secret + "&").encode(), to_sign.encode(), hashlib.sha1)
        params["Signature"] = base64.b64encode(mac.digest()).decode()
    query = "&".join(f"{_pe(k)}={_pe(v)}" for k, v in params.items())
    body = b""
    if method == "POST" and draw(st.booleans()):
        body, query = query.encode(), ""
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif draw(st.booleans()):
        body = draw(st.binary(max_size=300))
        headers.append(
            (
                "Content-Type",
                draw(
                    st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain"])
                ),
            )
        )
    if draw(st.integers(0, 3)) == 0:
        headers.append(
            ("Authorization", draw(st.sampled_from(AUTH_VALUES + ["ACS3-HMAC-SHA256 Credential=x"])))
        )
    path = draw(st.sampled_from(["/", "/", "/", "/x", "/..", "//"]))
    return Req(
        "sts",
        f"sts {'signed' if signed else 'unsigned'}",
        method,
        path + ("?" + query if query else ""),
        headers,
        body,
    )


APP_PATHS = [
    "/api/login",
    "/api/sts",
    "/api/signed-url",
    "/api/post-policy",
    "/api/uploads",
    "/api/trace",
    "/api/callback",
    "/api/nope",
    "/api/",
    "/docs",
    "/openapi.json",
    "/static/../../etc/passwd",
    "/%2e%2e/x",
    "/favicon.ico",
]


@st.composite
def app_request(draw: st.DrawFn, keys: Keys) -> Req:
    path = draw(st.sampled_from(APP_PATHS))
    method = draw(st.sampled_from(["GET", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]))
    query = draw(
        st.sampled_from(
            [
                "",
                "scope=upload",
                "scope=download",
                "scope=admin",
                "scope=",
                "since=-1",
                "since=x",
                "since=99999999999999999999999",
                "scope=%00",
            ]
        )
    )
    headers: list[tuple[str, str]] = []
    auth = draw(st.sampled_from(["valid", "valid", "none", "junk"]))
    if auth == "valid":
        headers.append(("Authorization", f"Bearer {keys.bearer}"))
    elif auth == "junk":
        headers.append(
            (
                "Authorization",
                draw(
                    st.sampled_from(
                        [
                            "Bearer",
                            "Bearer x.y.z",
                            "Bearer " + "a" * 2000,
                            "Basic Zm9vOmJhcg==",
                            "Bearer wb1.e30.AAAA",
                            "Bearer " + keys.bearer[:-3] + "AAA",
                        ]
                    )
                ),
            )
        )
    body_kind = draw(st.sampled_from(["json-model", "json-junk", "bytes", "none", "callback"]))
    if body_kind == "json-model":
        doc = {
            k: draw(v)
            for k, v in (
                ("username", st.sampled_from([keys.username, "", "x" * 100, "../../a"])),
                ("password", st.sampled_from(["", "wrong", "x" * 300])),
                ("method", st.sampled_from(["PUT", "GET", "DELETE", 1])),
                ("key", st.one_of(text, st.sampled_from(WEIRD + ["users/other/x", "../../users/x"]))),
                (
                    "content_type",
                    st.one_of(st.none(), text, st.sampled_from(["a" * 200, "text/plain\r\nX: y"])),
                ),
                ("expires", st.one_of(st.none(), st.integers(-5, 10**12), st.sampled_from(["x", 1.5]))),
                ("download_name", st.one_of(st.none(), text, st.sampled_from(['a"b', "a\r\nb", "x" * 300]))),
                ("signature_version", st.sampled_from(["v4", "v1", "v2", None])),
                ("callback", st.sampled_from([True, False, "yes"])),
                ("max_size", st.one_of(st.none(), st.integers(-1, 10**15))),
                ("extra", junk_json),
            )
            if draw(st.booleans())
        }
        body = json.dumps(doc).encode()
        headers.append(("Content-Type", "application/json"))
    elif body_kind == "json-junk":
        body = json.dumps(draw(junk_json)).encode()
        headers.append(("Content-Type", "application/json"))
    elif body_kind == "bytes":
        body = draw(st.sampled_from([b"{", b"\xff\xfe", b"[]" * 5000, b'{"a":' * 200, b"null"]))
        headers.append(("Content-Type", draw(st.sampled_from(["application/json", "text/plain", "x/y"]))))
    elif body_kind == "callback":
        path = "/api/callback"
        method = "POST"
        body = draw(
            st.sampled_from(
                [
                    b"bucket=fuzz&object=users%2Fx%2Fa&size=1&mimeType=a&etag=x",
                    b"object=../../x&size=-1",
                    b"%%%",
                    b"",
                ]
            )
        )
        key_url = draw(
            st.sampled_from(
                [
                    keys.oss_endpoint + "/_localcloud/callback-pub-key.pem",
                    "http://evil.example/k.pem",
                    "https://gosspublic.alicdn.com.evil/x",
                    "file:///etc/passwd",
                    "\x00",
                    "http://127.0.0.1:1/x",
                ]
            )
        )
        headers += [
            ("Content-Type", "application/x-www-form-urlencoded"),
            (
                "x-oss-pub-key-url",
                draw(st.sampled_from([base64.b64encode(key_url.encode()).decode(), "%%%", ""])),
            ),
            (
                "Authorization",
                draw(st.sampled_from(["", "AAAA", "!!", base64.b64encode(b"x" * 64).decode()])),
            ),
        ]
    else:
        body = b""
    if draw(st.integers(0, 9)) == 0:
        headers.append(("X-Huge", "h" * draw(st.sampled_from([1000, 20000, 60000]))))
    return Req("app", f"app {body_kind}", method, path + ("?" + query if query else ""), headers, body)


@st.composite
def transport_request(draw: st.DrawFn, keys: Keys) -> Req:
    target = draw(st.sampled_from(["oss", "sts", "app"]))
    kind = draw(st.sampled_from(["truncated", "overlong", "huge-header", "many-headers", "bad-line"]))
    path = {"oss": f"/{FUZZ_BUCKET}/t", "sts": "/", "app": "/api/login"}[target]
    method = draw(st.sampled_from(["PUT", "POST"]))
    if kind == "truncated":
        body = draw(st.binary(min_size=1, max_size=200))
        return Req(
            target,
            "transport truncated body",
            method,
            path,
            [],
            body,
            content_length=len(body) + draw(st.integers(1, 10**6)),
            hang_up=True,
        )
    if kind == "overlong":
        return Req(
            target,
            "transport overlong length",
            method,
            path,
            [],
            b"x" * 10,
            content_length=draw(st.sampled_from([10**12, 2**63 - 1])),
            hang_up=True,
        )
    if kind == "huge-header":
        return Req(
            target,
            "transport huge header",
            "GET",
            path,
            [("X-Big", "v" * draw(st.sampled_from([8000, 70000, 300000])))],
        )
    if kind == "many-headers":
        return Req(
            target,
            "transport many headers",
            "GET",
            path,
            [(f"X-H{i}", "v") for i in range(draw(st.sampled_from([100, 1000, 5000])))],
        )
    line = draw(
        st.sampled_from(
            [
                "GET",
                "GET /x HTTP/9.9",
                "\x00\x01",
                "GET /x",
                "G\tET / HTTP/1.1",
                "GET http://evil/ HTTP/1.1",
                "GET * HTTP/1.1",
            ]
        )
    )
    return Req(target, "transport bad request line", line, "", invalid_http=True)


def any_request(keys: Keys) -> st.SearchStrategy[Req]:
    return st.one_of(
        oss_request(keys),
        oss_request(keys),
        post_object_request(keys),
        sts_request(keys),
        app_request(keys),
        app_request(keys),
        transport_request(keys),
    )


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


def send_one(conns: dict[str, RawConn], req: Req, t: Tally) -> None:
    t.requests += 1
    row = t.by_kind.setdefault(req.kind, [0, 0, 0])
    row[0] += 1
    conn = conns[req.target]
    payload = req.encode(f"{conn.addr[0]}:{conn.addr[1]}")
    try:
        answer = conn.send(payload, req.method, hang_up=req.hang_up)
    except TimeoutError:
        conn.close()
        t.timeouts += 1
        t.sample(req, "timeout")
        return
    except (ConnectionError, OSError, ValueError, IndexError):
        conn.close()
        answer = None
    if answer is None:
        if req.hang_up:
            t.hung_up += 1
        elif req.invalid_http:
            t.protocol_rejects += 1
        else:
            t.no_answer += 1
            t.sample(req, "no answer")
        return
    t.by_status[str(answer.status)] = t.by_status.get(str(answer.status), 0) + 1
    if answer.status >= 500:
        t.server_errors += 1
        row[1] += 1
        t.sample(req, f"{answer.status} {answer.body[:200]!r}")
        return
    problem = format_problem(req, answer)
    if problem is None:
        return
    if answer.status == 400 and answer.body == PROTOCOL_REJECT:
        t.protocol_rejects += 1  # the HTTP parser refused the bytes: no service code ran
        return
    if req.invalid_http or req.hang_up or req.kind.startswith("transport"):
        t.protocol_rejects += 1  # answered by the HTTP layer (uvicorn), before any service code
        return
    t.format_errors += 1
    row[2] += 1
    t.sample(req, f"{problem} ({answer.status} {answer.body[:160]!r})")


def worker(args: tuple[Keys, int, int]) -> Tally:
    keys, count, seed = args
    conns = {"oss": RawConn(*keys.oss), "sts": RawConn(*keys.sts), "app": RawConn(*keys.app)}
    tally = Tally()

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(req=any_request(keys))
    def drive(req: Req) -> None:
        send_one(conns, req, tally)

    drive()
    # hypothesis may stop a little short of max_examples (duplicates); top up with fresh draws.
    while tally.requests < count:
        drive()
    for c in conns.values():
        c.close()
    return tally


# ------------------------------------------------------------------------------------ the run


def _healthy(info: stack.StackInfo) -> dict[str, bool]:
    out = {}
    for name, url in (
        ("oss", info.oss_endpoint + "/_localcloud/health"),
        ("sts", info.sts_endpoint + "/"),
        ("app", (info.appserver_url or "") + "/openapi.json"),
    ):
        try:
            out[name] = httpx.get(url, timeout=10, trust_env=False).status_code < 500
        except httpx.HTTPError:
            out[name] = False
    return out


def _hostport(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def run(total: int, workers: int, chunks: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fuzz-bench-") as tmp_name:
        directory = Path(tmp_name)
        info = stack.up(directory, timeout=60)
        try:
            import oss2

            from helpers.client.appserver_api import AppServerClient

            creds = json.loads(Path(info.credentials_file).read_text(encoding="utf-8"))
            oss2.Bucket(
                oss2.Auth(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"]),
                info.oss_endpoint,
                FUZZ_BUCKET,
            ).create_bucket()
            user = creds["app_users"][0]
            with AppServerClient(info.appserver_url or "") as api:
                bearer = api.login(user["username"], user["password"]).access_token
            keys = Keys(
                creds["admin"]["access_key_id"],
                creds["admin"]["access_key_secret"],
                creds["appserver"]["access_key_id"],
                creds["appserver"]["access_key_secret"],
                bearer,
                user["username"],
                _hostport(info.oss_endpoint),
                _hostport(info.sts_endpoint),
                _hostport(info.appserver_url or ""),
                info.oss_endpoint,
            )
            pids = {"localcloud": info.localcloud_pid, "appserver": info.appserver_pid or 0}
            total_tally = Tally()
            crashes = 0
            health_failures: list[str] = []
            t0 = time.perf_counter()
            per_chunk = -(-total // chunks)
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(workers) as pool:
                done = 0
                while done < total:
                    n = min(per_chunk, total - done)
                    shares = [n // workers + (1 if i < n % workers else 0) for i in range(workers)]
                    jobs = [(keys, s, int.from_bytes(os.urandom(4), "big")) for s in shares if s]
                    for t in pool.map(worker, jobs):
                        _merge(total_tally, t)
                    done += n
                    dead = [
                        name
                        for name, pid in pids.items()
                        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
                    ]
                    sick = [name for name, ok in _healthy(info).items() if not ok]
                    if dead or sick:
                        crashes += len(dead) + (len(sick) if not dead else 0)
                        health_failures.append(f"after {done} requests: dead {dead}, not answering {sick}")
                        break
            wall = time.perf_counter() - t0
        finally:
            stack.down(directory)
    return {"tally": total_tally, "crashes": crashes, "health_failures": health_failures, "wall_s": wall}


def _merge(a: Tally, b: Tally) -> None:
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/fuzz.py", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--quick", action="store_true", help="2,000 requests (seconds)")
    p.add_argument("--requests", type=int, default=None)
    p.add_argument("--workers", type=int, default=3, help="client processes")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "fuzz.json")
    args = p.parse_args(argv)
    total = args.requests or (2_000 if args.quick else 100_000)
    chunks = 1 if total <= 5_000 else 10
    r = run(total, args.workers, chunks)
    t: Tally = r["tally"]
    print(
        table(
            ["request kind", "count", "5xx", "format errors"],
            [[k, *row] for k, row in sorted(t.by_kind.items())],
        )
    )
    print()
    summary = {
        "fuzz_requests": t.requests,
        "fuzz_server_errors": t.server_errors,
        "fuzz_crashes": r["crashes"],
    }
    extra = {
        "format_errors": t.format_errors,
        "protocol_rejects": t.protocol_rejects,
        "hung_up_on_purpose": t.hung_up,
        "no_answer": t.no_answer,
        "timeouts": t.timeouts,
    }
    rate = t.requests / r["wall_s"] if r["wall_s"] else 0.0
    print(
        table(
            ["figure", "value"],
            [[k, v] for k, v in {**summary, **extra}.items()]
            + [["requests/s", round(rate)], ["wall s", round(r["wall_s"], 1)], ["workers", args.workers]],
        )
    )
    print("statuses:", ", ".join(f"{k}: {v}" for k, v in sorted(t.by_status.items())))
    for s in t.samples[:12]:
        print("  sample:", s)
    for h in r["health_failures"]:
        print("  CRASH:", h)
    print(f"\n{load_note()}")
    doc = {
        "benchmark": "fuzz",
        "quick": args.quick,
        "machine": machine(),
        "summary": summary,
        "checks": extra,
        "requests_per_s": round(rate, 1),
        "wall_s": round(r["wall_s"], 1),
        "workers": args.workers,
        "by_kind": t.by_kind,
        "by_status": t.by_status,
        "samples": t.samples,
        "health_failures": r["health_failures"],
    }
    write_json(args.out, doc)
    print(f"figures written to {args.out}")
    bad = t.server_errors + r["crashes"] + t.format_errors + t.no_answer + t.timeouts
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
