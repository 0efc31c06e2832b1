"""helpers.protocol.errors reads the local cloud's real error answers as oss2 itself does: an XML
body, and on HEAD (no body) the base64 `x-oss-err` header."""

from __future__ import annotations

import base64

import httpx
import oss2
import pytest

from helpers.localcloud.server import LocalCloudServer
from helpers.protocol import errors


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_parse_error_matches_oss2_on_real_answers(cloud: LocalCloudServer, method: str) -> None:
    with httpx.Client(trust_env=False, timeout=10) as http:
        r = http.request(method, f"{cloud.oss_endpoint}/workbook/protocol-missing.txt")
    assert r.status_code >= 400
    if method == "HEAD":
        assert not r.content and r.headers.get("x-oss-err"), "HEAD carries the document in x-oss-err"
    doc = errors.parse_error(r.content, r.headers)
    assert doc is not None

    bucket = oss2.Bucket(oss2.AnonymousAuth(), cloud.oss_endpoint, "workbook")
    call = bucket.head_object if method == "HEAD" else bucket.get_object
    with pytest.raises(oss2.exceptions.ServerError) as ei:
        call("protocol-missing.txt")
    exc = ei.value
    assert (doc.code, doc.message, doc.ec) == (exc.code, exc.message, exc.ec)
    assert doc.host_id == exc.details.get("HostId", "") and doc.host_id
    assert doc.request_id and doc.recommend_doc == exc.details.get("RecommendDoc", "")


def test_parse_error_every_field() -> None:
    xml = (b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code><Message>no</Message>"
           b"<RequestId>R1</RequestId><HostId>h.example</HostId><EC>0003-00000001</EC>"
           b"<RecommendDoc>https://api.aliyun.com/troubleshoot?q=0003-00000001</RecommendDoc></Error>")
    doc = errors.parse_error(xml)
    assert doc is not None
    assert (doc.code, doc.message, doc.request_id, doc.host_id, doc.ec, doc.recommend_doc) == (
        "AccessDenied", "no", "R1", "h.example", "0003-00000001",
        "https://api.aliyun.com/troubleshoot?q=0003-00000001")
    from_header = errors.parse_error(b"", {"x-oss-err": base64.b64encode(xml).decode()})
    assert from_header == doc


def test_parse_error_headers_fill_ec_and_request_id() -> None:
    doc = errors.parse_error(b"<Error><Code>NoSuchKey</Code></Error>",
                             {"x-oss-ec": "0026-00000001", "x-oss-request-id": "R2"})
    assert doc is not None and (doc.code, doc.ec, doc.request_id) == ("NoSuchKey", "0026-00000001", "R2")


def test_parse_error_json_sts_shape() -> None:
    doc = errors.parse_error(b'{"Code":"InvalidAccessKeyId.NotFound","Message":"m","RequestId":"R"}')
    assert doc is not None
    assert (doc.code, doc.message, doc.request_id) == ("InvalidAccessKeyId.NotFound", "m", "R")


@pytest.mark.parametrize("body", [b"", b"not xml", b"<Other/>", b"{}", b"[1]", b"<Error", b'{"Code": 3}'])
def test_parse_error_not_a_document(body: bytes) -> None:
    assert errors.parse_error(body) is None
    assert errors.parse_error(b"", {"x-oss-err": "%%%not base64"}) is None
