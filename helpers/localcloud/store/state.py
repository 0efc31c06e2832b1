"""In-memory state of the object store (per bucket and per upload) and the on-disk layout.

    <root>/.lock                         flock: one process per data directory
    <root>/tmp/                          temporary files and directories; emptied at start-up
    <root>/buckets/<bucket>/bucket.json  BucketMeta
    <root>/buckets/<bucket>/objects/<sha256(key)>.obj    one record per object (see files.py)
    <root>/buckets/<bucket>/uploads/<UPLOADID>/upload.json and <00001>.part records

File names never depend on a key's length or characters: objects are named by the SHA-256 of
the UTF-8 key, and the key itself lives in the record's metadata.
This module imports nothing from Starlette and nothing from the HTTP layer.
"""

from __future__ import annotations

import hashlib
import re
import threading
from bisect import bisect_left, insort
from pathlib import Path

from helpers.localcloud.errors import InvalidBucketName, InvalidObjectName
from helpers.localcloud.store.models import BucketMeta, ObjectMeta, PartMeta, UploadMeta

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_UPLOAD_ID = re.compile(r"^[0-9A-F]{32}$")
MAX_KEY_BYTES = 1023


def check_bucket_name(name: str) -> None:
    """OSS bucket names: 3-63 of [a-z0-9-], no leading or trailing hyphen (also keeps paths safe)."""
    if not _BUCKET_NAME.match(name):
        raise InvalidBucketName(BucketName=name)


EC_NAME_EMPTY = "0016-00000001"
EC_NAME_TOO_LONG = "0016-00000002"     # also non-UTF-8 names
EC_NAME_LEADING_SLASH = "0016-00000005"
MSG_NAME_EMPTY = "The Object name can not be empty"
MSG_NAME_TOO_LONG = "The Length of Object name must be less than 1024"


def key_bytes(key: str) -> bytes:
    """The UTF-8 bytes of a valid object key, else InvalidObjectName with OSS's message and EC (§2).

    Valid: 1..1023 UTF-8 bytes, not starting with `/` or `\\`. Every other character is allowed, the
    C0 controls and DEL included, except NUL, which no SDK test sends [unverified: refused here].
    """
    try:
        raw = key.encode("utf-8")
    except UnicodeEncodeError as exc:   # lone surrogates: not UTF-8
        raise InvalidObjectName(ec=EC_NAME_TOO_LONG) from exc
    if not raw:
        raise InvalidObjectName(MSG_NAME_EMPTY, ec=EC_NAME_EMPTY)
    if len(raw) > MAX_KEY_BYTES:
        raise InvalidObjectName(MSG_NAME_TOO_LONG, ec=EC_NAME_TOO_LONG)
    if raw[:1] in (b"/", b"\\"):
        raise InvalidObjectName(ec=EC_NAME_LEADING_SLASH)
    if b"\x00" in raw:
        raise InvalidObjectName()
    return raw


def is_upload_id(text: str) -> bool:
    return bool(_UPLOAD_ID.match(text))


def object_file_name(raw_key: bytes) -> str:
    return hashlib.sha256(raw_key).hexdigest() + ".obj"


def part_file_name(number: int) -> str:
    return f"{number:05d}.part"


class UploadState:
    """One in-progress upload. `lock` serialises its parts, completion and abort (held during the
    concatenation of a completion; never the bucket lock). Lock order: upload lock, then bucket lock."""

    __slots__ = ("meta", "path", "parts", "lock", "gone")

    def __init__(self, meta: UploadMeta, path: Path, parts: dict[int, PartMeta] | None = None) -> None:
        self.meta = meta
        self.path = path
        self.parts: dict[int, PartMeta] = dict(parts or {})
        self.lock = threading.Lock()
        self.gone = False


class BucketState:
    """One bucket: metadata, sorted key index, object metadata and uploads, under one lock.

    The lock guards these structures and the renames that change what the bucket contains; bodies
    are written and fsynced before it is taken.
    """

    __slots__ = ("meta", "path", "lock", "keys", "objects", "uploads", "deleted")

    def __init__(self, meta: BucketMeta, path: Path) -> None:
        self.meta = meta
        self.path = path
        self.lock = threading.RLock()
        self.keys: list[bytes] = []                 # sorted UTF-8 keys
        self.objects: dict[bytes, ObjectMeta] = {}
        self.uploads: dict[str, UploadState] = {}
        self.deleted = False

    @property
    def objects_dir(self) -> Path:
        return self.path / "objects"

    @property
    def uploads_dir(self) -> Path:
        return self.path / "uploads"

    def object_path(self, raw_key: bytes) -> Path:
        return self.objects_dir / object_file_name(raw_key)

    def put_index(self, raw_key: bytes, meta: ObjectMeta) -> None:
        if raw_key not in self.objects:
            insort(self.keys, raw_key)
        self.objects[raw_key] = meta

    def drop_index(self, raw_key: bytes) -> None:
        if self.objects.pop(raw_key, None) is not None:
            del self.keys[bisect_left(self.keys, raw_key)]
