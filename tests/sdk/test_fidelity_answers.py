"""Answers the SDKs parse, as OSS gives them (oss-behaviours.md §6, §7, §10): ListParts, GetBucketInfo,
GetBucketCors, the object ACL and storage class set by uploads (kept across a restart), and the read-only
listings the SDKs' own bucket clean-up helpers call (ListLiveChannel, ListObjectVersions).

Through oss2 and alibabacloud-oss-v2, unmodified, against the local cloud on loopback; raw bytes are
checked with `requests` on URLs the SDKs signed.
"""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from helpers.localcloud.context import LocalCloudConfig
from helpers.localcloud.server import LocalCloudServer, build_context

REGION = "cn-hangzhou"
BUCKET = "workbook"
PART = b"p" * (100 * 1024)


@pytest.fixture
def v2(admin_v2_client: oss.Client) -> oss.Client:
    """The account owner's alibabacloud-oss-v2 client (V4)."""
    return admin_v2_client


@pytest.fixture
def key(unique: Callable[[str], str]) -> str:
    return unique("ans") + "/obj.bin"


@pytest.fixture
def scratch_bucket(cloud: LocalCloudServer, admin_auth: oss2.Auth, unique: Callable[[str], str],
                   ) -> Iterator[oss2.Bucket]:
    """A fresh, empty bucket of its own (the listings below must see only what the test put there)."""
    b = oss2.Bucket(admin_auth, cloud.oss_endpoint, unique("scratch"))
    b.create_bucket()
    yield b
    for obj in oss2.ObjectIterator(b):
        b.delete_object(obj.key)
    for up in oss2.MultipartUploadIterator(b):
        b.abort_multipart_upload(up.key, up.upload_id)
    b.delete_bucket()


def _xml(resp: requests.Response) -> ET.Element:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/xml"
    return ET.fromstring(resp.content)


def _error(resp: requests.Response) -> tuple[int, str, str]:
    root = ET.fromstring(resp.content)
    return resp.status_code, root.findtext("Code") or "", resp.headers.get("x-oss-ec", "")


# ---- ListParts (§6) ----------------------------------------------------------------------------------

def test_list_parts_fields_v2(v2: oss.Client, workbook_bucket: oss2.Bucket, key: str) -> None:
    init = v2.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=BUCKET, key=key))
    uploaded = [v2.upload_part(oss.UploadPartRequest(bucket=BUCKET, key=key, upload_id=init.upload_id,
                                                                  part_number=n, body=PART + bytes([n])))
                for n in (1, 2)]
    result = v2.list_parts(oss.ListPartsRequest(bucket=BUCKET, key=key, upload_id=init.upload_id))
    assert (result.part_number_marker, result.next_part_number_marker, result.is_truncated) == (0, 2, False)
    assert (result.max_parts, result.storage_class) == (1000, "Standard")
    assert [(p.part_number, p.size, p.etag, p.hash_crc64) for p in result.parts] == [
        (n, len(PART) + 1, up.etag, up.hash_crc64) for n, up in zip((1, 2), uploaded, strict=True)]
    v2.abort_multipart_upload(oss.AbortMultipartUploadRequest(bucket=BUCKET, key=key,
                                                                           upload_id=init.upload_id))


def test_list_parts_storage_class_of_the_upload(workbook_bucket: oss2.Bucket, key: str) -> None:
    upload_id = workbook_bucket.init_multipart_upload(key, headers={"x-oss-storage-class": "IA"}).upload_id
    url = workbook_bucket.sign_url("GET", key, 60, params={"uploadId": upload_id})
    root = _xml(requests.get(url, timeout=5))
    assert (root.tag, root.findtext("StorageClass"), root.findtext("MaxParts")) == (
        "ListPartsResult", "IA", "1000")
    workbook_bucket.abort_multipart_upload(key, upload_id)


# ---- GetBucketInfo (§6) --------------------------------------------------------------------------------

