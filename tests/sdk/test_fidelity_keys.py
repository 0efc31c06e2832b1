"""Fidelity of object keys (reference oss-behaviours §2), through oss2 and alibabacloud-oss-v2 against
the local cloud on loopback: every C0 control character, DEL and unicode in a key, through PutObject,
HeadObject, GetObject, multipart, CopyObject, listings and DeleteMultipleObjects; the 1023/1024-byte
limit; the exact InvalidObjectName answers; and the XML the SDKs send and read for such keys.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests
from alibabacloud_oss_v2.utils import escape_xml_value

from helpers.localcloud.server import LocalCloudServer
from tests.sdk.conftest import md5_b64, v2_error

REGION = "cn-hangzhou"
BUCKET = "workbook"
# Every C0 control character, DEL, a space, `+`, `%`, `&` and unicode.
CONTROLS = "".join(chr(c) for c in range(0x01, 0x20)) + "\x7f"
ODD = CONTROLS + " +%&<中文é"


def v2_client(cloud: LocalCloudServer, creds: dict[str, Any], version: str = "v4") -> oss.Client:
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"])
    cfg.region = REGION
    cfg.endpoint = cloud.oss_endpoint
    cfg.signature_version = version
    cfg.retry_max_attempts = 1
    return oss.Client(cfg)


@pytest.fixture(params=["v1", "v4"])
def v2(request: pytest.FixtureRequest, cloud: LocalCloudServer, creds: dict[str, Any],
       workbook_bucket: oss2.Bucket) -> oss.Client:
    return v2_client(cloud, creds, request.param)


@pytest.fixture(params=["v1", "v4"])
def bucket(request: pytest.FixtureRequest, cloud: LocalCloudServer, creds: dict[str, Any],
           workbook_bucket: oss2.Bucket) -> oss2.Bucket:
    ak, secret = creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"]
    auth = oss2.Auth(ak, secret) if request.param == "v1" else oss2.AuthV4(ak, secret)
    return oss2.Bucket(auth, cloud.oss_endpoint, BUCKET, region=REGION)


@pytest.fixture
def prefix(unique: Callable[[str], str]) -> str:
    return unique("keys") + "/"


def oss2_error(fn: Callable[[], Any]) -> oss2.exceptions.OssError:
    with pytest.raises(oss2.exceptions.OssError) as info:
        fn()
    assert info.value.status > 0, info.value   # a server answer, not a client-side error
    return info.value


# ---- single objects ---------------------------------------------------------------------------------

def test_oss2_put_head_get_key_with_every_control_character(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + ODD
    put = bucket.put_object(key, b"odd key")
    assert put.status == 200
    head = bucket.head_object(key)
    assert (head.status, head.content_length) == (200, 7)
    assert bucket.get_object(key).read() == b"odd key"
    assert bucket.object_exists(key) and not bucket.object_exists(prefix + ODD[:-1])


def test_v2_put_head_get_key_with_every_control_character(v2: oss.Client, prefix: str) -> None:
    key = prefix + ODD
    assert v2.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key, body=b"v2 odd")).status_code == 200
    assert v2.head_object(oss.HeadObjectRequest(bucket=BUCKET, key=key)).content_length == 6
    assert v2.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key)).body.read() == b"v2 odd"


def test_copy_object_with_control_character_keys(bucket: oss2.Bucket, v2: oss.Client, prefix: str) -> None:
    src, dst1, dst2 = prefix + "src" + ODD, prefix + "dst1\r\n" + ODD, prefix + "dst2\x01" + ODD
    bucket.put_object(src, b"copied")
    assert bucket.copy_object(BUCKET, src, dst1).status == 200
    out = v2.copy_object(oss.CopyObjectRequest(bucket=BUCKET, key=dst2, source_bucket=BUCKET, source_key=src))
    assert out.status_code == 200
    assert bucket.get_object(dst1).read() == b"copied" == bucket.get_object(dst2).read()


def test_key_of_1023_bytes_accepted_1024_refused(bucket: oss2.Bucket, v2: oss.Client, prefix: str) -> None:
    body = "中" * ((1023 - len(prefix)) // 3)
    k1023 = prefix + body + "x" * (1023 - len((prefix + body).encode()))
    assert len(k1023.encode()) == 1023
    assert bucket.put_object(k1023, b"max").status == 200
    assert bucket.get_object(k1023).read() == b"max"
    k1024 = k1023 + "y"
    err = oss2_error(lambda: bucket.put_object(k1024, b"x"))
    assert (err.status, err.code, err.message, err.ec) == (
        400, "InvalidObjectName", "The Length of Object name must be less than 1024", "0016-00000002")
    # The v2 SDK counts characters (≤ 1024) on its side, so this 1024-byte key reaches the server.
    assert len(k1024) < 1024
    verr = v2_error(lambda: v2.put_object(oss.PutObjectRequest(bucket=BUCKET, key=k1024, body=b"x")))
    assert (verr.status_code, verr.code, verr.message, verr.ec) == (
        400, "InvalidObjectName", "The Length of Object name must be less than 1024", "0016-00000002")
    verr = v2_error(lambda: v2.get_object(oss.GetObjectRequest(bucket=BUCKET, key=k1024)))
    assert (verr.status_code, verr.code) == (400, "InvalidObjectName")


@pytest.mark.parametrize("lead", ["/", "\\"])
def test_key_with_leading_slash_or_backslash_refused(bucket: oss2.Bucket, prefix: str, lead: str) -> None:
    err = oss2_error(lambda: bucket.put_object(lead + prefix + "x", b"x"))
    assert isinstance(err, oss2.exceptions.InvalidObjectName)
    assert (err.status, err.code, err.message, err.ec) == (
        400, "InvalidObjectName", "The specified object is not valid", "0016-00000005")


def test_non_utf8_key_refused(cloud: LocalCloudServer) -> None:
    # No SDK can name such a key (their keys are str); the request is refused before authentication.
    resp = requests.put(f"{cloud.oss_endpoint}/{BUCKET}/bad%FF%FEname", data=b"x", timeout=10)
    root = ET.fromstring(resp.content)
    assert (resp.status_code, root.findtext("Code"), root.findtext("Message"), root.findtext("EC")) == (
        400, "InvalidObjectName", "The specified object is not valid", "0016-00000002")


# ---- multipart ----------------------------------------------------------------------------------------

def test_v2_multipart_with_control_character_key(v2: oss.Client, prefix: str) -> None:
    key = prefix + "mp" + ODD
    init = v2.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=BUCKET, key=key))
    assert (init.key, init.encoding_type) == (key, "url")
    part = v2.upload_part(oss.UploadPartRequest(bucket=BUCKET, key=key, upload_id=init.upload_id,
                                                part_number=1, body=b"part one"))
    parts = v2.list_parts(oss.ListPartsRequest(bucket=BUCKET, key=key, upload_id=init.upload_id))
    assert (parts.key, parts.encoding_type, [p.etag for p in parts.parts]) == (key, "url", [part.etag])
    ups = v2.list_multipart_uploads(oss.ListMultipartUploadsRequest(bucket=BUCKET, prefix=prefix + "mp"))
    assert ups.encoding_type == "url"
    assert [(u.key, u.upload_id) for u in ups.uploads] == [(key, init.upload_id)]
    assert ups.prefix == prefix + "mp"
    done = v2.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=BUCKET, key=key, upload_id=init.upload_id,
        complete_multipart_upload=oss.CompleteMultipartUpload(
            parts=[oss.UploadPart(part_number=1, etag=part.etag)])))
    assert (done.key, done.encoding_type) == (key, "url")
    assert v2.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key)).body.read() == b"part one"


def test_oss2_multipart_with_control_character_key(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "mp2" + ODD
    # oss2 sends no encoding-type on Initiate/ListParts by itself and reads only UploadId/parts from them,
    # but it parses the whole document: see test_key_in_xml_without_encoding_type for what it gets.
    upload_id = _initiate_raw(bucket, key)
    part = bucket.upload_part(key, upload_id, 1, b"oss2 part")
    listed = list(oss2.MultipartUploadIterator(bucket, prefix=prefix + "mp2"))
    assert [(u.key, u.upload_id) for u in listed] == [(key, upload_id)]
    bucket.complete_multipart_upload(key, upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert bucket.get_object(key).read() == b"oss2 part"


def _initiate_raw(bucket: oss2.Bucket, key: str) -> str:
    """oss2's InitiateMultipartUpload asked for encoding-type=url (its `params`), so oss2 can parse it."""
    return str(bucket.init_multipart_upload(key, params={"encoding-type": "url"}).upload_id)


