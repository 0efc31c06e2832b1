"""alibabacloud-oss-v2 conformance against the local cloud's OSS port over real loopback HTTP, with both
signature versions (v1, v4): object CRUD, the ListObjectsV2 paginator, the presigner, the uploader
(multipart) and the downloader (ranged parts with `x-oss-range-behavior: standard`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import alibabacloud_oss_v2 as oss
import httpx
import oss2
import pytest
import requests

from helpers.localcloud.server import LocalCloudServer

REGION = "cn-hangzhou"


def v2_client(endpoint: str, ak: str, secret: str, *, version: str, token: str | None = None) -> oss.Client:
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(ak, secret, token)
    cfg.region = REGION
    cfg.endpoint = endpoint
    cfg.signature_version = version
    cfg.retry_max_attempts = 1
    return oss.Client(cfg)


@pytest.fixture(params=["v1", "v4"])
def client(request: pytest.FixtureRequest, cloud: LocalCloudServer, creds: dict[str, Any],
           workbook_bucket: oss2.Bucket) -> oss.Client:
    return v2_client(cloud.oss_endpoint, creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"],
                     version=request.param)


@pytest.fixture
def bucket(workbook_bucket: oss2.Bucket) -> str:
    return str(workbook_bucket.bucket_name)


@pytest.fixture
def prefix(unique: Callable[[str], str]) -> str:
    return unique("v2") + "/"


def service_error(excinfo: pytest.ExceptionInfo[oss.exceptions.OperationError],
                  ) -> oss.exceptions.ServiceError:
    err = excinfo.value.unwrap()
    assert isinstance(err, oss.exceptions.ServiceError), repr(err)
    return err


def test_put_get_head_delete_round_trip(client: oss.Client, bucket: str, prefix: str) -> None:
    key = prefix + "dir/a b+c 中文.txt"
    put = client.put_object(oss.PutObjectRequest(bucket=bucket, key=key, body=b"hello v2",
                                                 content_type="text/x-v2", metadata={"who": "v2"}))
    assert put.status_code == 200
    assert put.hash_crc64 == "5726928505849980685"
    assert put.etag == '"' + hashlib.md5(b"hello v2").hexdigest().upper() + '"'
    got = client.get_object(oss.GetObjectRequest(bucket=bucket, key=key))
    assert got.body.read() == b"hello v2"
    assert got.content_type == "text/x-v2" and got.metadata == {"who": "v2"}
    head = client.head_object(oss.HeadObjectRequest(bucket=bucket, key=key))
    assert head.content_length == 8 and head.etag == put.etag and head.object_type == "Normal"
    assert client.delete_object(oss.DeleteObjectRequest(bucket=bucket, key=key)).status_code == 204
    with pytest.raises(oss.exceptions.OperationError) as info:
        client.head_object(oss.HeadObjectRequest(bucket=bucket, key=key))
    err = service_error(info)
    assert (err.status_code, err.code, err.ec) == (404, "NoSuchKey", "0026-00000001")


def test_get_object_missing_key_service_error(client: oss.Client, bucket: str, prefix: str) -> None:
    with pytest.raises(oss.exceptions.OperationError) as info:
        client.get_object(oss.GetObjectRequest(bucket=bucket, key=prefix + "absent"))
    err = service_error(info)
    assert (err.status_code, err.code) == (404, "NoSuchKey")
    assert err.message == "The specified key does not exist."
    assert len(err.request_id) == 24


def test_is_object_exist_true_false_and_missing_bucket(client: oss.Client, bucket: str, prefix: str,
                                                       unique: Callable[[str], str]) -> None:
    client.put_object(oss.PutObjectRequest(bucket=bucket, key=prefix + "here", body=b"1"))
    assert client.is_object_exist(bucket, prefix + "here")
    assert not client.is_object_exist(bucket, prefix + "absent")
    with pytest.raises(oss.exceptions.OperationError) as info:
        client.is_object_exist(unique("nob"), "k")
    assert service_error(info).code == "NoSuchBucket"


def test_list_objects_v2_paginator_pages_and_prefixes(client: oss.Client, bucket: str, prefix: str) -> None:
    names = ["a b/1", "a+b", "c%d", "d&e", "中文/x", "z z"]
    for n in names:
        client.put_object(oss.PutObjectRequest(bucket=bucket, key=prefix + n, body=b""))
    paginator = client.list_objects_v2_paginator(limit=2)
    keys: list[str] = []
    pages = 0
    for page in paginator.iter_page(oss.ListObjectsV2Request(bucket=bucket, prefix=prefix)):
        pages += 1
        keys += [o.key for o in page.contents or []]
    assert pages == 3
    assert keys == sorted((prefix + n for n in names), key=lambda k: k.encode())
    dirs: list[str] = []
    files: list[str] = []
    for page in paginator.iter_page(oss.ListObjectsV2Request(bucket=bucket, prefix=prefix, delimiter="/")):
        dirs += [p.prefix for p in page.common_prefixes or []]
        files += [o.key for o in page.contents or []]
    assert dirs == [prefix + "a b/", prefix + "中文/"]
    assert files == [prefix + n for n in ("a+b", "c%d", "d&e", "z z")]


def test_presign_get_readable_with_httpx(client: oss.Client, bucket: str, prefix: str) -> None:
    key = prefix + "pre sign/文件+.bin"
    client.put_object(oss.PutObjectRequest(bucket=bucket, key=key, body=b"presigned"))
    pre = client.presign(oss.GetObjectRequest(bucket=bucket, key=key))
    resp = httpx.get(pre.url, headers=dict(pre.signed_headers or {}))
    assert (resp.status_code, resp.content) == (200, b"presigned")


def test_presign_put_with_signed_headers(client: oss.Client, bucket: str, prefix: str) -> None:
    key = prefix + "pre put.bin"
    pre = client.presign(oss.PutObjectRequest(bucket=bucket, key=key, content_type="application/x-demo"))
    assert pre.signed_headers["Content-Type"] == "application/x-demo"
    resp = requests.put(pre.url, data=b"uploaded", headers=dict(pre.signed_headers), timeout=5)
    assert resp.status_code == 200, resp.text
    head = client.head_object(oss.HeadObjectRequest(bucket=bucket, key=key))
    assert head.content_type == "application/x-demo" and head.content_length == 8


def test_uploader_multipart_parallel_then_downloader_ranged(client: oss.Client, bucket: str, prefix: str,
                                                            tmp_path: Path) -> None:
    data = os.urandom(1024 * 1024 + 777)
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    key = prefix + "uploaded file.bin"
    up = client.uploader(part_size=100 * 1024, parallel_num=3).upload_file(
        oss.PutObjectRequest(bucket=bucket, key=key), str(src))
    assert up.status_code == 200 and up.upload_id
    head = client.head_object(oss.HeadObjectRequest(bucket=bucket, key=key))
    assert head.object_type == "Multipart" and head.content_length == len(data)
    assert head.hash_crc64 == up.hash_crc64
    dst = tmp_path / "down.bin"
    down = client.downloader(part_size=128 * 1024, parallel_num=3).download_file(
        oss.GetObjectRequest(bucket=bucket, key=key), str(dst))
    assert down.written == len(data)
    assert dst.read_bytes() == data


def test_get_object_standard_range_behaviour(client: oss.Client, bucket: str, prefix: str) -> None:
    key = prefix + "r.bin"
    client.put_object(oss.PutObjectRequest(bucket=bucket, key=key, body=b"0123456789"))
    clamped = client.get_object(oss.GetObjectRequest(bucket=bucket, key=key, range_header="bytes=5-100",
                                                     range_behavior="standard"))
    assert clamped.status_code == 206 and clamped.content_range == "bytes 5-9/10"
    assert clamped.body.read() == b"56789"
    with pytest.raises(oss.exceptions.OperationError) as info:
        client.get_object(oss.GetObjectRequest(bucket=bucket, key=key, range_header="bytes=10-20",
                                               range_behavior="standard"))
    err = service_error(info)
    assert (err.status_code, err.code) == (416, "InvalidRange")
    whole = client.get_object(oss.GetObjectRequest(bucket=bucket, key=key, range_header="bytes=10-20"))
    assert whole.status_code == 200 and whole.body.read() == b"0123456789"


def test_delete_multiple_objects_url_encoded_keys(client: oss.Client, bucket: str, prefix: str) -> None:
    keys = [prefix + "x y", prefix + "a&b", prefix + "中"]
    for k in keys:
        client.put_object(oss.PutObjectRequest(bucket=bucket, key=k, body=b"1"))
    result = client.delete_multiple_objects(oss.DeleteMultipleObjectsRequest(
        bucket=bucket, objects=[oss.DeleteObject(key=k) for k in keys]))
    assert sorted(d.key for d in result.deleted_objects) == sorted(keys)
    assert not any(client.is_object_exist(bucket, k) for k in keys)


def test_bucket_info_and_location(client: oss.Client, bucket: str) -> None:
    info = client.get_bucket_info(oss.GetBucketInfoRequest(bucket=bucket))
    assert info.bucket_info.name == bucket and info.bucket_info.location == f"oss-{REGION}"
    loc = client.get_bucket_location(oss.GetBucketLocationRequest(bucket=bucket))
    assert loc.location == f"oss-{REGION}"


def test_upload_part_copy_then_complete(client: oss.Client, bucket: str, prefix: str) -> None:
    src = os.urandom(150 * 1024)
    client.put_object(oss.PutObjectRequest(bucket=bucket, key=prefix + "src", body=src))
    key = prefix + "copied"
    upload_id = client.initiate_multipart_upload(
        oss.InitiateMultipartUploadRequest(bucket=bucket, key=key)).upload_id
    part = client.upload_part_copy(oss.UploadPartCopyRequest(
        bucket=bucket, key=key, upload_id=upload_id, part_number=1, source_key=prefix + "src",
        source_range="bytes=0-102399"))
    assert part.etag == '"' + hashlib.md5(src[:102400]).hexdigest().upper() + '"'
    tail = client.upload_part(oss.UploadPartRequest(bucket=bucket, key=key, upload_id=upload_id,
                                                    part_number=2, body=src[102400:]))
    client.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=bucket, key=key, upload_id=upload_id,
        complete_multipart_upload=oss.CompleteMultipartUpload(parts=[
            oss.UploadPart(part_number=1, etag=part.etag), oss.UploadPart(part_number=2, etag=tail.etag)])))
    assert client.get_object(oss.GetObjectRequest(bucket=bucket, key=key)).body.read() == src