def test_get_bucket_info_fields_both_sdks(v2: oss.Client, workbook_bucket: oss2.Bucket) -> None:
    info = v2.get_bucket_info(oss.GetBucketInfoRequest(bucket=BUCKET)).bucket_info
    # The local cloud honours public ACLs (it has no Block Public Access), so it says so [see handler].
    assert info.block_public_access is False
    assert (info.acl, info.access_monitor, info.data_redundancy_type) == ("private", "Disabled", "LRS")
    assert (info.cross_region_replication, info.transfer_acceleration) == ("Disabled", "Disabled")
    assert (info.name, info.storage_class, info.location) == (BUCKET, "Standard", f"oss-{REGION}")
    assert info.versioning is None
    for value in (info.resource_group_id, info.creation_date, info.extranet_endpoint, info.intranet_endpoint,
                  info.owner.id, info.owner.display_name, info.sse_rule.sse_algorithm):
        assert value
    old = workbook_bucket.get_bucket_info()
    assert (old.name, old.versioning_status, old.comment) == (BUCKET, None, "")
    assert old.data_redundancy_type == "LRS"
    assert old.bucket_encryption_rule.sse_algorithm is None   # the literal "None", mapped by oss2


# ---- GetBucketCors (§6) --------------------------------------------------------------------------------

def test_get_bucket_cors_allowed_header_lowercased(v2: oss.Client, scratch_bucket: oss2.Bucket) -> None:
    rule = oss.CORSRule(allowed_origins=["*"], allowed_methods=["PUT", "GET", "HEAD", "POST"],
                        allowed_headers=["GET", "*", "X-Oss-Meta-Tag"], expose_headers=["ETag"],
                        max_age_seconds=100)
    v2.put_bucket_cors(oss.PutBucketCorsRequest(
        bucket=scratch_bucket.bucket_name, cors_configuration=oss.CORSConfiguration(cors_rules=[rule])))
    got = v2.get_bucket_cors(oss.GetBucketCorsRequest(bucket=scratch_bucket.bucket_name))
    (only,) = got.cors_configuration.cors_rules
    assert only.allowed_methods == ["PUT", "GET", "HEAD", "POST"]
    assert only.allowed_headers == ["get", "*", "x-oss-meta-tag"]
    assert (only.expose_headers, only.max_age_seconds) == (["ETag"], 100)
    # Matching is unchanged: a preflight asking for the header in any case is still allowed.
    resp = requests.options(f"{scratch_bucket.endpoint}/{scratch_bucket.bucket_name}/k", timeout=5, headers={
        "Origin": "http://a.example", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "X-OSS-META-TAG"})
    assert resp.status_code == 200, resp.text


# ---- x-oss-object-acl on multipart (§7) -----------------------------------------------------------------

def _multipart(bucket: oss2.Bucket, key: str, init_headers: dict[str, str],
               complete_headers: dict[str, str] | None = None) -> None:
    upload_id = bucket.init_multipart_upload(key, headers=init_headers).upload_id
    etag = bucket.upload_part(key, upload_id, 1, PART).etag
    bucket.complete_multipart_upload(key, upload_id, [oss2.models.PartInfo(1, etag)],
                                     headers=complete_headers)


def test_initiate_object_acl_applies_to_completed_object(cloud: LocalCloudServer,
                                                         workbook_bucket: oss2.Bucket, key: str) -> None:
    _multipart(workbook_bucket, key, {"x-oss-object-acl": "public-read"})
    assert workbook_bucket.get_object_acl(key).acl == "public-read"
    anonymous = requests.get(f"{cloud.oss_endpoint}/{BUCKET}/{key}", timeout=5)   # the ACL takes effect
    assert (anonymous.status_code, anonymous.content) == (200, PART)


