"""The fuzz benchmark's STS, app server and transport strategies, and `any_request`, which draws any request.

The OSS and PostObject strategies are in `fuzz_requests_oss`; `Req`, `Keys` and the shared junk values
in `fuzz_request_model`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from fuzz_request_model import AUTH_VALUES, FUZZ_BUCKET, WEIRD, Keys, Req, junk_json, text
from fuzz_requests_oss import oss_request, post_object_request
from hypothesis import strategies as st


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