def test_key_in_xml_without_encoding_type(bucket: oss2.Bucket, prefix: str) -> None:
    """Without encoding-type=url the key goes into the XML as is; control characters XML 1.0 forbids
    are written as character references (`&#1;`), CR as `&#13;` so that a parser keeps it.
    [unverified: what real OSS writes here] Python's expat (used by both SDKs) reads CR, LF, TAB, DEL
    and unicode back exactly, and refuses the document when the key holds any other control character."""
    readable = prefix + "\t\n\r\x7f 中文&<"
    result = bucket.init_multipart_upload(readable)   # oss2 parses this response; it must be well-formed
    resp = bucket._do("GET", BUCKET, readable, params={"uploadId": result.upload_id})
    body = resp.read()
    assert ("<Key>" + prefix + "\t\n&#13;\x7f 中文&amp;&lt;</Key>").encode() in body
    assert ET.fromstring(body).findtext("Key") == readable
    bucket.abort_multipart_upload(readable, result.upload_id)

    unreadable = prefix + "\x01\x1f"
    upload_id = _initiate_raw(bucket, unreadable)
    body = bucket._do("GET", BUCKET, unreadable, params={"uploadId": upload_id}).read()
    assert ("<Key>" + prefix + "&#1;&#31;</Key>").encode() in body
    with pytest.raises(ET.ParseError, match="reference to invalid character number"):
        ET.fromstring(body)
    with pytest.raises(ET.ParseError):
        bucket.init_multipart_upload(unreadable)   # what an oss2 user sees for such a key
    bucket.abort_multipart_upload(unreadable, upload_id)