def test_complete_object_acl_overrides_initiate(v2: oss.Client, workbook_bucket: oss2.Bucket,
                                                key: str) -> None:
    _multipart(workbook_bucket, key, {"x-oss-object-acl": "public-read"}, {"x-oss-object-acl": "private"})
    assert workbook_bucket.get_object_acl(key).acl == "private"
    # v2: complete_all (no body) with acl
    init = v2.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=BUCKET, key=key))
    v2.upload_part(oss.UploadPartRequest(bucket=BUCKET, key=key, upload_id=init.upload_id,
                                                      part_number=1, body=PART))
    v2.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=BUCKET, key=key, upload_id=init.upload_id, complete_all="yes", acl="public-read-write"))
    result = v2.get_object_acl(oss.GetObjectAclRequest(bucket=BUCKET, key=key))
    assert result.acl == "public-read-write"


def test_complete_bad_object_acl_refused_upload_kept(workbook_bucket: oss2.Bucket, key: str) -> None:
    upload_id = workbook_bucket.init_multipart_upload(key).upload_id
    etag = workbook_bucket.upload_part(key, upload_id, 1, PART).etag
    with pytest.raises(oss2.exceptions.OssError) as info:
        workbook_bucket.complete_multipart_upload(key, upload_id, [oss2.models.PartInfo(1, etag)],
                                                  headers={"x-oss-object-acl": "nobody"})
    assert (info.value.status, info.value.code) == (400, "InvalidArgument")
    assert not workbook_bucket.object_exists(key)
    assert [p.part_number for p in workbook_bucket.list_parts(key, upload_id).parts] == [1]
    workbook_bucket.abort_multipart_upload(key, upload_id)


def test_complete_all_with_a_body_invalid_argument(workbook_bucket: oss2.Bucket, key: str) -> None:
    upload_id = workbook_bucket.init_multipart_upload(key).upload_id
    etag = workbook_bucket.upload_part(key, upload_id, 1, PART).etag
    body = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part>"
            "</CompleteMultipartUpload>").encode()
    with pytest.raises(oss2.exceptions.OssError) as info:   # Bucket._do: no public method sends both
        workbook_bucket._do("POST", BUCKET, key, data=body, params={"uploadId": upload_id},
                            headers={"x-oss-complete-all": "yes"})
    assert (info.value.status, info.value.code, info.value.ec) == (400, "InvalidArgument", "0042-00000216")
    assert info.value.message == "Should not speficy both complete all header and http body."
    workbook_bucket.complete_multipart_upload(key, upload_id, None, headers={"x-oss-complete-all": "yes"})
    assert workbook_bucket.get_object(key).read() == PART


# ---- x-oss-storage-class (§7) -----------------------------------------------------------------------------

def _class_everywhere(bucket: oss2.Bucket, key: str) -> tuple[str, str, str]:
    head = bucket.head_object(key).headers["x-oss-storage-class"]
    get = bucket.get_object(key)
    get.read()
    listed = {o.key: o.storage_class for o in oss2.ObjectIterator(bucket, prefix=key)}[key]
    return head, get.headers["x-oss-storage-class"], listed


@pytest.mark.parametrize("storage_class", ["Standard", "IA"])
def test_storage_class_put_append_multipart(v2: oss.Client, workbook_bucket: oss2.Bucket, key: str,
                                            storage_class: str) -> None:
    header = {"x-oss-storage-class": storage_class}
    workbook_bucket.put_object(key + "-put", b"data", headers=header)
    v2.append_object(oss.AppendObjectRequest(bucket=BUCKET, key=key + "-append", position=0,
                                                          body=b"one", storage_class=storage_class))
    v2.append_object(oss.AppendObjectRequest(bucket=BUCKET, key=key + "-append", position=3,
                                                          body=b"two"))
    init = v2.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(
        bucket=BUCKET, key=key + "-mp", storage_class=storage_class))
    v2.upload_part(oss.UploadPartRequest(bucket=BUCKET, key=key + "-mp", upload_id=init.upload_id,
                                                      part_number=1, body=PART))
    v2.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=BUCKET, key=key + "-mp", upload_id=init.upload_id, complete_all="yes"))
    for suffix in ("-put", "-append", "-mp"):
        assert _class_everywhere(workbook_bucket, key + suffix) == (storage_class,) * 3, suffix
    head = v2.head_object(oss.HeadObjectRequest(bucket=BUCKET, key=key + "-mp"))
    assert head.storage_class == storage_class


