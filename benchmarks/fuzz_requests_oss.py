"""The fuzz benchmark's OSS strategies: V1-signed and unsigned OSS requests, and PostObject forms.

With the OSS-only tables they draw from (sub-resources, XML bodies) and the V1 signing helpers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from email.utils import formatdate
from urllib.parse import quote

from fuzz_request_model import AUTH_VALUES, B64_JUNK, FUZZ_BUCKET, WEIRD, Keys, Req, junk_json, text
from hypothesis import strategies as st

from helpers.protocol import post_form

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
        fields.append(("Signature", post_form.sign_v1(keys.admin_secret, policy)))
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
