"""Bad input never gets a 500 or a traceback: every answer is in the service's own error format.

Property-based (hypothesis) over raw HTTP requests to the OSS and STS ports: random methods, paths,
queries, headers and bodies, including malformed XML, bad base64, huge headers and control characters.
A small, fast version; the long run belongs to the benchmarks.
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.localcloud.server import LocalCloudServer

METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"]
SUBRESOURCES = [
    "",
    "acl",
    "uploads",
    "uploadId=ABC",
    "partNumber=1&uploadId=X",
    "delete",
    "cors",
    "bucketInfo",
    "location",
    "append&position=0",
    "objectMeta",
    "list-type=2",
    "encoding-type=url",
    "max-keys=0",
    "max-keys=99999",
    "continuation-token=%ZZ",
    "Signature=x&OSSAccessKeyId=y&Expires=1",
    "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=bad&x-oss-expires=-1&x-oss-credential=a",
]
XML_BODIES = [
    b"",
    b"<",
    b"<Delete><Object><Key>a</Key></Object>",
    b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>",
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>',
    b"\xff\xfe\x00garbage",
    b"<CORSConfiguration><CORSRule><AllowedMethod>NOPE</AllowedMethod></CORSRule></CORSConfiguration>",
]
AUTH_VALUES = [
    "",
    "OSS",
    "OSS :",
    "OSS a:b",
    "OSS4-HMAC-SHA256",
    "OSS4-HMAC-SHA256 Credential=a/b/c,Signature=d",
    "OSS2 AccessKeyId:x,Signature:y",
    "Bearer x",
    "x" * 9000,
]

text = st.text(st.characters(min_codepoint=1, max_codepoint=0x2FFF), max_size=40)


@st.composite
def oss_requests(draw: st.DrawFn) -> dict[str, Any]:
    segs = draw(st.lists(text, max_size=3))
    path = "/" + "/".join(quote(s, safe="") for s in segs)
    if draw(st.booleans()):
        path = "/workbook" + path
    query = draw(st.sampled_from(SUBRESOURCES))
    headers = {}
    if draw(st.booleans()):
        headers["Authorization"] = draw(st.sampled_from(AUTH_VALUES))
    if draw(st.booleans()):
        headers["Content-MD5"] = draw(st.sampled_from(["", "!!!", "AAAA", "1B2M2Y8AsgTpgAmY7PhCfg=="]))
    if draw(st.booleans()):
        headers["x-oss-date"] = draw(st.sampled_from(["", "yesterday", "Mon, 01 Jan 1990 00:00:00 GMT"]))
    if draw(st.booleans()):
        headers["Range"] = draw(
            st.sampled_from(["bytes=", "bytes=5-1", "bytes=-0", "items=0-1", "bytes=0-0,1-1"])
        )
    if draw(st.booleans()):
        headers["x-oss-callback"] = draw(st.sampled_from(["%%%", "e30=", "eyJjYWxsYmFja1VybCI6MX0="]))
    if draw(st.booleans()):
        headers["Content-Type"] = draw(
            st.sampled_from(["multipart/form-data", "multipart/form-data; boundary=x", "application/xml"])
        )
    body = draw(st.sampled_from(XML_BODIES)) if draw(st.booleans()) else draw(st.binary(max_size=200))
    return {
        "method": draw(st.sampled_from(METHODS)),
        "path": path,
        "query": query,
        "headers": headers,
        "body": body,
    }


def _assert_oss_error_format(r: httpx.Response, method: str) -> None:
    assert r.status_code < 500, (r.status_code, r.text[:500])
    assert "x-oss-request-id" in r.headers and "date" in r.headers
    if r.status_code >= 400:
        if method == "HEAD":
            assert "x-oss-err" in r.headers
        else:
            assert r.headers["content-type"].startswith("application/xml"), r.text[:200]
            assert r.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
            assert "<Code>" in r.text and "<RequestId>" in r.text
            assert "Traceback" not in r.text


@pytest.fixture(scope="module")
def oss_client(cloud: LocalCloudServer, workbook_bucket: Any) -> httpx.Client:
    with httpx.Client(base_url=cloud.oss_endpoint, trust_env=False, timeout=10) as client:
        yield client


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(req=oss_requests())
def test_oss_port_random_malformed_requests_get_xml_errors_never_5xx(
    oss_client: httpx.Client, req: dict[str, Any]
) -> None:
    url = req["path"] + ("?" + req["query"] if req["query"] else "")
    r = oss_client.request(req["method"], url, headers=req["headers"], content=req["body"])
    _assert_oss_error_format(r, req["method"])


@pytest.fixture(scope="module")
def sts_client(cloud: LocalCloudServer) -> httpx.Client:
    with httpx.Client(base_url=cloud.sts_endpoint, trust_env=False, timeout=10) as client:
        yield client


sts_params = st.dictionaries(
    st.sampled_from(
        [
            "Action",
            "Version",
            "RoleArn",
            "RoleSessionName",
            "Policy",
            "DurationSeconds",
            "AccessKeyId",
            "Signature",
            "SignatureMethod",
            "SignatureVersion",
            "SignatureNonce",
            "Timestamp",
            "Format",
        ]
    ),
    text,
    max_size=8,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=sts_params,
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    body=st.binary(max_size=300),
    auth=st.sampled_from(AUTH_VALUES + ["ACS3-HMAC-SHA256 Credential=x"]),
)
def test_sts_port_random_malformed_requests_get_json_errors_never_5xx(
    sts_client: httpx.Client, params: dict[str, str], method: str, body: bytes, auth: str
) -> None:
    headers = {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"} if auth else {}
    r = sts_client.request(method, "/", params=params, content=body, headers=headers)
    assert r.status_code < 500, (r.status_code, r.text[:300])
    doc = json.loads(r.text)
    assert {"RequestId", "Code", "Message"} <= set(doc)


def _raw(endpoint: str, payload: bytes) -> bytes:
    host, port = endpoint.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(payload)
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def test_oss_port_unsigned_request_with_absurd_header_gets_xml_403(cloud: LocalCloudServer) -> None:
    raw = _raw(
        cloud.oss_endpoint,
        b"GET /workbook/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + b"Authorization: OSS "
        + b"k" * 60000
        + b"\r\n\r\n",
    )
    assert raw.startswith(b"HTTP/1.1 4") and b"<Code>" in raw


def test_put_object_metadata_over_8kb_is_invalid_argument(workbook_bucket: Any, unique: Any) -> None:
    import oss2

    key = unique("big-meta")
    with pytest.raises(oss2.exceptions.ServerError) as info:
        workbook_bucket.put_object(key, b"x", headers={"x-oss-meta-big": "a" * 60000})
    assert (info.value.status, info.value.code) == (400, "InvalidArgument")
    assert not workbook_bucket.object_exists(key)
