"""Multipart uploads of the object store (mixed into store.ObjectStore).

An upload is a directory `uploads/<ID>/` holding `upload.json` and one record per part; it is
created complete in `tmp/` and renamed into place, and removed by renaming it back into `tmp/`.
A part is published like an object (one os.replace), so re-uploading a part number replaces the
old part atomically. Completion validates the part list, streams the listed parts into one temp
file (kernel copy, CRC by crc64_combine), publishes the object, and only then removes the upload:
a crash in between leaves the upload listable with its parts intact.
This module imports nothing from Starlette and nothing from the HTTP layer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from helpers.localcloud.errors import (
    EntityTooSmall,
    InvalidArgument,
    InvalidDigest,
    InvalidPart,
    InvalidPartOrder,
    MalformedXML,
    NoSuchUpload,
)
from helpers.localcloud.store.files import (
    CorruptRecord,
    PendingWrite,
    fsync_dir,
    md5_matches,
    read_record_meta,
    write_json_atomic,
)
from helpers.localcloud.store.listing import page_uploads
from helpers.localcloud.store.models import ObjectMeta, ObjectTemplate, PartMeta, UploadMeta, UploadsPage
from helpers.localcloud.store.state import (
    BucketState,
    UploadState,
    key_bytes,
    part_file_name,
)

logger = logging.getLogger(__name__)

MIN_PART_SIZE = 100 * 1024    # every part but the last (OSS: 100 KB)
MAX_PART_NUMBER = 10000


class MultipartMixin:
    """Initiate, UploadPart, Complete, Abort, ListParts, ListMultipartUploads."""

    tmp_dir: Path
    now: Callable[[], float]

    # Provided by ObjectStore.
    def _bucket(self, name: str) -> BucketState:
        raise NotImplementedError

    def _publish(self, pending: PendingWrite, raw: bytes, meta: ObjectMeta, *, forbid_overwrite: bool,
                 expect_current: ObjectMeta | None | bool = False) -> ObjectMeta:
        raise NotImplementedError

    @staticmethod
    def _check_alive(state: BucketState) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- recovery

    def _recover_uploads(self, state: BucketState) -> None:
        for udir in state.uploads_dir.iterdir():
            try:
                meta = UploadMeta.from_json(json.loads((udir / "upload.json").read_text()))
            except (OSError, ValueError, KeyError) as exc:
                logger.warning("ignoring damaged upload %s/%s: %s", state.meta.name, udir.name, exc)
                continue
            parts: dict[int, PartMeta] = {}
            for f in udir.glob("*.part"):
                try:
                    part = PartMeta.from_json(read_record_meta(f))
                except (CorruptRecord, OSError, ValueError, KeyError) as exc:
                    logger.warning("ignoring damaged part %s: %s", f, exc)
                    continue
                if f.name == part_file_name(part.number):
                    parts[part.number] = part
            if meta.upload_id == udir.name:
                state.uploads[meta.upload_id] = UploadState(meta, udir, parts)

    # ----------------------------------------------------------------- lookups

    def _upload(self, bucket: str, upload_id: str, key: str | None) -> tuple[BucketState, UploadState]:
        state = self._bucket(bucket)
        with state.lock:
            up = state.uploads.get(upload_id)
        if up is None or (key is not None and up.meta.key != key):
            raise NoSuchUpload(UploadId=upload_id)
        return state, up

    @staticmethod
    def _check_upload(up: UploadState) -> None:
        if up.gone:
            raise NoSuchUpload(UploadId=up.meta.upload_id)

    def get_upload(self, bucket: str, upload_id: str, *, key: str | None = None) -> UploadMeta:
        """The upload, or NoSuchUpload (also when `key` is given and differs)."""
        return self._upload(bucket, upload_id, key)[1].meta

    # ----------------------------------------------------------------- operations

    def initiate_upload(self, bucket: str, key: str, *, template: ObjectTemplate | None = None) -> UploadMeta:
        """InitiateMultipartUpload: a new upload id (32 upper-case hex, roughly time-ordered)."""
        key_bytes(key)
        state = self._bucket(bucket)
        upload_id = f"{time.time_ns():016X}{secrets.token_hex(8).upper()}"[-32:]
        meta = UploadMeta(bucket=bucket, key=key, upload_id=upload_id, initiated=self.now(),
                          template=template or ObjectTemplate())
        staging = self.tmp_dir / f"upload-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            write_json_atomic(staging / "upload.json", meta.to_json(), self.tmp_dir)
            with state.lock:
                self._check_alive(state)
                final = state.uploads_dir / upload_id
                os.rename(staging, final)
                fsync_dir(state.uploads_dir)
                state.uploads[upload_id] = UploadState(meta, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return meta

    def commit_part(self, pending: PendingWrite, *, bucket: str, upload_id: str, part_number: int,
                    expected_md5_b64: str | None = None, key: str | None = None) -> PartMeta:
        """UploadPart: publish `pending` as part `part_number`, replacing any earlier one atomically."""
        try:
            if not 1 <= part_number <= MAX_PART_NUMBER:
                raise InvalidArgument("Part number must be an integer between 1 and 10000, inclusive.",
                                      ArgumentName="partNumber", ArgumentValue=str(part_number))
            _, up = self._upload(bucket, upload_id, key)
            if expected_md5_b64 is not None and not md5_matches(expected_md5_b64, pending.md5_digest):
                raise InvalidDigest()
            part = PartMeta(number=part_number, etag=f'"{pending.md5_hex}"', size=pending.size,
                            crc64=pending.crc64, last_modified=self.now(), content_md5=pending.md5_b64)
            tmp = pending.seal(part.to_json())
            with up.lock:
                self._check_upload(up)
                os.replace(tmp, up.path / part_file_name(part_number))
                fsync_dir(up.path)
                up.parts[part_number] = part
            return part
        finally:
            pending.abort()

    def list_parts(self, bucket: str, upload_id: str, *, key: str | None = None) -> list[PartMeta]:
        _, up = self._upload(bucket, upload_id, key)
        with up.lock:
            self._check_upload(up)
            return [up.parts[n] for n in sorted(up.parts)]

    def complete_upload(self, bucket: str, upload_id: str, parts: list[tuple[int, str]], *,
                        key: str | None = None, forbid_overwrite: bool = False,
                        acl: str | None = None) -> ObjectMeta:
        """CompleteMultipartUpload: validate, concatenate the listed parts, publish, drop the upload.

        `acl` (when not None) replaces the ACL the upload was initiated with.

        ETag: `"<MD5 of the concatenated binary part MD5s>-N"` upper-case; CRC of the whole object.
        """
        state, up = self._upload(bucket, upload_id, key)
        with up.lock:
            self._check_upload(up)
            chosen = self._validate_parts(up, parts)
            raw = key_bytes(up.meta.key)
            pending = PendingWrite(bucket, self.tmp_dir)
            try:
                digests = hashlib.md5()
                for part in chosen:
                    fd = os.open(up.path / part_file_name(part.number), os.O_RDONLY)
                    try:
                        pending.copy_raw_from(fd, 0, part.size, part.crc64)
                    finally:
                        os.close(fd)
                    digests.update(bytes.fromhex(part.etag.strip('"')))
                tpl = up.meta.template
                meta = ObjectMeta(bucket=bucket, key=up.meta.key, size=pending.size,
                                  etag=f'"{digests.hexdigest().upper()}-{len(chosen)}"', content_md5=None,
                                  crc64=pending.crc64, last_modified=self.now(),
                                  content_type=tpl.content_type, object_type="Multipart",
                                  user_meta=dict(tpl.user_meta), headers=dict(tpl.headers),
                                  acl=tpl.acl if acl is None else acl, storage_class=tpl.storage_class)
                self._publish(pending, raw, meta, forbid_overwrite=forbid_overwrite)
            finally:
                pending.abort()
            self._drop_upload(state, up)
        return meta

    def abort_upload(self, bucket: str, upload_id: str, *, key: str | None = None) -> None:
        """AbortMultipartUpload: remove the upload and its parts; NoSuchUpload when absent."""
        state, up = self._upload(bucket, upload_id, key)
        with up.lock:
            self._check_upload(up)
            self._drop_upload(state, up)

    def list_uploads(self, bucket: str, *, prefix: str = "", key_marker: str = "", upload_id_marker: str = "",
                     max_uploads: int = 1000, delimiter: str = "") -> UploadsPage:
        """ListMultipartUploads: by key (UTF-8 bytes), then upload id (≈ initiation order)."""
        state = self._bucket(bucket)
        with state.lock:
            by_id = {uid: up.meta for uid, up in state.uploads.items()}
        items = sorted((m.key.encode(), uid) for uid, m in by_id.items())
        page = page_uploads(items, prefix=prefix.encode(), key_marker=key_marker.encode(),
                            upload_id_marker=upload_id_marker, delimiter=delimiter.encode(),
                            max_uploads=max_uploads)
        return UploadsPage(uploads=[by_id[r.upload_id] for r in page.uploads],
                           common_prefixes=[p.decode() for p in page.common_prefixes],
                           is_truncated=page.is_truncated, next_key_marker=page.next_key_marker.decode(),
                           next_upload_id_marker=page.next_upload_id_marker)

    # ----------------------------------------------------------------- internals

    @staticmethod
    def _validate_parts(up: UploadState, parts: list[tuple[int, str]]) -> list[PartMeta]:
        if not parts:
            raise MalformedXML()
        numbers = [n for n, _ in parts]
        if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
            raise InvalidPartOrder()
        chosen: list[PartMeta] = []
        for number, etag in parts:
            part = up.parts.get(number)
            wanted = etag.replace("&quot;", '"').strip().strip('"').upper()
            if part is None or part.etag.strip('"').upper() != wanted:
                raise InvalidPart(UploadId=up.meta.upload_id, PartNumber=str(number), ETag=etag)
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_SIZE:
                raise EntityTooSmall()
        return chosen

    def _drop_upload(self, state: BucketState, up: UploadState) -> None:
        """Make the upload disappear in one rename (caller holds up.lock), then delete its files."""
        graveyard = self.tmp_dir / f"upload-gone-{uuid.uuid4().hex}"
        with state.lock:
            os.rename(up.path, graveyard)
            fsync_dir(state.uploads_dir)
            state.uploads.pop(up.meta.upload_id, None)
            up.gone = True
        shutil.rmtree(graveyard, ignore_errors=True)
