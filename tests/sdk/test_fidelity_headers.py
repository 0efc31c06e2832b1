"""Fidelity of non-ASCII header values (reference oss-behaviours §4), through oss2 (`Auth`, `AuthV2`,
`AuthV4`) and alibabacloud-oss-v2 (V4, V1) against the local cloud on loopback: user metadata sent as
UTF-8 bytes is signed the way each SDK signs it (oss2 over the raw bytes, the v2 SDK over its latin-1
`str` encoded as UTF-8), in headers and in presigned URLs, and comes back from HeadObject/GetObject
byte for byte, also after CopyObject (REPLACE) and multipart. The 8 KB user-metadata limit counts bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from helpers.localcloud.server import LocalCloudServer

REGION = "cn-hangzhou"
BUCKET = "workbook"
TEXT = "测试 é ✓"
UTF8 = TEXT.encode("utf-8")
NOT_UTF8 = "été".encode("latin-1")      # bytes that are not UTF-8: still stored and signed as sent
AS_SENT = UTF8.decode("latin-1")         # what http.client puts on the wire for a str value, byte for byte


@pytest.fixture(params=["v1", "v2", "v4"])
def bucket(request: pytest.FixtureRequest, cloud: LocalCloudServer, creds: dict[str, Any],
           workbook_bucket: oss2.Bucket) -> oss2.Bucket:
    ak, secret = creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"]
    auth = {"v1": oss2.Auth, "v2": oss2.AuthV2, "v4": oss2.AuthV4}[request.param](ak, secret)
    return oss2.Bucket(auth, cloud.oss_endpoint, BUCKET, region=REGION)


@pytest.fixture(params=["v4", "v1"])
def v2(request: pytest.FixtureRequest, cloud: LocalCloudServer, creds: dict[str, Any],
       workbook_bucket: oss2.Bucket) -> oss.Client:
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"])
    cfg.region = REGION
    cfg.endpoint = cloud.oss_endpoint
    cfg.signature_version = request.param
    cfg.retry_max_attempts = 1
    return oss.Client(cfg)


@pytest.fixture
def prefix(unique: Callable[[str], str]) -> str:
    return unique("hdr") + "/"


def raw(value: str) -> bytes:
    """The bytes of a header value as http.client/urllib3 received them (decoded as latin-1)."""
    return value.encode("latin-1")


# ---- oss2: headers signed over the raw bytes -----------------------------------------------------------

def test_oss2_put_utf8_metadata_head_and_get_return_same_bytes(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "meta"
    headers = {"x-oss-meta-unicode": UTF8, "x-oss-meta-Latin": NOT_UTF8, "x-oss-meta-plain": "ascii"}
    put = bucket.put_object(key, b"a novel", headers=headers)
    assert put.status == 200
    head = bucket.head_object(key)
    assert raw(head.headers["x-oss-meta-unicode"]) == UTF8
    assert raw(head.headers["x-oss-meta-latin"]) == NOT_UTF8      # names come back lower-case
    assert head.headers["x-oss-meta-plain"] == "ascii"
    got = bucket.get_object(key)
    assert got.read() == b"a novel"
    assert raw(got.headers["x-oss-meta-unicode"]) == UTF8
    meta = bucket.get_object_meta(key)
    assert meta.status == 200


def test_oss2_copy_replace_and_multipart_carry_utf8_metadata(bucket: oss2.Bucket, prefix: str) -> None:
    src, dst, mp = prefix + "src", prefix + "dst", prefix + "mp"
    bucket.put_object(src, b"source", headers={"x-oss-meta-who": b"old"})
    bucket.copy_object(BUCKET, src, dst, headers={"x-oss-metadata-directive": "REPLACE",
                                                  "x-oss-meta-who": UTF8})
    assert raw(bucket.head_object(dst).headers["x-oss-meta-who"]) == UTF8
    upload_id = bucket.init_multipart_upload(mp, headers={"x-oss-meta-who": UTF8}).upload_id
    part = bucket.upload_part(mp, upload_id, 1, b"part")
    bucket.complete_multipart_upload(mp, upload_id, [oss2.models.PartInfo(1, part.etag)])
    head = bucket.head_object(mp)
    assert raw(head.headers["x-oss-meta-who"]) == UTF8 and head.content_length == 4


def test_oss2_presigned_put_with_utf8_metadata(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "presigned"
    headers = {"x-oss-meta-unicode": UTF8}
    url = bucket.sign_url("PUT", key, 60, headers=headers)
    resp = requests.put(url, data=b"signed", headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text
    assert raw(bucket.head_object(key).headers["x-oss-meta-unicode"]) == UTF8
    # A different value than the one signed is refused: the signature covers the bytes.
    resp = requests.put(url, data=b"signed", headers={"x-oss-meta-unicode": UTF8 + b"!"}, timeout=10)
    assert resp.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in resp.content


# ---- v2 SDK: headers signed over str -------------------------------------------------------------------

def test_v2_put_utf8_metadata_head_and_get_return_same_bytes(v2: oss.Client, prefix: str) -> None:
    key = prefix + "v2meta"
    v2.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key, body=b"v2", metadata={"unicode": AS_SENT}))
    head = v2.head_object(oss.HeadObjectRequest(bucket=BUCKET, key=key))
    assert raw(head.metadata["unicode"]) == UTF8
    got = v2.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key))
    assert got.body.read() == b"v2" and raw(got.metadata["unicode"]) == UTF8


def test_v2_copy_replace_and_multipart_carry_utf8_metadata(v2: oss.Client, prefix: str) -> None:
    src, dst, mp = prefix + "src", prefix + "dst", prefix + "mp"
    v2.put_object(oss.PutObjectRequest(bucket=BUCKET, key=src, body=b"s", metadata={"who": "old"}))
    v2.copy_object(oss.CopyObjectRequest(bucket=BUCKET, key=dst, source_bucket=BUCKET, source_key=src,
                                         metadata_directive="REPLACE", metadata={"who": AS_SENT}))
    assert raw(v2.head_object(oss.HeadObjectRequest(bucket=BUCKET, key=dst)).metadata["who"]) == UTF8
    init = v2.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=BUCKET, key=mp,
                                                                           metadata={"who": AS_SENT}))
    part = v2.upload_part(oss.UploadPartRequest(bucket=BUCKET, key=mp, upload_id=init.upload_id,
                                                part_number=1, body=b"part"))
    v2.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=BUCKET, key=mp, upload_id=init.upload_id,
        complete_multipart_upload=oss.CompleteMultipartUpload(
            parts=[oss.UploadPart(part_number=1, etag=part.etag)])))
    assert raw(v2.head_object(oss.HeadObjectRequest(bucket=BUCKET, key=mp)).metadata["who"]) == UTF8


def test_v2_presigned_put_with_utf8_metadata(v2: oss.Client, prefix: str) -> None:
    key = prefix + "v2presigned"
    pre = v2.presign(oss.PutObjectRequest(bucket=BUCKET, key=key, metadata={"unicode": AS_SENT}))
    assert pre.signed_headers and pre.signed_headers.get("x-oss-meta-unicode") == AS_SENT
    resp = requests.put(pre.url, data=b"v2 signed", headers=pre.signed_headers, timeout=10)
    assert resp.status_code == 200, resp.text
    assert raw(v2.head_object(oss.HeadObjectRequest(bucket=BUCKET, key=key)).metadata["unicode"]) == UTF8
    tampered = {**pre.signed_headers, "x-oss-meta-unicode": raw(AS_SENT).replace(b"\xb5", b"\xb6")}
    resp = requests.put(pre.url, data=b"v2 signed", headers=tampered, timeout=10)
    assert resp.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in resp.content


# ---- the 8 KB limit counts bytes -----------------------------------------------------------------------

def test_user_metadata_limit_counts_bytes(bucket: oss2.Bucket, prefix: str) -> None:
    # Counted: `x-oss-meta-` + name + value over all user metadata, 8192 bytes at most.
    room = 8192 - len("x-oss-meta-big")
    at_limit = "测".encode() * (room // 3) + b"x" * (room % 3)
    assert len(at_limit) == room
    key = prefix + "big"
    assert bucket.put_object(key, b"x", headers={"x-oss-meta-big": at_limit}).status == 200
    assert raw(bucket.head_object(key).headers["x-oss-meta-big"]) == at_limit
    # One byte more is refused, though the value has fewer than 3000 characters.
    with pytest.raises(oss2.exceptions.OssError) as info:
        bucket.put_object(key + "2", b"x", headers={"x-oss-meta-big": at_limit + b"y"})
    assert len((at_limit + b"y").decode()) < 3000
    assert (info.value.status, info.value.code, info.value.ec) == (400, "InvalidArgument", "0011-00000002")
    assert not bucket.object_exists(key + "2")