# ---- listings -----------------------------------------------------------------------------------------

def test_listings_url_encode_control_character_keys(bucket: oss2.Bucket, v2: oss.Client, prefix: str) -> None:
    keys = sorted([prefix + ODD, prefix + "a b", prefix + "a+b", prefix + "\r\n"], key=str.encode)
    for k in keys:
        bucket.put_object(k, b"")
    assert [o.key for o in oss2.ObjectIterator(bucket, prefix=prefix)] == keys
    assert [o.key for o in oss2.ObjectIteratorV2(bucket, prefix=prefix)] == keys
    assert [o.key for o in oss2.ObjectIteratorV2(bucket, prefix=prefix, max_keys=1)] == keys
    pages = v2.list_objects_v2_paginator().iter_page(oss.ListObjectsV2Request(bucket=BUCKET, prefix=prefix,
                                                                                max_keys=2))
    assert [o.key for page in pages for o in page.contents] == keys
    v1 = v2.list_objects(oss.ListObjectsRequest(bucket=BUCKET, prefix=prefix))
    assert [o.key for o in v1.contents] == keys and v1.encoding_type == "url"


@pytest.mark.parametrize("list_type", ["1", "2"])
def test_listing_wire_form_with_encoding_type_url(bucket: oss2.Bucket, prefix: str, list_type: str) -> None:
    key = prefix + "a b\x01+"
    bucket.put_object(key, b"")
    params = {"prefix": prefix + "a b", "encoding-type": "url"}
    if list_type == "2":
        params["list-type"] = "2"
    root = ET.fromstring(bucket._do("GET", BUCKET, "", params=params).read())
    assert root.findtext("EncodingType") == "url"
    prefix_text, key_text = root.findtext("Prefix") or "", root.findtext("Contents/Key") or ""
    # Space as %20, never `+` (both SDKs decode with unquote, not unquote_plus).
    assert prefix_text.endswith("a%20b") and key_text.endswith("a%20b%01%2B")
    assert oss2.compat.urlunquote(prefix_text) == prefix + "a b" and oss2.compat.urlunquote(key_text) == key


# ---- DeleteMultipleObjects ---------------------------------------------------------------------------

def test_oss2_batch_delete_raw_control_characters(bucket: oss2.Bucket, prefix: str) -> None:
    """oss2 writes keys unescaped (ElementTree): raw control characters in the body, a raw CR kept."""
    existing = [prefix + ODD, prefix + "cr\r", prefix + "crlf\r\n"]
    missing = prefix + "missing" + ODD
    for k in existing:
        bucket.put_object(k, b"x")
    result = bucket.batch_delete_objects(existing + [missing])
    assert result.deleted_keys == existing + [missing]
    assert not any(bucket.object_exists(k) for k in existing)


