"""ObjectStore on a real temp directory: round trips, listing order and paging, overwrite, snapshot
reads, digest checks, multipart rules, bucket rules, restart recovery and thread safety."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.localcloud.errors import (
    BucketNotEmpty,
    EntityTooSmall,
    FileAlreadyExists,
    InvalidDigest,
    InvalidObjectName,
    InvalidPart,
    InvalidPartOrder,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    ObjectNotAppendable,
    PositionNotEqualToLength,
)
from helpers.localcloud.store import MIN_PART_SIZE, ObjectMeta, ObjectStore, ObjectTemplate, crc64

B = "bkt"


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ObjectStore]:
    s = ObjectStore(tmp_path / "data", now=FakeClock())
    s.create_bucket(B, owner_id="owner", acl="private", region="cn-hangzhou")
    yield s
    s.close()


def put(store: ObjectStore, key: str, data: bytes, bucket: str = B, **kw: object) -> ObjectMeta:
    pending = store.begin_write(bucket)
    for i in range(0, len(data), 1000):
        pending.write(data[i:i + 1000])
    return store.commit_object(pending, key=key, **kw)  # type: ignore[arg-type]


def get(store: ObjectStore, key: str, bucket: str = B) -> bytes:
    _, reader = store.open_read(bucket, key)
    with reader:
        return b"".join(reader.read_range(0, reader.size - 1, 4096)) if reader.size else b""


def upload_part(store: ObjectStore, upload_id: str, number: int, data: bytes) -> str:
    pending = store.begin_write(B)
    pending.write(data)
    return store.commit_part(pending, bucket=B, upload_id=upload_id, part_number=number).etag


def tmp_files(store: ObjectStore) -> list[str]:
    return os.listdir(store.tmp_dir)


# ------------------------------------------------------------------ objects

def test_store_put_then_get_round_trips_data_and_metadata(store: ObjectStore) -> None:
    data = os.urandom(12345)
    meta = put(store, "dir/file.bin", data, content_type="image/png", user_meta={"author": "alice"},
               headers={"Cache-Control": "no-cache"})
    md5 = hashlib.md5(data)
    assert meta.etag == f'"{md5.hexdigest().upper()}"'
    assert meta.content_md5 == base64.b64encode(md5.digest()).decode()
    assert (meta.size, meta.crc64, meta.object_type) == (len(data), crc64(data), "Normal")
    assert store.head(B, "dir/file.bin") == meta
    assert get(store, "dir/file.bin") == data
    assert meta.last_modified == 1_700_000_000.0


def test_store_empty_object_round_trips(store: ObjectStore) -> None:
    meta = put(store, "empty", b"")
    assert (meta.size, meta.crc64) == (0, 0)
    assert get(store, "empty") == b""


def test_store_read_range_returns_slice_in_bounded_chunks(store: ObjectStore) -> None:
    data = bytes(range(256)) * 40
    put(store, "k", data)
    _, reader = store.open_read(B, "k")
    with reader:
        chunks = list(reader.read_range(100, 5099, chunk_size=1000))
    assert b"".join(chunks) == data[100:5100]
    assert max(len(c) for c in chunks) == 1000


def test_store_head_missing_key_raises_no_such_key_with_key(store: ObjectStore) -> None:
    with pytest.raises(NoSuchKey) as exc:
        store.head(B, "nope")
    assert exc.value.extra == {"Key": "nope"}


def test_store_missing_bucket_raises_no_such_bucket_with_name(store: ObjectStore) -> None:
    with pytest.raises(NoSuchBucket) as exc:
        store.head("other-bucket", "k")
    assert exc.value.extra == {"BucketName": "other-bucket"}


def test_store_overwrite_replaces_content_and_metadata(store: ObjectStore) -> None:
    put(store, "k", b"old", content_type="text/plain")
    meta = put(store, "k", b"new content", content_type="text/html")
    assert get(store, "k") == b"new content"
    assert store.head(B, "k") == meta
    assert [e.key for e in store.list_objects(B).entries] == ["k"]


def test_store_open_reader_keeps_snapshot_after_overwrite_and_delete(store: ObjectStore) -> None:
    put(store, "k", b"first version " * 1000)
    meta, reader = store.open_read(B, "k")
    put(store, "k", b"second")
    store.delete(B, "k")
    with reader:
        assert b"".join(reader.read_range(0, meta.size - 1)) == b"first version " * 1000


def test_store_md5_mismatch_raises_invalid_digest_and_stores_nothing(store: ObjectStore) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(InvalidDigest):
        put(store, "k", b"body", expected_md5_b64=wrong)
    with pytest.raises(NoSuchKey):
        store.head(B, "k")
    assert store.list_objects(B).entries == []
    assert tmp_files(store) == []


def test_store_md5_match_commits(store: ObjectStore) -> None:
    good = base64.b64encode(hashlib.md5(b"body").digest()).decode()
    assert put(store, "k", b"body", expected_md5_b64=good).size == 4


def test_store_forbid_overwrite_existing_key_raises_and_keeps_original(store: ObjectStore) -> None:
    put(store, "k", b"original")
    with pytest.raises(FileAlreadyExists):
        put(store, "k", b"replacement", forbid_overwrite=True)
    assert get(store, "k") == b"original"
    assert tmp_files(store) == []


def test_store_delete_is_idempotent(store: ObjectStore) -> None:
    put(store, "k", b"x")
    store.delete(B, "k")
    store.delete(B, "k")
    with pytest.raises(NoSuchKey):
        store.open_read(B, "k")


def test_store_abort_pending_write_is_idempotent_and_leaves_no_file(store: ObjectStore) -> None:
    pending = store.begin_write(B)
    pending.write(b"partial")
    pending.abort()
    pending.abort()
    assert tmp_files(store) == []


def test_store_commit_after_bucket_deleted_raises_no_such_bucket(store: ObjectStore) -> None:
    store.create_bucket("short-lived", owner_id="o", region="cn-hangzhou")
    pending = store.begin_write("short-lived")
    pending.write(b"data")
    store.delete_bucket("short-lived")
    with pytest.raises(NoSuchBucket):
        store.commit_object(pending, key="k")
    assert tmp_files(store) == []


def test_store_object_file_names_do_not_depend_on_key(store: ObjectStore) -> None:
    long_key = "目录/" + "中" * 338 + "ab"  # 1023 UTF-8 bytes, the maximum
    assert len(long_key.encode()) == 1023
    put(store, long_key, b"x")
    put(store, "a b/+?&=", b"y")
    assert get(store, long_key) == b"x"
    names = os.listdir(store.root / "buckets" / B / "objects")
    assert all(len(n) == 68 and n.endswith(".obj") for n in names)


def test_store_key_over_1023_bytes_raises_invalid_object_name(store: ObjectStore) -> None:
    with pytest.raises(InvalidObjectName):
        put(store, "x" * 1024, b"x")
    assert tmp_files(store) == []


# ------------------------------------------------------------------ listing

def test_store_list_orders_keys_by_utf8_bytes(store: ObjectStore) -> None:
    keys = ["a", "a b", "a+b", "a/b", "ab", "A", "中文", "z", "éa", "a-b", "\u00ff", "\U0001F600", "\uff01"]
    for k in keys:
        put(store, k, k.encode())
    listed = [e.key for e in store.list_objects(B, max_keys=1000).entries]
    assert listed == sorted(keys, key=lambda k: k.encode("utf-8"))


def test_store_list_delimiter_rolls_up_common_prefixes(store: ObjectStore) -> None:
    for k in ["dir/a", "dir/b", "dir/sub/c", "file", "dir2/x"]:
        put(store, k, b".")
    top = store.list_objects(B, delimiter="/")
    assert [e.key for e in top.entries] == ["file"]
    assert top.common_prefixes == ["dir/", "dir2/"]
    inner = store.list_objects(B, prefix="dir/", delimiter="/")
    assert [e.key for e in inner.entries] == ["dir/a", "dir/b"]
    assert inner.common_prefixes == ["dir/sub/"]


def test_store_list_marker_is_exclusive(store: ObjectStore) -> None:
    for k in ["a", "b", "c"]:
        put(store, k, b".")
    assert [e.key for e in store.list_objects(B, marker="a").entries] == ["b", "c"]
    assert [e.key for e in store.list_objects(B, marker="bb").entries] == ["c"]


def test_store_list_paging_counts_each_prefix_once_and_covers_everything(store: ObjectStore) -> None:
    keys = [f"d{i}/f{j}" for i in range(4) for j in range(3)] + [f"top{i}" for i in range(5)]
    for k in keys:
        put(store, k, b".")
    seen_keys: list[str] = []
    seen_prefixes: list[str] = []
    marker = ""
    pages = 0
    while True:
        page = store.list_objects(B, delimiter="/", marker=marker, max_keys=2)
        pages += 1
        assert len(page.entries) + len(page.common_prefixes) <= 2
        seen_keys += [e.key for e in page.entries]
        seen_prefixes += page.common_prefixes
        if not page.is_truncated:
            assert page.next_marker == ""
            break
        marker = page.next_marker
    assert seen_prefixes == ["d0/", "d1/", "d2/", "d3/"]
    assert seen_keys == [f"top{i}" for i in range(5)]
    assert pages == 5


def test_store_list_truncated_next_marker_is_last_key(store: ObjectStore) -> None:
    for k in ["a", "b", "c"]:
        put(store, k, b".")
    page = store.list_objects(B, max_keys=2)
    assert (page.is_truncated, page.next_marker) == (True, "b")
    page = store.list_objects(B, max_keys=3)
    assert (page.is_truncated, page.next_marker) == (False, "")


# ------------------------------------------------------------------ multipart

def _parts(store: ObjectStore, upload_id: str, sizes: list[int]) -> tuple[list[tuple[int, str]], bytes]:
    parts, whole = [], b""
    for n, size in enumerate(sizes, start=1):
        data = os.urandom(size)
        parts.append((n, upload_part(store, upload_id, n, data)))
        whole += data
    return parts, whole


def test_store_multipart_complete_builds_object_with_multipart_etag(store: ObjectStore) -> None:
    tpl = ObjectTemplate(content_type="video/mp4", user_meta={"a": "1"})
    up = store.initiate_upload(B, "big.mp4", template=tpl)
    assert len(up.upload_id) == 32 and up.upload_id == up.upload_id.upper()
    parts, whole = _parts(store, up.upload_id, [MIN_PART_SIZE, MIN_PART_SIZE + 5, 7])
    meta = store.complete_upload(B, up.upload_id, parts)
    digests = b"".join(bytes.fromhex(e.strip('"')) for _, e in parts)
    assert meta.etag == f'"{hashlib.md5(digests).hexdigest().upper()}-3"'
    assert (meta.object_type, meta.size, meta.crc64) == ("Multipart", len(whole), crc64(whole))
    assert (meta.content_type, meta.user_meta, meta.content_md5) == ("video/mp4", {"a": "1"}, None)
    assert get(store, "big.mp4") == whole
    with pytest.raises(NoSuchUpload) as exc:
        store.get_upload(B, up.upload_id)
    assert exc.value.extra == {"UploadId": up.upload_id}


def test_store_multipart_etag_match_ignores_quotes_and_case(store: ObjectStore) -> None:
    up = store.initiate_upload(B, "k")
    parts, whole = _parts(store, up.upload_id, [10])
    store.complete_upload(B, up.upload_id, [(1, parts[0][1].strip('"').lower())])
    assert get(store, "k") == whole


def test_store_multipart_descending_parts_raise_invalid_part_order(store: ObjectStore) -> None:
    up = store.initiate_upload(B, "k")
    parts, _ = _parts(store, up.upload_id, [MIN_PART_SIZE, MIN_PART_SIZE])
    with pytest.raises(InvalidPartOrder):
        store.complete_upload(B, up.upload_id, list(reversed(parts)))
    with pytest.raises(InvalidPartOrder):
        store.complete_upload(B, up.upload_id, [parts[0], parts[0]])


def test_store_multipart_wrong_etag_or_missing_part_raises_invalid_part(store: ObjectStore) -> None:
    up = store.initiate_upload(B, "k")
    parts, _ = _parts(store, up.upload_id, [MIN_PART_SIZE])
    with pytest.raises(InvalidPart):
        store.complete_upload(B, up.upload_id, [(1, '"00000000000000000000000000000000"')])
    with pytest.raises(InvalidPart):
        store.complete_upload(B, up.upload_id, [parts[0], (2, parts[0][1])])
    assert store.get_upload(B, up.upload_id).key == "k"  # a failed completion keeps the upload


def test_store_multipart_small_non_last_part_raises_entity_too_small(store: ObjectStore) -> None:
    up = store.initiate_upload(B, "k")
    parts, _ = _parts(store, up.upload_id, [MIN_PART_SIZE - 1, 10])
    with pytest.raises(EntityTooSmall):
        store.complete_upload(B, up.upload_id, parts)
    with pytest.raises(NoSuchKey):
        store.head(B, "k")


def test_store_multipart_reuploaded_part_replaces_old_one(store: ObjectStore) -> None:
    up = store.initiate_upload(B, "k")
    upload_part(store, up.upload_id, 1, b"old")
    etag = upload_part(store, up.upload_id, 1, b"new!")
    listed = store.list_parts(B, up.upload_id)
    assert [(p.number, p.size, p.etag) for p in listed] == [(1, 4, etag)]
    store.complete_upload(B, up.upload_id, [(1, etag)])
    assert get(store, "k") == b"new!"


def test_store_multipart_abort_removes_upload(store: ObjectStore) -> None:
    up = store.initiate_upload(B, "k")
    _parts(store, up.upload_id, [100])
    store.abort_upload(B, up.upload_id)
    with pytest.raises(NoSuchUpload):
        store.abort_upload(B, up.upload_id)
    with pytest.raises(NoSuchUpload):
        upload_part(store, up.upload_id, 2, b"late")
    assert store.list_uploads(B).uploads == []
    assert tmp_files(store) == []


def test_store_multipart_upload_for_other_key_is_no_such_upload(store: ObjectStore) -> None:
    up = store.initiate_upload(B, "k")
    with pytest.raises(NoSuchUpload):
        store.get_upload(B, up.upload_id, key="other")


def test_store_list_uploads_sorted_by_key_with_markers(store: ObjectStore) -> None:
    ids = {k: store.initiate_upload(B, k).upload_id for k in ["b", "a", "c/x", "c/y"]}
    second_a = store.initiate_upload(B, "a").upload_id
    page = store.list_uploads(B)
    assert [u.key for u in page.uploads] == ["a", "a", "b", "c/x", "c/y"]
    assert [u.upload_id for u in page.uploads[:2]] == sorted([ids["a"], second_a])
    rolled = store.list_uploads(B, delimiter="/")
    assert ([u.key for u in rolled.uploads], rolled.common_prefixes) == (["a", "a", "b"], ["c/"])
    first = store.list_uploads(B, max_uploads=1)
    assert first.is_truncated and first.next_key_marker == "a"
    rest = store.list_uploads(B, key_marker=first.next_key_marker,
                              upload_id_marker=first.next_upload_id_marker)
    assert [u.key for u in rest.uploads] == ["a", "b", "c/x", "c/y"]
    assert [u.key for u in store.list_uploads(B, key_marker="a").uploads] == ["b", "c/x", "c/y"]


# ------------------------------------------------------------------ copy and append

def test_store_copy_preserves_etag_and_crc_and_replaces_metadata(store: ObjectStore) -> None:
    src = put(store, "src", b"payload" * 100, content_type="text/plain", user_meta={"x": "1"})
    same = store.copy(B, "src", B, "dst")
    assert (same.etag, same.crc64, same.content_type, same.user_meta) == (src.etag, src.crc64, "text/plain",
                                                                          {"x": "1"})
    replaced = store.copy(B, "src", B, "src", meta_override=ObjectTemplate(content_type="text/csv"))
    assert (replaced.etag, replaced.content_type, replaced.user_meta) == (src.etag, "text/csv", {})
    assert get(store, "dst") == get(store, "src") == b"payload" * 100


def test_store_append_accumulates_crc_and_checks_position(store: ObjectStore) -> None:
    for pos, chunk in [(0, b"abc"), (3, b"defg")]:
        pending = store.begin_write(B)
        pending.write(chunk)
        meta = store.append(B, "log", pos, pending)
    assert (meta.size, meta.crc64, meta.object_type) == (7, crc64(b"abcdefg"), "Appendable")
    pending = store.begin_write(B)
    pending.write(b"x")
    with pytest.raises(PositionNotEqualToLength) as exc:
        store.append(B, "log", 3, pending)
    assert exc.value.headers == {"x-oss-next-append-position": "7"}
    assert get(store, "log") == b"abcdefg"
    put(store, "normal", b"n")
    pending = store.begin_write(B)
    pending.write(b"x")
    with pytest.raises(ObjectNotAppendable):
        store.append(B, "normal", 1, pending)
    assert tmp_files(store) == []


# ------------------------------------------------------------------ buckets

def test_store_create_existing_bucket_returns_not_created(store: ObjectStore) -> None:
    meta, created = store.create_bucket(B, owner_id="someone", region="cn-hangzhou")
    assert not created and meta.owner_id == "owner"


def test_store_delete_bucket_with_object_or_upload_raises_bucket_not_empty(store: ObjectStore) -> None:
    put(store, "k", b"x")
    with pytest.raises(BucketNotEmpty) as exc:
        store.delete_bucket(B)
    assert exc.value.extra == {"BucketName": B}
    store.delete(B, "k")
    up = store.initiate_upload(B, "k")
    with pytest.raises(BucketNotEmpty):
        store.delete_bucket(B)
    store.abort_upload(B, up.upload_id)
    store.delete_bucket(B)
    with pytest.raises(NoSuchBucket):
        store.get_bucket(B)
    assert store.list_buckets() == []


def test_store_list_buckets_sorted(store: ObjectStore) -> None:
    store.create_bucket("aaa", owner_id="o", region="cn-hangzhou")
    assert [b.name for b in store.list_buckets()] == ["aaa", B]


# ------------------------------------------------------------------ restart

def test_store_restart_rebuilds_index_uploads_and_bucket_settings(tmp_path: Path) -> None:
    root = tmp_path / "data"
    with ObjectStore(root) as s:
        s.create_bucket(B, owner_id="o", region="cn-hangzhou")
        s.update_bucket(B, acl="public-read", cors_rules=[{"AllowedOrigin": ["*"]}])
        for k in ["b", "a", "中/文"]:
            put(s, k, k.encode() * 10)
        up = s.initiate_upload(B, "mp")
        upload_part(s, up.upload_id, 1, b"part one")
        (s.tmp_dir / "0123.tmp").write_bytes(b"never committed")  # as left by a crash
        assert tmp_files(s)
    with ObjectStore(root) as s:
        assert [e.key for e in s.list_objects(B).entries] == ["a", "b", "中/文"]
        assert get(s, "中/文") == "中/文".encode() * 10
        assert [p.size for p in s.list_parts(B, up.upload_id)] == [8]
        bucket = s.get_bucket(B)
        assert (bucket.acl, bucket.cors_rules) == ("public-read", ({"AllowedOrigin": ["*"]},))
        assert tmp_files(s) == []


def test_store_second_instance_on_same_root_is_refused(store: ObjectStore) -> None:
    with pytest.raises(RuntimeError):
        ObjectStore(store.root)


# ------------------------------------------------------------------ concurrency

def test_store_concurrent_writers_all_land_intact(store: ObjectStore) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(20):
                key = f"t{n}/k{i % 5}"
                put(store, key, f"{n}-{i}".encode() * 500)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    entries = store.list_objects(B, max_keys=1000).entries
    assert len(entries) == 40
    for e in entries:
        n = e.key[1:e.key.index("/")]
        i = 15 + int(e.key[-1])
        assert get(store, e.key) == f"{n}-{i}".encode() * 500
