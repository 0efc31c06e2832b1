"""On-disk record format and the streaming writer/reader of the object store.

A record (an object or a part) is ONE file: `data ‖ metadata JSON ‖ u64 big-endian JSON length ‖ MAGIC`.
The writer streams the body into a temporary file (MD5 and CRC-64 updated per chunk), appends the
metadata trailer, fsyncs, and only then does the store `os.replace` it into place. Data and metadata
therefore become visible together in one atomic rename, and a record without a valid trailer can
never have been renamed into place. Readers open the file first, so they keep reading the snapshot
they opened even if the key is overwritten or deleted afterwards.
This module imports nothing from Starlette and nothing from the HTTP layer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from helpers.localcloud.store.crc64 import crc64, crc64_combine

MAGIC = b"LCOSSv1\n"
_TRAILER = struct.Struct(">Q")
TRAILER_SIZE = _TRAILER.size + len(MAGIC)
_COPY_CHUNK = 1 << 20


class CorruptRecord(Exception):
    """A file in a data directory is not a complete record (never produced by a committed write)."""


def md5_matches(expected_b64: str, digest: bytes) -> bool:
    """Content-MD5 check: the header must be the base64 of the body's binary MD5."""
    try:
        return base64.b64decode(expected_b64.strip(), validate=True) == digest
    except (binascii.Error, ValueError):
        return False


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data: dict[str, Any], tmp_dir: Path) -> None:
    """Write a small JSON file by temp file + fsync + os.replace + directory fsync."""
    tmp = tmp_dir / f"{uuid.uuid4().hex}.json"
    try:
        with open(tmp, "wb") as f:
            f.write(json.dumps(data, ensure_ascii=False, sort_keys=True).encode())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def read_trailer(fd: int) -> tuple[dict[str, Any], int]:
    """Return (metadata, data size) of the record open on `fd`; CorruptRecord when incomplete."""
    total = os.fstat(fd).st_size
    if total < TRAILER_SIZE:
        raise CorruptRecord("too short")
    tail = os.pread(fd, TRAILER_SIZE, total - TRAILER_SIZE)
    if tail[_TRAILER.size:] != MAGIC:
        raise CorruptRecord("bad magic")
    (meta_len,) = _TRAILER.unpack(tail[:_TRAILER.size])
    data_size = total - TRAILER_SIZE - meta_len
    if data_size < 0:
        raise CorruptRecord("bad metadata length")
    try:
        meta = json.loads(os.pread(fd, meta_len, data_size).decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptRecord("bad metadata") from exc
    if not isinstance(meta, dict) or meta.get("size") != data_size:
        raise CorruptRecord("metadata does not match the data size")
    return meta, data_size


def read_record_meta(path: Path) -> dict[str, Any]:
    """Metadata of the record at `path` without reading its data."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return read_trailer(fd)[0]
    finally:
        os.close(fd)


class PendingWrite:
    """A body being streamed to a temporary file; committed by the store, or aborted.

    Feed it with `write(chunk)`; `size`, `md5_digest` and `crc64` describe what was written.
    Not thread-safe: one request thread owns it. `abort()` is idempotent, and so is using it as a
    context manager (the temp file is removed unless the store committed it).
    """

    def __init__(self, bucket: str, tmp_dir: Path) -> None:
        self.bucket = bucket
        self.path = tmp_dir / f"{uuid.uuid4().hex}.tmp"
        self._file = open(self.path, "xb")  # closed by seal() or abort()
        self._md5: Any = hashlib.md5()  # None once raw (unhashed) data was appended
        self._crc = 0
        self._size = 0
        self._done = False

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        if self._done:
            raise RuntimeError("write after commit or abort")
        if not chunk:
            return
        self._file.write(chunk)
        if self._md5 is not None:
            self._md5.update(chunk)
        self._crc = crc64(chunk, self._crc)
        self._size += len(chunk)

    def copy_raw_from(self, fd: int, offset: int, length: int, crc: int) -> None:
        """Append `length` bytes of the record data open on `fd` whose CRC-64 is `crc`, without hashing.

        The running CRC is extended with crc64_combine; the MD5 is no longer available afterwards
        (multipart and append ETags are not content MD5s).
        """
        if self._done:
            raise RuntimeError("write after commit or abort")
        if length == 0:
            return
        self._file.flush()
        out = self._file.fileno()
        end = offset + length
        pos = offset
        while pos < end:
            try:
                n = os.copy_file_range(fd, out, end - pos, pos)
            except OSError:
                n = 0  # not supported across these files: copy through user space below
            if n == 0:
                chunk = os.pread(fd, min(_COPY_CHUNK, end - pos), pos)
                if not chunk:
                    raise CorruptRecord("record shorter than its metadata says")
                n = os.write(out, chunk)
            pos += n
        self._file.seek(0, os.SEEK_END)  # resync the buffered writer with the raw descriptor
        self._md5 = None
        self._crc = crc64_combine(self._crc, crc, length)
        self._size += length

    @property
    def size(self) -> int:
        return self._size

    @property
    def md5_digest(self) -> bytes:
        if self._md5 is None:
            raise RuntimeError("MD5 unavailable after copy_raw_from")
        return bytes(self._md5.digest())

    @property
    def md5_hex(self) -> str:
        return self.md5_digest.hex().upper()

    @property
    def md5_b64(self) -> str:
        return base64.b64encode(self.md5_digest).decode()

    @property
    def crc64(self) -> int:
        return self._crc

    def flush_for_read(self) -> Path:
        """Flush buffered data so the temp file can be read by path (for append); returns the path."""
        self._file.flush()
        return self.path

    @property
    def closed(self) -> bool:
        return self._done

    def seal(self, meta: dict[str, Any]) -> Path:
        """Append the metadata trailer, flush and fsync; the file is then ready for os.replace."""
        if self._done:
            raise RuntimeError("already committed or aborted")
        blob = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode()
        self._file.write(blob)
        self._file.write(_TRAILER.pack(len(blob)) + MAGIC)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._done = True
        return self.path

    def abort(self) -> None:
        """Drop the temporary file. Safe to call more than once, and after a commit."""
        if not self._file.closed:
            self._file.close()
        self._done = True
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> PendingWrite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()

    def __del__(self) -> None:
        # A handler that dropped a pending write (client gone mid-body) must not leak its temp file.
        if not getattr(self, "_done", True):
            try:
                self.abort()
            except OSError:
                pass


class ObjectReader:
    """Reads the data of one record snapshot through an open file descriptor (pread: thread-safe)."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self.size = size

    def read_range(self, start: int = 0, end_inclusive: int | None = None,
                   chunk_size: int = _COPY_CHUNK) -> Iterator[bytes]:
        """Yield bytes start..end_inclusive (default: to the end) in chunks of at most chunk_size."""
        end = self.size - 1 if end_inclusive is None else end_inclusive
        if start < 0 or end >= self.size or (start > end + 1):
            raise ValueError(f"range {start}-{end} outside 0-{self.size - 1}")
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        pos = start
        while pos <= end:
            chunk = os.pread(self._fd, min(chunk_size, end + 1 - pos), pos)
            if not chunk:
                raise CorruptRecord("record shorter than its metadata says")
            pos += len(chunk)
            yield chunk

    def read_all(self) -> bytes:
        """The whole data in memory: for small objects and tests only."""
        return b"".join(self.read_range())

    @property
    def fd(self) -> int:
        return self._fd

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