def test_storage_class_defaults_to_the_buckets(admin_auth: oss2.Auth, cloud: LocalCloudServer,
                                               unique: Callable[[str], str]) -> None:
    b = oss2.Bucket(admin_auth, cloud.oss_endpoint, unique("ia"))
    b.create_bucket(input=oss2.models.BucketCreateConfig(oss2.BUCKET_STORAGE_CLASS_IA))
    try:
        b.put_object("k", b"data")
        b.put_object("s", b"data", headers={"x-oss-storage-class": "Standard"})
        assert _class_everywhere(b, "k") == ("IA",) * 3
        assert _class_everywhere(b, "s") == ("Standard",) * 3
    finally:
        b.batch_delete_objects(["k", "s"])
        b.delete_bucket()


@pytest.mark.parametrize(("value", "ec"), [("abc", "0017-00000132"), ("standard", "0017-00000132"),
                                           ("", "0017-00000131")])
def test_invalid_storage_class_invalid_argument(workbook_bucket: oss2.Bucket, key: str, value: str,
                                                ec: str) -> None:
    header = {"x-oss-storage-class": value}
    for send in (lambda: workbook_bucket.put_object(key, b"data", headers=header),
                 lambda: workbook_bucket.append_object(key, 0, b"data", headers=header),
                 lambda: workbook_bucket.init_multipart_upload(key, headers=header)):
        with pytest.raises(oss2.exceptions.OssError) as info:
            send()
        assert (info.value.status, info.value.code, info.value.ec) == (400, "InvalidArgument", ec)
        assert info.value.details["ArgumentName"] == "x-oss-storage-class"
    assert not workbook_bucket.object_exists(key)
    assert not list(oss2.MultipartUploadIterator(workbook_bucket, prefix=key))


@pytest.mark.parametrize("value", ["Archive", "ColdArchive", "DeepColdArchive"])
def test_archive_classes_refused_honestly(workbook_bucket: oss2.Bucket, key: str, value: str) -> None:
    with pytest.raises(oss2.exceptions.OssError) as info:
        workbook_bucket.put_object(key, b"data", headers={"x-oss-storage-class": value})
    assert (info.value.status, info.value.code) == (400, "InvalidRequest")
    assert "not supported by the local cloud" in info.value.message
    assert not workbook_bucket.object_exists(key)


def test_storage_class_and_acl_survive_restart(tmp_path: Path) -> None:
    config = LocalCloudConfig(data_dir=tmp_path / "cloud", region=REGION, bucket=BUCKET)
    ctx, _ = build_context(config)
    server = LocalCloudServer(ctx).start()
    try:
        creds = json.loads(Path(config.credentials_path).read_text(encoding="utf-8"))["admin"]
        auth = oss2.Auth(creds["access_key_id"], creds["access_key_secret"])
        b = oss2.Bucket(auth, server.oss_endpoint, BUCKET)
        b.create_bucket()
        b.put_object("put", b"data", headers={"x-oss-storage-class": "IA"})
        _multipart(b, "mp", {"x-oss-storage-class": "IA", "x-oss-object-acl": "public-read"})
        pending = b.init_multipart_upload("pending", headers={"x-oss-storage-class": "IA"}).upload_id
    finally:
        server.stop()
        ctx.store.close()
    ctx, _ = build_context(config)
    server = LocalCloudServer(ctx).start()
    try:
        b = oss2.Bucket(auth, server.oss_endpoint, BUCKET)
        assert _class_everywhere(b, "put") == ("IA",) * 3
        assert _class_everywhere(b, "mp") == ("IA",) * 3
        assert b.get_object_acl("mp").acl == "public-read"
        url = b.sign_url("GET", "pending", 60, params={"uploadId": pending})
        assert _xml(requests.get(url, timeout=5)).findtext("StorageClass") == "IA"
    finally:
        server.stop()
        ctx.store.close()