@pytest.mark.parametrize("quiet", [False, True])
def test_v2_delete_multiple_control_character_keys(v2: oss.Client, prefix: str, quiet: bool) -> None:
    existing = [prefix + ODD, prefix + "tab\tnl\ncr\r"]
    missing = prefix + "gone" + ODD
    for k in existing:
        v2.put_object(oss.PutObjectRequest(bucket=BUCKET, key=k, body=b"x"))
    out = v2.delete_multiple_objects(oss.DeleteMultipleObjectsRequest(
        bucket=BUCKET, quiet=quiet, objects=[oss.DeleteObject(key=k) for k in [*existing, missing]]))
    assert out.status_code == 200
    if quiet:
        assert not out.deleted_objects
    else:
        assert [d.key for d in out.deleted_objects] == [*existing, missing]
        assert out.encoding_type == "url"
    for k in existing:
        assert not v2.is_object_exist(BUCKET, k)


def _post_delete(bucket: oss2.Bucket, body: bytes, encoding: bool = True) -> Any:
    params = {"delete": ""}
    if encoding:
        params["encoding-type"] = "url"
    return bucket._do("POST", BUCKET, "", data=body, params=params,
                      headers={"Content-MD5": md5_b64(body)})


def test_delete_body_forms_decimal_hex_and_raw(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "\x01\x0b\x1f\r\t\x7f中"
    forms = [
        escape_xml_value(key),                                  # the v2 SDK: &#01; &#11; &#31; &#13; &#09;
        "".join(f"&#x{ord(c):02X};" if ord(c) < 0x20 else c for c in key),   # the Go SDK: hex
        key,                                                    # oss2: raw
    ]
    for form in forms:
        bucket.put_object(key, b"x")
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Delete><Quiet>false</Quiet>'
                f'<Object><Key>{form}</Key></Object></Delete>').encode()
        resp = _post_delete(bucket, body)
        root = ET.fromstring(resp.read())
        assert [oss2.compat.urlunquote(k.text or "") for k in root.iter("Key")] == [key], form
        assert not bucket.object_exists(key), form


def test_delete_response_without_encoding_type(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "\r\x7f中&"
    bucket.put_object(key, b"x")
    request = f"<Delete><Object><Key>{escape_xml_value(key)}</Key></Object></Delete>".encode()
    body = _post_delete(bucket, request, encoding=False).read()
    assert f"<Deleted><Key>{prefix}&#13;\x7f中&amp;</Key></Deleted>".encode() in body
    assert b"EncodingType" not in body
    assert ET.fromstring(body).findtext("Deleted/Key") == key


@pytest.mark.parametrize("body", [
    b"<Delete><Object><Key>a</Key></Object>",                     # unclosed
    b"<Delete><Object><Key>&#0;</Key></Object></Delete>",         # NUL is no character
    b"<Delete><Object><Key>a&#1</Key></Object></Delete>",         # unterminated reference
    b"<Delete><Object\x01><Key>a</Key></Object></Delete>",        # control character inside a tag
    b"<Delete><Object><Key>\xff</Key></Object></Delete>",         # not UTF-8
    b'<!DOCTYPE d [<!ENTITY e "x">]><Delete><Object><Key>&e;</Key></Object></Delete>',
    b"<Other><Object><Key>a</Key></Object></Other>",
])
def test_delete_malformed_xml_still_refused(bucket: oss2.Bucket, body: bytes) -> None:
    err = oss2_error(lambda: _post_delete(bucket, body))
    assert (err.status, err.code) == (400, "MalformedXML")
    assert err.message == ("The XML you provided was not well-formed or did not validate against our "
                           "published schema.")


def test_delete_empty_key_refused_before_anything_is_deleted(bucket: oss2.Bucket, prefix: str) -> None:
    kept = prefix + "kept\x01"
    bucket.put_object(kept, b"x")
    body = (f"<Delete><Object><Key>{escape_xml_value(kept)}</Key></Object>"
            "<Object><Key></Key></Object></Delete>")
    err = oss2_error(lambda: _post_delete(bucket, body.encode()))
    assert (err.status, err.code, err.message, err.ec) == (
        400, "InvalidObjectName", "The Object name can not be empty", "0016-00000001")
    assert bucket.object_exists(kept)

