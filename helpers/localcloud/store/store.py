"""ObjectStore: durable buckets and objects on disk, safe against kill -9.

Every write streams into a temporary file (files.PendingWrite), is verified, gets its metadata
appended, is fsynced, and only then becomes visible by one `os.replace` (followed by a directory
fsync). Buckets and uploads are created as complete directories in `tmp/` and renamed into place,
and removed by renaming them back into `tmp/` first. Start-up empties `tmp/` and rebuilds each
bucket's sorted key index from the record trailers, never reading object data.

Thread-safe: a short store lock guards the bucket table; each bucket has its own lock, taken only
around renames and index updates, never while a body is written. Multipart methods live in
multipart.MultipartMixin.
This module imports nothing from Starlette and nothing from the HTTP layer.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from helpers.localcloud.errors import (
    BucketNotEmpty,
    FileAlreadyExists,
    InvalidDigest,
    InvalidObjectName,
    NoSuchBucket,
    NoSuchKey,
    ObjectNotAppendable,
    OssError,
    PositionNotEqualToLength,
)
from helpers.localcloud.store.files import (
    CorruptRecord,
    ObjectReader,
    PendingWrite,
    fsync_dir,
    md5_matches,
    read_record_meta,
    read_trailer,
    write_json_atomic,
)
from helpers.localcloud.store.listing import page_keys
from helpers.localcloud.store.models import BucketMeta, ListPage, ObjectMeta, ObjectTemplate
from helpers.localcloud.store.multipart import MultipartMixin
from helpers.localcloud.store.state import BucketState, check_bucket_name, key_bytes

logger = logging.getLogger(__name__)


class ObjectStore(MultipartMixin):
    """Buckets, objects and multipart uploads under `root`. `now` is the local cloud's clock."""

    def __init__(self, root: Path, *, now: Callable[[], float] = time.time) -> None:
        self.root = Path(root)
        self.now = now
        self._lock = threading.Lock()
        self._buckets: dict[str, BucketState] = {}
        self.tmp_dir = self.root / "tmp"
        self._buckets_dir = self.root / "buckets"
        for d in (self.root, self.tmp_dir, self._buckets_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self._lock_fd)
            raise RuntimeError(f"object store {self.root} is in use by another ObjectStore") from exc
        self._recover()

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Release the data directory (the flock); the store must not be used afterwards."""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> ObjectStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _recover(self) -> None:
        for leftover in self.tmp_dir.iterdir():
            _remove_tree(leftover)
        for bdir in sorted(self._buckets_dir.iterdir()):
            try:
                meta = BucketMeta.from_json(json.loads((bdir / "bucket.json").read_text()))
            except (OSError, ValueError, KeyError) as exc:
                logger.warning("skipping unreadable bucket directory %s: %s", bdir.name, exc)
                continue
            state = BucketState(meta, bdir)
            for sub in (state.objects_dir, state.uploads_dir):
                sub.mkdir(exist_ok=True)
            for f in state.objects_dir.iterdir():
                try:
                    obj = ObjectMeta.from_json(read_record_meta(f))
                    raw = key_bytes(obj.key)
                except (CorruptRecord, OSError, ValueError, KeyError, InvalidObjectName) as exc:
                    # InvalidObjectName: a record written under older, looser name rules.
                    logger.warning("ignoring damaged record %s/%s: %s", bdir.name, f.name, exc)
                    continue
                if state.object_path(raw) != f:
                    logger.warning("ignoring misnamed record %s/%s", bdir.name, f.name)
                    continue
                state.objects[raw] = obj if obj.bucket == meta.name else _rebucket(obj, meta.name)
            state.keys = sorted(state.objects)
            self._recover_uploads(state)
            self._buckets[meta.name] = state

    # ----------------------------------------------------------------- buckets

    def create_bucket(self, name: str, *, owner_id: str, acl: str = "private", region: str,
                      storage_class: str = "Standard") -> tuple[BucketMeta, bool]:
        """Create a bucket; returns (meta, created). An existing bucket is returned unchanged."""
        check_bucket_name(name)
        with self._lock:
            existing = self._buckets.get(name)
            if existing is not None:
                return existing.meta, False
            meta = BucketMeta(name=name, created=self.now(), acl=acl, region=region,
                              storage_class=storage_class, owner_id=owner_id)
            staging = self.tmp_dir / f"bucket-{uuid.uuid4().hex}"
            staging.mkdir()
            (staging / "objects").mkdir()
            (staging / "uploads").mkdir()
            write_json_atomic(staging / "bucket.json", meta.to_json(), self.tmp_dir)
            final = self._buckets_dir / name
            os.rename(staging, final)
            fsync_dir(self._buckets_dir)
            self._buckets[name] = BucketState(meta, final)
            return meta, True

    def get_bucket(self, name: str) -> BucketMeta:
        return self._bucket(name).meta

    def list_buckets(self) -> list[BucketMeta]:
        with self._lock:
            return [self._buckets[n].meta for n in sorted(self._buckets)]

    def update_bucket(self, name: str, *, acl: str | None = None,
                      cors_rules: Sequence[dict[str, Any]] | None = None) -> BucketMeta:
        """Change the ACL and/or CORS rules (None leaves a field as is; `cors_rules=()` clears them)."""
        state = self._bucket(name)
        with state.lock:
            self._check_alive(state)
            meta = state.meta
            changes: dict[str, Any] = {}
            if acl is not None:
                changes["acl"] = acl
            if cors_rules is not None:
                changes["cors_rules"] = tuple(dict(r) for r in cors_rules)
            new = dataclasses.replace(meta, **changes)
            write_json_atomic(state.path / "bucket.json", new.to_json(), self.tmp_dir)
            state.meta = new
            return new

    def delete_bucket(self, name: str) -> None:
        """Remove an empty bucket; BucketNotEmpty while objects or in-progress uploads exist."""
        with self._lock:
            state = self._buckets.get(name)
            if state is None:
                raise NoSuchBucket(BucketName=name)
            with state.lock:
                if state.objects or state.uploads:
                    raise BucketNotEmpty(BucketName=name)
                graveyard = self.tmp_dir / f"deleted-{uuid.uuid4().hex}"
                os.rename(state.path, graveyard)
                fsync_dir(self._buckets_dir)
                state.deleted = True
                del self._buckets[name]
        _remove_tree(graveyard)

    def _bucket(self, name: str) -> BucketState:
        with self._lock:
            state = self._buckets.get(name)
        if state is None:
            raise NoSuchBucket(BucketName=name)
        return state

    @staticmethod
    def _check_alive(state: BucketState) -> None:
        if state.deleted:
            raise NoSuchBucket(BucketName=state.meta.name)

    # ----------------------------------------------------------------- writes

    def begin_write(self, bucket: str) -> PendingWrite:
        """Start streaming a body for `bucket` (an object, a part or an append)."""
        self._bucket(bucket)
        return PendingWrite(bucket, self.tmp_dir)

    def commit_object(self, pending: PendingWrite, *, key: str,
                      content_type: str = "application/octet-stream",
                      user_meta: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                      acl: str = "default", storage_class: str = "Standard",
                      expected_md5_b64: str | None = None, forbid_overwrite: bool = False,
                      object_type: str = "Normal") -> ObjectMeta:
        """Verify and publish `pending` as `key`; on any error the temp file is removed."""
        try:
            raw = key_bytes(key)
            if expected_md5_b64 is not None and not md5_matches(expected_md5_b64, pending.md5_digest):
                raise InvalidDigest()
            meta = ObjectMeta(bucket=pending.bucket, key=key, size=pending.size,
                              etag=f'"{pending.md5_hex}"', content_md5=pending.md5_b64, crc64=pending.crc64,
                              last_modified=self.now(), content_type=content_type,
                              object_type=object_type, user_meta=dict(user_meta or {}),
                              headers=dict(headers or {}), acl=acl, storage_class=storage_class)
            return self._publish(pending, raw, meta, forbid_overwrite=forbid_overwrite)
        finally:
            pending.abort()

    def _publish(self, pending: PendingWrite, raw: bytes, meta: ObjectMeta, *, forbid_overwrite: bool,
                 expect_current: ObjectMeta | None | bool = False) -> ObjectMeta:
        """Seal `pending` with `meta` and rename it into place: the single visibility point.

        `expect_current` (when not False) is the object the write was based on (None: absent); if the
        key changed meanwhile, PositionNotEqualToLength (used by append).
        """
        state = self._bucket(meta.bucket)
        if forbid_overwrite and raw in state.objects:
            raise FileAlreadyExists()
        tmp = pending.seal(meta.to_json())
        with state.lock:
            self._check_alive(state)
            current = state.objects.get(raw)
            if forbid_overwrite and current is not None:
                raise FileAlreadyExists()
            if expect_current is not False and current is not expect_current:
                raise _position_error(current)
            os.replace(tmp, state.object_path(raw))
            fsync_dir(state.objects_dir)
            state.put_index(raw, meta)
        return meta

    def append(self, bucket: str, key: str, position: int, pending: PendingWrite, *,
               template: ObjectTemplate | None = None, expected_md5_b64: str | None = None) -> ObjectMeta:
        """AppendObject: a new record = current data ‖ pending data, published atomically.

        The CRC is cumulative (crc64_combine); the ETag is opaque. Concurrent appends at the same
        position: one wins, the other gets PositionNotEqualToLength.
        """
        combined: PendingWrite | None = None
        try:
            raw = key_bytes(key)
            if expected_md5_b64 is not None and not md5_matches(expected_md5_b64, pending.md5_digest):
                raise InvalidDigest()
            state = self._bucket(bucket)
            with state.lock:
                current = state.objects.get(raw)
            if current is not None and current.object_type != "Appendable":
                raise ObjectNotAppendable()
            if position != (current.size if current else 0):
                raise _position_error(current)
            combined = PendingWrite(bucket, self.tmp_dir)
            if current is not None:
                opened, reader = self._open_record(state, raw, key)
                try:
                    if opened.etag != current.etag or opened.size != current.size:
                        raise _position_error(opened)  # overwritten since we looked
                    combined.copy_raw_from(reader.fd, 0, current.size, current.crc64)
                finally:
                    reader.close()
            new_md5 = pending.md5_digest
            with open(pending.flush_for_read(), "rb") as src:
                combined.copy_raw_from(src.fileno(), 0, pending.size, pending.crc64)
            tpl = current.template if current is not None else (template or ObjectTemplate())
            seed = current.etag.strip('"').encode() if current is not None else b""
            meta = ObjectMeta(bucket=bucket, key=key, size=combined.size,
                              etag=f'"{hashlib.md5(seed + new_md5).hexdigest().upper()}"',
                              content_md5=None, crc64=combined.crc64, last_modified=self.now(),
                              content_type=tpl.content_type, object_type="Appendable",
                              user_meta=dict(tpl.user_meta), headers=dict(tpl.headers), acl=tpl.acl,
                              storage_class=tpl.storage_class)
            return self._publish(combined, raw, meta, forbid_overwrite=False, expect_current=current)
        finally:
            pending.abort()
            if combined is not None:
                combined.abort()

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str, *,
             meta_override: ObjectTemplate | None = None, acl: str = "default",
             forbid_overwrite: bool = False) -> ObjectMeta:
        """CopyObject: stream the source snapshot into a new record; same content keeps ETag and CRC.

        `meta_override` None copies the source's metadata (COPY directive) with `acl`; a template
        replaces it (REPLACE directive, also used for self-copy metadata updates).
        """
        dst_raw = key_bytes(dst_key)
        self._bucket(dst_bucket)
        src, reader = self.open_read(src_bucket, src_key)
        pending = PendingWrite(dst_bucket, self.tmp_dir)
        try:
            with reader:
                pending.copy_raw_from(reader.fd, 0, src.size, src.crc64)
            tpl = meta_override if meta_override is not None else ObjectTemplate(
                content_type=src.content_type, user_meta=dict(src.user_meta), headers=dict(src.headers),
                acl=acl, storage_class=src.storage_class)
            meta = ObjectMeta(bucket=dst_bucket, key=dst_key, size=src.size, etag=src.etag,
                              content_md5=src.content_md5, crc64=src.crc64, last_modified=self.now(),
                              content_type=tpl.content_type,
                              object_type="Normal" if src.object_type == "Appendable" else src.object_type,
                              user_meta=dict(tpl.user_meta), headers=dict(tpl.headers), acl=tpl.acl,
                              storage_class=tpl.storage_class)
            return self._publish(pending, dst_raw, meta, forbid_overwrite=forbid_overwrite)
        finally:
            pending.abort()

    def delete(self, bucket: str, key: str) -> None:
        """DeleteObject: idempotent (absent key is not an error; missing bucket is)."""
        state = self._bucket(bucket)
        raw = key_bytes(key)
        with state.lock:
            self._check_alive(state)
            if raw not in state.objects:
                return
            state.object_path(raw).unlink(missing_ok=True)
            fsync_dir(state.objects_dir)
            state.drop_index(raw)

    # ----------------------------------------------------------------- reads

    def head(self, bucket: str, key: str) -> ObjectMeta:
        state = self._bucket(bucket)
        raw = key_bytes(key)
        with state.lock:
            meta = state.objects.get(raw)
        if meta is None:
            raise NoSuchKey(Key=key)
        return meta

    def open_read(self, bucket: str, key: str) -> tuple[ObjectMeta, ObjectReader]:
        """Open the current version of `key`; the reader keeps that snapshot whatever happens next."""
        state = self._bucket(bucket)
        raw = key_bytes(key)
        if raw not in state.objects:
            raise NoSuchKey(Key=key)
        return self._open_record(state, raw, key)

    def _open_record(self, state: BucketState, raw: bytes, key: str) -> tuple[ObjectMeta, ObjectReader]:
        try:
            fd = os.open(state.object_path(raw), os.O_RDONLY)
        except FileNotFoundError as exc:
            raise NoSuchKey(Key=key) from exc
        try:
            meta, size = read_trailer(fd)
            obj = ObjectMeta.from_json(meta)
        except BaseException:
            os.close(fd)
            raise
        if obj.key != key:
            os.close(fd)
            raise NoSuchKey(Key=key)
        return _rebucket(obj, state.meta.name), ObjectReader(fd, size)

    def list_objects(self, bucket: str, *, prefix: str = "", marker: str = "", delimiter: str = "",
                     max_keys: int = 100) -> ListPage:
        """ListObjects (v1) semantics over the in-memory index (see listing.page_keys)."""
        state = self._bucket(bucket)
        with state.lock:
            page = page_keys(state.keys, prefix=prefix.encode(), marker=marker.encode(),
                             delimiter=delimiter.encode(), max_keys=max_keys)
            entries = [state.objects[k] for k in page.keys]
        return ListPage(entries=entries, common_prefixes=[p.decode() for p in page.common_prefixes],
                        is_truncated=page.is_truncated, next_marker=page.next_marker.decode())


def _rebucket(obj: ObjectMeta, bucket: str) -> ObjectMeta:
    if obj.bucket == bucket:
        return obj
    return ObjectMeta.from_json({**obj.to_json(), "bucket": bucket})


def _position_error(current: ObjectMeta | None) -> OssError:
    size = current.size if current is not None else 0
    return PositionNotEqualToLength(headers={"x-oss-next-append-position": str(size)})


def _remove_tree(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