# ---- ListLiveChannel (§10) ------------------------------------------------------------------------------

def test_list_live_channel_empty_oss2(scratch_bucket: oss2.Bucket) -> None:
    result = scratch_bucket.list_live_channel()
    assert (result.prefix, result.marker, result.max_keys, result.is_truncated) == ("", "", 100, False)
    assert (result.next_marker, result.channels) == ("", [])
    assert list(oss2.LiveChannelIterator(scratch_bucket)) == []
    echoed = scratch_bucket.list_live_channel(prefix="cam/", marker="cam/0", max_keys=7)
    assert (echoed.prefix, echoed.marker, echoed.max_keys, echoed.channels) == ("cam/", "cam/0", 7, [])


def test_list_live_channel_exact_bytes(scratch_bucket: oss2.Bucket) -> None:
    # Bucket._do is oss2's own sign-and-send path (sign_url takes object keys only).
    resp = scratch_bucket._do("GET", scratch_bucket.bucket_name, "", params={"live": ""})
    assert (resp.status, resp.headers["content-type"]) == (200, "application/xml")
    assert resp.read() == (b'<?xml version="1.0" encoding="UTF-8"?>\n<ListLiveChannelResult><Prefix />'
                            b'<Marker /><MaxKeys>100</MaxKeys><IsTruncated>false</IsTruncated><NextMarker />'
                            b'</ListLiveChannelResult>')


def test_list_live_channel_bad_max_keys_invalid_argument(scratch_bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.OssError) as info:
        scratch_bucket.list_live_channel(max_keys=0)
    assert (info.value.status, info.value.code) == (400, "InvalidArgument")


# ---- ListObjectVersions ---------------------------------------------------------------------------------

def test_list_object_versions_unversioned_bucket_v2(v2: oss.Client,
                                                    scratch_bucket: oss2.Bucket) -> None:
    name = scratch_bucket.bucket_name
    keys = ["a b", "dir/x", "dir/y", "z+"]
    for k in keys:
        scratch_bucket.put_object(k, k.encode())
    pages = list(v2.list_object_versions_paginator(limit=3).iter_page(
        oss.ListObjectVersionsRequest(bucket=name)))
    assert [len(p.version or []) for p in pages] == [3, 1]
    first = pages[0]
    assert (first.is_truncated, first.next_key_marker) == (True, "dir/y")
    assert first.next_version_id_marker == "null"
    versions = [v for p in pages for v in p.version or []]
    assert [(v.key, v.version_id, v.is_latest, v.size, v.storage_class, v.object_type) for v in versions] == [
        (k, "null", True, len(k), "Standard", "Normal") for k in keys]
    assert all(v.etag and v.owner.id and v.last_modified for v in versions)
    assert all(p.delete_marker is None for p in pages)
    rolled = v2.list_object_versions(oss.ListObjectVersionsRequest(bucket=name, delimiter="/"))
    assert [v.key for v in rolled.version] == ["a b", "z+"]
    assert [c.prefix for c in rolled.common_prefixes] == ["dir/"]


def test_list_object_versions_unversioned_bucket_oss2(scratch_bucket: oss2.Bucket) -> None:
    scratch_bucket.put_object("k1", b"one", headers={"x-oss-storage-class": "IA"})
    result = scratch_bucket.list_object_versions()
    assert (result.is_truncated, result.delete_marker, result.max_keys) == (False, [], 100)
    (v,) = result.versions
    assert (v.key, v.versionid, v.is_latest, v.size, v.storage_class) == ("k1", "null", True, 3, "IA")
    assert v.etag == scratch_bucket.head_object("k1").etag


