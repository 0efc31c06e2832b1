"""oss2 conformance: objects, listings, buckets, signed URLs and multipart against the local cloud's OSS
port over real loopback HTTP. Every test runs twice: V1 (`oss2.Auth`) and V4 (`oss2.AuthV4`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import oss2
import pytest
import requests
from oss2.exceptions import (
    AccessDenied,
    BucketNotEmpty,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    NotModified,
    PositionNotEqualToLength,
    PreconditionFailed,
)

from helpers.localcloud.server import LocalCloudServer

REGION = "cn-hangzhou"
AWKWARD_NAMES = ["a b.txt", "a+b.txt", "中文/文件.txt", "dir/sub/leaf", "100%.bin", "x&y=z.txt"]


@pytest.fixture(params=["v1", "v4"])
def auth(request: pytest.FixtureRequest, creds: dict[str, Any]) -> oss2.Auth | oss2.AuthV4:
    ak, secret = creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"]
    return oss2.Auth(ak, secret) if request.param == "v1" else oss2.AuthV4(ak, secret)


@pytest.fixture
def bucket(cloud: LocalCloudServer, auth: oss2.Auth, workbook_bucket: oss2.Bucket) -> oss2.Bucket:
    return oss2.Bucket(auth, cloud.oss_endpoint, workbook_bucket.bucket_name, region=REGION)


@pytest.fixture
def prefix(unique: Callable[[str], str]) -> str:
    return unique("t") + "/"


def _data(n: int, seed: bytes = b"x") -> bytes:
    return (hashlib.sha256(seed).digest() * (n // 32 + 1))[:n]


# ---- object CRUD -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_object_awkward_key_round_trip_preserved(bucket: oss2.Bucket, prefix: str, name: str) -> None:
    key = prefix + name
    put = bucket.put_object(key, b"payload " + name.encode())
    assert put.status == 200 and put.crc is not None
    assert bucket.get_object(key).read() == b"payload " + name.encode()
    assert [o.key for o in oss2.ObjectIterator(bucket, prefix=prefix)] == [key]
    bucket.delete_object(key)
    assert not bucket.object_exists(key)


def test_put_object_user_meta_and_content_type_returned(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "meta.bin"
    bucket.put_object(key, b"hello", headers={"Content-Type": "text/x-demo", "x-oss-meta-Owner": "Alice",
                                              "Cache-Control": "no-cache"})
    got = bucket.get_object(key)
    assert got.read() == b"hello"
    assert got.content_type == "text/x-demo"
    assert got.headers["x-oss-meta-owner"] == "Alice"
    assert got.headers["Cache-Control"] == "no-cache"
    assert got.server_crc == got.client_crc
    head = bucket.head_object(key)
    assert head.content_length == 5 and head.content_type == "text/x-demo"
    assert head.etag == hashlib.md5(b"hello").hexdigest().upper()
    assert head.headers["x-oss-meta-owner"] == "Alice"


def test_put_object_extension_guesses_content_type(bucket: oss2.Bucket, prefix: str) -> None:
    bucket.put_object(prefix + "note.txt", b"hi")
    assert bucket.head_object(prefix + "note.txt").content_type == "text/plain"


def test_get_object_range_partial_content(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "range.bin"
    data = _data(1000)
    bucket.put_object(key, data)
    part = bucket.get_object(key, byte_range=(10, 19))
    assert part.status == 206
    assert part.read() == data[10:20]
    assert part.headers["Content-Range"] == "bytes 10-19/1000"
    assert part.content_length == 10
    tail = bucket.get_object(key, byte_range=(None, 5))
    assert (tail.status, tail.read()) == (206, data[-5:])


@pytest.mark.parametrize("byte_range", [(1000, 2000), (0, 1000), (None, 2000)])
def test_get_object_invalid_range_whole_object(bucket: oss2.Bucket, prefix: str,
                                               byte_range: tuple[int | None, int | None]) -> None:
    key = prefix + "range.bin"
    data = _data(1000)
    bucket.put_object(key, data)
    got = bucket.get_object(key, byte_range=byte_range)
    assert got.status == 200
    assert got.read() == data


def test_get_object_if_none_match_not_modified(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "cond.bin"
    etag = bucket.put_object(key, b"abc").etag
    with pytest.raises(NotModified) as info:
        bucket.get_object(key, headers={"If-None-Match": f'"{etag}"'})
    assert info.value.status == 304
    assert bucket.get_object(key, headers={"If-None-Match": '"0000"'}).read() == b"abc"


def test_get_object_if_match_mismatch_precondition_failed(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "cond.bin"
    etag = bucket.put_object(key, b"abc").etag
    assert bucket.get_object(key, headers={"If-Match": etag}).read() == b"abc"   # unquoted, as oss2 sends
    with pytest.raises(PreconditionFailed) as info:
        bucket.get_object(key, headers={"If-Match": '"0000"'})
    assert (info.value.status, info.value.code) == (412, "PreconditionFailed")
    assert info.value.details["Condition"] == "If-Match"


def test_object_exists_true_false(bucket: oss2.Bucket, prefix: str) -> None:
    bucket.put_object(prefix + "here", b"1")
    assert bucket.object_exists(prefix + "here")
    assert not bucket.object_exists(prefix + "absent")


def test_object_exists_missing_bucket_reraises_no_such_bucket(cloud: LocalCloudServer, auth: oss2.Auth,
                                                              unique: Callable[[str], str]) -> None:
    missing = oss2.Bucket(auth, cloud.oss_endpoint, unique("nob"), region=REGION)
    with pytest.raises(NoSuchBucket) as info:
        missing.object_exists("k")
    assert info.value.status == 404


def test_get_object_missing_key_no_such_key(bucket: oss2.Bucket, prefix: str) -> None:
    with pytest.raises(NoSuchKey) as info:
        bucket.get_object(prefix + "absent")
    assert info.value.details["Key"] == prefix + "absent"
    assert info.value.ec == "0026-00000001"


def test_head_object_missing_key_no_such_key_from_header(bucket: oss2.Bucket, prefix: str) -> None:
    with pytest.raises(NoSuchKey) as info:
        bucket.head_object(prefix + "absent")
    assert info.value.status == 404 and info.value.ec == "0026-00000001"


def test_get_object_meta_returns_size_and_etag(bucket: oss2.Bucket, prefix: str) -> None:
    etag = bucket.put_object(prefix + "m", b"12345").etag
    meta = bucket.get_object_meta(prefix + "m")
    assert meta.content_length == 5 and meta.etag == etag
    assert meta.last_modified > 0


def test_delete_object_missing_key_no_content(bucket: oss2.Bucket, prefix: str) -> None:
    assert bucket.delete_object(prefix + "never").status == 204


def test_batch_delete_objects_deletes_listed_keys(bucket: oss2.Bucket, prefix: str) -> None:
    keys = [prefix + n for n in ("a b", "c+d", "目录/e")]
    for k in keys:
        bucket.put_object(k, b"x")
    bucket.put_object(prefix + "keep", b"x")
    result = bucket.batch_delete_objects(keys)
    assert sorted(result.deleted_keys) == sorted(keys)
    assert [o.key for o in oss2.ObjectIterator(bucket, prefix=prefix)] == [prefix + "keep"]


def test_copy_object_copies_data_and_meta(bucket: oss2.Bucket, prefix: str) -> None:
    bucket.put_object(prefix + "src one", b"copy me", headers={"x-oss-meta-k": "v"})
    result = bucket.copy_object(bucket.bucket_name, prefix + "src one", prefix + "dst/二")
    assert result.status == 200
    got = bucket.get_object(prefix + "dst/二")
    assert got.read() == b"copy me" and got.headers["x-oss-meta-k"] == "v"


def test_update_object_meta_replaces_meta_keeps_data(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "upd"
    bucket.put_object(key, b"same", headers={"x-oss-meta-old": "1"})
    bucket.update_object_meta(key, {"Content-Type": "text/csv", "x-oss-meta-new": "2"})
    head = bucket.head_object(key)
    assert head.content_type == "text/csv"
    assert head.headers["x-oss-meta-new"] == "2" and "x-oss-meta-old" not in head.headers
    assert bucket.get_object(key).read() == b"same"


def test_append_object_extends_and_checks_position(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "log.txt"
    first = bucket.append_object(key, 0, b"hello ")
    assert first.next_position == 6
    second = bucket.append_object(key, first.next_position, b"world", init_crc=first.crc)
    assert second.next_position == 11 and second.crc is not None
    assert bucket.get_object(key).read() == b"hello world"
    assert bucket.head_object(key).object_type == "Appendable"
    with pytest.raises(PositionNotEqualToLength) as info:
        bucket.append_object(key, 3, b"!")
    assert info.value.status == 409


def test_object_acl_put_get_and_anonymous_read(cloud: LocalCloudServer, bucket: oss2.Bucket,
                                               prefix: str) -> None:
    key = prefix + "pub.txt"
    bucket.put_object(key, b"public")
    assert bucket.get_object_acl(key).acl == oss2.OBJECT_ACL_DEFAULT
    url = f"{cloud.oss_endpoint}/{bucket.bucket_name}/{key}"
    assert requests.get(url, timeout=5).status_code == 403
    bucket.put_object_acl(key, oss2.OBJECT_ACL_PUBLIC_READ)
    assert bucket.get_object_acl(key).acl == oss2.OBJECT_ACL_PUBLIC_READ
    anon = requests.get(url, timeout=5)
    assert (anon.status_code, anon.content) == (200, b"public")


# ---- listing ---------------------------------------------------------------------------------------

@pytest.fixture
def tree(bucket: oss2.Bucket, prefix: str) -> list[str]:
    names = ["a b/1", "a b/2", "a+b", "c%d", "d&e", "中文/x", "中文/y", "z z", "zz/deep/er"]
    keys = [prefix + n for n in names]
    for k in keys:
        bucket.put_object(k, b"")
    return sorted(keys, key=lambda k: k.encode("utf-8"))


def test_object_iterator_paging_returns_all_keys_in_byte_order(bucket: oss2.Bucket, prefix: str,
                                                               tree: list[str]) -> None:
    assert [o.key for o in oss2.ObjectIterator(bucket, prefix=prefix, max_keys=2)] == tree


def test_object_iterator_v2_paging_returns_all_keys_in_byte_order(bucket: oss2.Bucket, prefix: str,
                                                                  tree: list[str]) -> None:
    assert [o.key for o in oss2.ObjectIteratorV2(bucket, prefix=prefix, max_keys=2)] == tree


@pytest.mark.parametrize("iterator", [oss2.ObjectIterator, oss2.ObjectIteratorV2])
def test_object_iterator_delimiter_rolls_up_prefixes(bucket: oss2.Bucket, prefix: str, tree: list[str],
                                                     iterator: type) -> None:
    entries = list(iterator(bucket, prefix=prefix, delimiter="/", max_keys=2))
    dirs = [e.key for e in entries if e.is_prefix()]
    files = [e.key for e in entries if not e.is_prefix()]
    assert dirs == [prefix + "a b/", prefix + "zz/", prefix + "中文/"]
    assert files == [prefix + n for n in ("a+b", "c%d", "d&e", "z z")]


def test_list_objects_page_truncated_next_marker(bucket: oss2.Bucket, prefix: str, tree: list[str]) -> None:
    page = bucket.list_objects(prefix=prefix, max_keys=3)
    assert page.is_truncated and page.next_marker == tree[2]
    rest = bucket.list_objects(prefix=prefix, marker=page.next_marker, max_keys=100)
    assert [o.key for o in rest.object_list] == tree[3:] and not rest.is_truncated


def test_list_objects_v2_start_after_and_key_count(bucket: oss2.Bucket, prefix: str, tree: list[str]) -> None:
    page = bucket.list_objects_v2(prefix=prefix, start_after=tree[5], max_keys=2, fetch_owner=True)
    assert [o.key for o in page.object_list] == tree[6:8]
    assert page.is_truncated and page.next_continuation_token
    assert page.object_list[0].owner is not None


def test_list_objects_bad_max_keys_invalid_argument(bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.InvalidArgument) as info:
        bucket.list_objects(max_keys=1001)
    assert info.value.status == 400 and info.value.details["ArgumentName"] == "max-keys"


# ---- signed URLs -----------------------------------------------------------------------------------

def test_sign_url_get_readable_by_plain_requests(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "signed get/文件 +.txt"
    bucket.put_object(key, b"signed")
    resp = requests.get(bucket.sign_url("GET", key, 60), timeout=5)
    assert (resp.status_code, resp.content) == (200, b"signed")


def test_sign_url_put_with_content_type_bound(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "signed put.bin"
    url = bucket.sign_url("PUT", key, 60, headers={"Content-Type": "image/png"})
    wrong = requests.put(url, data=b"png?", headers={"Content-Type": "text/plain"}, timeout=5)
    assert wrong.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in wrong.text
    resp = requests.put(url, data=b"png!", headers={"Content-Type": "image/png"}, timeout=5)
    assert resp.status_code == 200, resp.text
    head = bucket.head_object(key)
    assert head.content_type == "image/png" and bucket.get_object(key).read() == b"png!"


# ---- buckets ---------------------------------------------------------------------------------------

def test_bucket_lifecycle_create_info_acl_delete(cloud: LocalCloudServer, auth: oss2.Auth,
                                                 unique: Callable[[str], str]) -> None:
    name = unique("bkt")
    b = oss2.Bucket(auth, cloud.oss_endpoint, name, region=REGION)
    assert b.create_bucket(oss2.BUCKET_ACL_PRIVATE).status == 200
    info = b.get_bucket_info()
    assert info.name == name and info.location == f"oss-{REGION}" and info.acl.grant == "private"
    assert info.storage_class == "Standard"
    assert b.get_bucket_location().location == f"oss-{REGION}"
    b.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    assert b.get_bucket_acl().acl == "public-read"
    names = [x.name for x in oss2.BucketIterator(oss2.Service(auth, cloud.oss_endpoint, region=REGION))]
    assert name in names
    listed = oss2.Service(auth, cloud.oss_endpoint, region=REGION).list_buckets(prefix=name)
    assert [x.name for x in listed.buckets] == [name]
    b.put_object("k", b"v")
    with pytest.raises(BucketNotEmpty) as info_err:
        b.delete_bucket()
    assert (info_err.value.status, info_err.value.code) == (409, "BucketNotEmpty")
    b.delete_object("k")
    assert b.delete_bucket().status == 204
    with pytest.raises(NoSuchBucket) as gone:
        b.get_bucket_info()
    assert gone.value.details["BucketName"] == name


def test_create_bucket_invalid_name_refused(cloud: LocalCloudServer, auth: oss2.Auth) -> None:
    b = oss2.Bucket(auth, cloud.oss_endpoint, "placeholder", region=REGION)
    b.bucket_name = "bad_name"   # oss2 refuses it client-side; bypass that check to reach the server
    with pytest.raises(oss2.exceptions.ServerError) as info:
        b.create_bucket()
    assert (info.value.status, info.value.code) == (400, "InvalidBucketName")
    assert info.value.details["BucketName"] == "bad_name"


# ---- multipart -------------------------------------------------------------------------------------

def test_resumable_upload_and_download_multipart_crc_checked(bucket: oss2.Bucket, prefix: str,
                                                             tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    data = os.urandom(2 * 1024 * 1024 + 12345)
    src.write_bytes(data)
    key = prefix + "big file.bin"
    assert bucket.enable_crc
    result = oss2.resumable_upload(bucket, key, str(src), store=oss2.ResumableStore(root=str(tmp_path)),
                                   multipart_threshold=200 * 1024, part_size=100 * 1024, num_threads=4)
    assert result.status == 200
    head = bucket.head_object(key)
    assert head.object_type == "Multipart" and head.content_length == len(data)
    dst = tmp_path / "dst.bin"
    oss2.resumable_download(bucket, key, str(dst), store=oss2.ResumableDownloadStore(root=str(tmp_path)),
                            multiget_threshold=200 * 1024, part_size=256 * 1024, num_threads=4)
    assert dst.read_bytes() == data


def test_resumable_upload_resumes_existing_upload(bucket: oss2.Bucket, prefix: str, tmp_path: Path) -> None:
    src = tmp_path / "resume.bin"
    data = os.urandom(500 * 1024)
    src.write_bytes(data)
    key = prefix + "resume.bin"
    store = oss2.ResumableStore(root=str(tmp_path))
    calls: list[int] = []

    def fail_after_two(consumed: int, total: int | None) -> None:
        calls.append(consumed)
        if len(calls) > 3:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError):
        oss2.resumable_upload(bucket, key, str(src), store=store, multipart_threshold=100 * 1024,
                              part_size=100 * 1024, num_threads=1, progress_callback=fail_after_two)
    pending = list(oss2.MultipartUploadIterator(bucket, prefix=key))
    assert len(pending) == 1
    done_parts = list(oss2.PartIterator(bucket, key, pending[0].upload_id))
    assert 1 <= len(done_parts) < 5
    oss2.resumable_upload(bucket, key, str(src), store=store, multipart_threshold=100 * 1024,
                          part_size=100 * 1024, num_threads=2)
    assert bucket.get_object(key).read() == data
    assert list(oss2.MultipartUploadIterator(bucket, prefix=key)) == []


def test_multipart_low_level_init_parts_list_complete(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "mp/对象 1"
    headers = {"Content-Type": "text/x-mp", "x-oss-meta-origin": "mp"}
    upload_id = bucket.init_multipart_upload(key, headers=headers).upload_id
    chunks = [_data(100 * 1024, b"1"), _data(100 * 1024, b"2"), b"tail"]
    parts = []
    for n, chunk in enumerate(chunks, start=1):
        r = bucket.upload_part(key, upload_id, n, chunk)
        assert r.etag == hashlib.md5(chunk).hexdigest().upper()
        parts.append(oss2.models.PartInfo(n, r.etag, size=len(chunk), part_crc=r.crc))
    listed = bucket.list_parts(key, upload_id, max_parts=2)
    assert [p.part_number for p in listed.parts] == [1, 2] and listed.is_truncated
    assert listed.next_marker == "2"
    uploads = [u.upload_id for u in oss2.MultipartUploadIterator(bucket, prefix=prefix + "mp/")]
    assert uploads == [upload_id]
    done = bucket.complete_multipart_upload(key, upload_id, parts)
    assert done.status == 200 and done.crc is not None
    got = bucket.get_object(key)
    assert got.read() == b"".join(chunks) and got.content_type == "text/x-mp"
    assert got.headers["x-oss-meta-origin"] == "mp"
    with pytest.raises(NoSuchUpload):
        bucket.list_parts(key, upload_id)


def test_multipart_small_middle_part_entity_too_small(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "small"
    upload_id = bucket.init_multipart_upload(key).upload_id
    parts = [oss2.models.PartInfo(n, bucket.upload_part(key, upload_id, n, b"tiny").etag) for n in (1, 2)]
    with pytest.raises(oss2.exceptions.ServerError) as info:
        bucket.complete_multipart_upload(key, upload_id, parts)
    assert (info.value.status, info.value.code) == (400, "EntityTooSmall")
    bucket.abort_multipart_upload(key, upload_id)


def test_multipart_abort_then_no_such_upload(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "aborted"
    upload_id = bucket.init_multipart_upload(key).upload_id
    bucket.upload_part(key, upload_id, 1, b"data")
    assert bucket.abort_multipart_upload(key, upload_id).status == 204
    with pytest.raises(NoSuchUpload) as info:
        bucket.abort_multipart_upload(key, upload_id)
    assert (info.value.status, info.value.details["UploadId"]) == (404, upload_id)
    assert not bucket.object_exists(key)


def test_upload_part_unknown_upload_no_such_upload(bucket: oss2.Bucket, prefix: str) -> None:
    with pytest.raises(NoSuchUpload):
        bucket.upload_part(prefix + "x", "0" * 32, 1, b"data")


def test_access_denied_for_anonymous_list(cloud: LocalCloudServer, bucket: oss2.Bucket) -> None:
    anon = oss2.Bucket(oss2.AnonymousAuth(), cloud.oss_endpoint, bucket.bucket_name)
    with pytest.raises(AccessDenied) as info:
        anon.list_objects()
    assert info.value.message == "You have no right to access this object because of bucket acl."


# ---- edge cases ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["dir/", "a//b", "trailing space ", "~!@#$^*()_-=[]{};',.", "é/ü/ß"])
def test_object_unusual_key_listed_verbatim(bucket: oss2.Bucket, prefix: str, name: str) -> None:
    key = prefix + name
    bucket.put_object(key, b"")
    assert [o.key for o in oss2.ObjectIteratorV2(bucket, prefix=prefix)] == [key]
    assert bucket.get_object(key).read() == b""


def test_listing_prefix_with_space_plus_and_chinese(bucket: oss2.Bucket, prefix: str,
                                                     tree: list[str]) -> None:
    assert [o.key for o in oss2.ObjectIterator(bucket, prefix=prefix + "a b/", max_keys=1)] == tree[:2]
    assert [o.key for o in oss2.ObjectIteratorV2(bucket, prefix=prefix + "a+")] == [prefix + "a+b"]
    assert [o.key for o in oss2.ObjectIteratorV2(bucket, prefix=prefix + "中文/", max_keys=1)] == [
        prefix + "中文/x", prefix + "中文/y"]


def test_put_object_leading_slash_invalid_object_name(bucket: oss2.Bucket, prefix: str) -> None:
    with pytest.raises(oss2.exceptions.InvalidObjectName) as info:
        bucket.put_object("/" + prefix + "x", b"x")
    assert (info.value.status, info.value.code) == (400, "InvalidObjectName")


def test_put_object_chunked_generator_body(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "chunked.bin"
    result = bucket.put_object(key, iter([b"chunk-1;", b"chunk-2;", b"end"]))
    assert result.status == 200 and result.crc is not None   # oss2 has already compared it with its own
    assert bucket.get_object(key).read() == b"chunk-1;chunk-2;end"


def test_put_object_forbid_overwrite_file_already_exists(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "once"
    bucket.put_object(key, b"first", headers={"x-oss-forbid-overwrite": "true"})
    with pytest.raises(oss2.exceptions.ServerError) as info:
        bucket.put_object(key, b"second", headers={"x-oss-forbid-overwrite": "true"})
    assert (info.value.status, info.value.code) == (409, "FileAlreadyExists")
    assert bucket.get_object(key).read() == b"first"


def test_head_object_if_none_match_not_modified(bucket: oss2.Bucket, prefix: str) -> None:
    etag = bucket.put_object(prefix + "h", b"abc").etag
    with pytest.raises(NotModified):
        bucket.head_object(prefix + "h", headers={"If-None-Match": f'"{etag}"'})


def test_get_object_response_header_overrides(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "dl.bin"
    bucket.put_object(key, b"file")
    params = {"response-content-type": "text/x-over",
              "response-content-disposition": "attachment; filename=a.txt"}
    got = bucket.get_object(key, params=params)
    assert got.content_type == "text/x-over"
    assert got.headers["Content-Disposition"] == "attachment; filename=a.txt"
    url = bucket.sign_url("GET", key, 60, params=params)
    resp = requests.get(url, timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/x-over"


def test_copy_object_source_if_match_mismatch_precondition_failed(bucket: oss2.Bucket, prefix: str) -> None:
    bucket.put_object(prefix + "s", b"src")
    with pytest.raises(PreconditionFailed):
        bucket.copy_object(bucket.bucket_name, prefix + "s", prefix + "d",
                           headers={"x-oss-copy-source-if-match": '"0000"'})
    assert not bucket.object_exists(prefix + "d")


def test_copy_object_missing_source_no_such_key(bucket: oss2.Bucket, prefix: str) -> None:
    with pytest.raises(NoSuchKey):
        bucket.copy_object(bucket.bucket_name, prefix + "nothing", prefix + "d")


def test_multipart_wrong_etag_invalid_part_and_order(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "bad-complete"
    upload_id = bucket.init_multipart_upload(key).upload_id
    e1 = bucket.upload_part(key, upload_id, 1, _data(100 * 1024)).etag
    e2 = bucket.upload_part(key, upload_id, 2, b"tail").etag
    with pytest.raises(oss2.exceptions.ServerError) as info:
        bucket.complete_multipart_upload(key, upload_id, [oss2.models.PartInfo(1, "0" * 32),
                                                          oss2.models.PartInfo(2, e2)])
    assert (info.value.status, info.value.code) == (400, "InvalidPart")
    # oss2 sorts the parts itself, so the out-of-order body goes through its own sign-and-send path.
    body = (f"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>\"{e2}\"</ETag></Part>"
            f"<Part><PartNumber>1</PartNumber><ETag>\"{e1}\"</ETag></Part></CompleteMultipartUpload>")
    with pytest.raises(oss2.exceptions.ServerError) as info:
        bucket._do("POST", bucket.bucket_name, key, data=body.encode(), params={"uploadId": upload_id})
    assert (info.value.status, info.value.code) == (400, "InvalidPartOrder")
    done = bucket.complete_multipart_upload(key, upload_id, [oss2.models.PartInfo(1, e1),
                                                             oss2.models.PartInfo(2, e2)])
    assert done.status == 200


def test_multipart_upload_id_of_other_key_no_such_upload(bucket: oss2.Bucket, prefix: str) -> None:
    upload_id = bucket.init_multipart_upload(prefix + "one").upload_id
    with pytest.raises(NoSuchUpload):
        bucket.upload_part(prefix + "two", upload_id, 1, b"x")
    bucket.abort_multipart_upload(prefix + "one", upload_id)


def test_multipart_complete_all_header_uses_uploaded_parts(bucket: oss2.Bucket, prefix: str) -> None:
    key = prefix + "all"
    upload_id = bucket.init_multipart_upload(key).upload_id
    bucket.upload_part(key, upload_id, 1, _data(100 * 1024))
    bucket.upload_part(key, upload_id, 2, b"end")
    bucket.complete_multipart_upload(key, upload_id, None, headers={"x-oss-complete-all": "yes"})
    assert bucket.get_object(key).read() == _data(100 * 1024) + b"end"


def test_public_read_bucket_anonymous_list_and_get(cloud: LocalCloudServer, auth: oss2.Auth,
                                                   unique: Callable[[str], str]) -> None:
    name = unique("pub")
    b = oss2.Bucket(auth, cloud.oss_endpoint, name, region=REGION)
    b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    b.put_object("k y", b"open")
    anon = oss2.Bucket(oss2.AnonymousAuth(), cloud.oss_endpoint, name)
    assert [o.key for o in oss2.ObjectIterator(anon)] == ["k y"]
    assert anon.get_object("k y").read() == b"open"
    with pytest.raises(AccessDenied):
        anon.put_object("new", b"x")
    b.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    assert anon.put_object("new", b"x").status == 200
    with pytest.raises(AccessDenied):
        anon.get_bucket_acl()


def test_upload_part_copy_ranges_of_source_assembled(bucket: oss2.Bucket, prefix: str) -> None:
    src = _data(300 * 1024, b"src")
    bucket.put_object(prefix + "src", src)
    key = prefix + "assembled 对象"
    upload_id = bucket.init_multipart_upload(key).upload_id
    r1 = bucket.upload_part_copy(bucket.bucket_name, prefix + "src", (0, 200 * 1024 - 1), key, upload_id, 1)
    r2 = bucket.upload_part_copy(bucket.bucket_name, prefix + "src", (200 * 1024, None), key, upload_id, 2)
    assert r1.etag == hashlib.md5(src[:200 * 1024]).hexdigest().upper()
    parts = [oss2.models.PartInfo(1, r1.etag), oss2.models.PartInfo(2, r2.etag)]
    assert [p.size for p in bucket.list_parts(key, upload_id).parts] == [200 * 1024, 100 * 1024]
    bucket.complete_multipart_upload(key, upload_id, parts)
    assert bucket.get_object(key).read() == src


def test_upload_part_copy_missing_source_no_such_key(bucket: oss2.Bucket, prefix: str) -> None:
    upload_id = bucket.init_multipart_upload(prefix + "t").upload_id
    with pytest.raises(NoSuchKey):
        bucket.upload_part_copy(bucket.bucket_name, prefix + "none", None, prefix + "t", upload_id, 1)
    bucket.abort_multipart_upload(prefix + "t", upload_id)


def test_unsupported_subresource_refused_object_untouched(bucket: oss2.Bucket, prefix: str) -> None:
    # The local cloud has no object tagging: the SDK call must fail, not delete or overwrite the object.
    key = prefix + "tagged"
    bucket.put_object(key, b"keep me")
    with pytest.raises(oss2.exceptions.ServerError) as info:
        bucket.put_object_tagging(key, oss2.models.Tagging(oss2.models.TaggingRule()))
    assert (info.value.status, info.value.code) == (400, "InvalidRequest")
    with pytest.raises(oss2.exceptions.ServerError):
        bucket.delete_object_tagging(key)
    assert bucket.get_object(key).read() == b"keep me"