def test_v2_clean_up_helper_flow_empties_the_bucket(v2: oss.Client,
                                                    scratch_bucket: oss2.Bucket) -> None:
    """What alibabacloud-oss-v2's tests/integration `clean_bucket` does, step by step."""
    name = scratch_bucket.bucket_name
    for k in ("v1", "v2", "v3"):
        scratch_bucket.put_object(k, b"x")
    scratch_bucket.init_multipart_upload("up")
    key_marker, id_marker, truncated = "", "", True
    while truncated:   # clean_versions
        result = v2.list_object_versions(oss.ListObjectVersionsRequest(
            bucket=name, key_marker=key_marker, version_id_marker=id_marker, max_keys=2))
        objects = [oss.DeleteObject(key=v.key, version_id=v.version_id) for v in result.version or []]
        if objects:
            v2.delete_multiple_objects(oss.DeleteMultipleObjectsRequest(bucket=name, objects=objects))
        truncated, key_marker, id_marker = (result.is_truncated, result.next_key_marker,
                                            result.next_version_id_marker)
    assert v2.list_objects(oss.ListObjectsRequest(bucket=name)).contents is None
    for up in v2.list_multipart_uploads(oss.ListMultipartUploadsRequest(bucket=name)).uploads:
        v2.abort_multipart_upload(oss.AbortMultipartUploadRequest(bucket=name, key=up.key,
                                                                               upload_id=up.upload_id))
    v2.delete_bucket(oss.DeleteBucketRequest(bucket=name))
    assert v2.is_bucket_exist(name) is False
    scratch_bucket.create_bucket()   # for the fixture's own clean-up


def test_oss2_clean_up_helper_flow(scratch_bucket: oss2.Bucket) -> None:
    """What oss2's tests/common.py `clean_and_delete_bucket` does (minus deleting the bucket)."""
    scratch_bucket.put_object("k", b"x")
    assert scratch_bucket.get_bucket_info().versioning_status is None   # so no version loop
    for up in oss2.MultipartUploadIterator(scratch_bucket):
        scratch_bucket.abort_multipart_upload(up.key, up.upload_id)
    for obj in oss2.ObjectIterator(scratch_bucket):
        scratch_bucket.delete_object(obj.key)
    for channel in oss2.LiveChannelIterator(scratch_bucket):
        scratch_bucket.delete_live_channel(channel.name)
    assert list(oss2.ObjectIterator(scratch_bucket)) == []


@pytest.mark.parametrize(("method", "path", "query"), [
    ("PUT", "", "live"), ("DELETE", "", "live"), ("GET", "k", "live"), ("PUT", "ch", "live"),
    ("GET", "", "live&comp=stat"), ("GET", "", "versioning"), ("PUT", "", "versioning"),
    ("GET", "k", "versions"), ("GET", "", "live&versions"), ("GET", "", "tagging"),
])
def test_other_uses_still_refused(workbook_bucket: oss2.Bucket, method: str, path: str, query: str) -> None:
    params = dict(part.partition("=")[::2] for part in query.split("&"))
    with pytest.raises(oss2.exceptions.OssError) as info:
        workbook_bucket._do(method, BUCKET, path, params=params)
    assert (info.value.status, info.value.code) == (400, "InvalidRequest")
    assert "not supported by the local cloud" in info.value.message


def test_anonymous_listing_on_missing_bucket_no_such_bucket(cloud: LocalCloudServer,
                                                            unique: Callable[[str], str]) -> None:
    resp = requests.get(f"{cloud.oss_endpoint}/{unique('gone')}/hello.txt", timeout=5)
    assert _error(resp) == (404, "NoSuchBucket", "0015-00000101")
    head = requests.head(f"{cloud.oss_endpoint}/{unique('gone')}/hello.txt", timeout=5)
    assert ET.fromstring(base64.b64decode(head.headers["x-oss-err"])).findtext("Code") == "NoSuchBucket"
