"""Paging over sorted in-memory indexes: ListObjects and ListMultipartUploads semantics.

Keys are compared as UTF-8 bytes (the service's order). `marker` is exclusive; with a delimiter,
keys containing it after the prefix roll up into one common prefix that counts once toward the
page size, and a common prefix at or before the marker is skipped (it was returned on an earlier
page). Pure functions over lists; this module imports nothing from Starlette or the HTTP layer.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

# Greater than any byte of valid UTF-8, so `cp + _TOP` is an upper bound of every key starting with cp.
_TOP = b"\xff"


def rollup(key: bytes, prefix: bytes, delimiter: bytes) -> bytes | None:
    """The common prefix `key` rolls up into, or None when it is listed as itself."""
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return None if at < 0 else key[:at + len(delimiter)]


@dataclass(frozen=True, slots=True)
class KeyPage:
    keys: list[bytes]
    common_prefixes: list[bytes]
    is_truncated: bool
    next_marker: bytes


def page_keys(keys: Sequence[bytes], *, prefix: bytes, marker: bytes, delimiter: bytes,
              max_keys: int) -> KeyPage:
    """One ListObjects page over `keys` (sorted, unique)."""
    i = bisect_left(keys, prefix)
    if marker:
        i = max(i, bisect_right(keys, marker))
    out: list[bytes] = []
    prefixes: list[bytes] = []
    last = b""
    while i < len(keys):
        key = keys[i]
        if not key.startswith(prefix):
            break
        cp = rollup(key, prefix, delimiter)
        if cp is not None and marker and cp <= marker:
            i = bisect_left(keys, cp + _TOP, i)
            continue
        if len(out) + len(prefixes) >= max_keys:
            return KeyPage(out, prefixes, True, last)
        if cp is None:
            out.append(key)
            last = key
            i += 1
        else:
            prefixes.append(cp)
            last = cp
            i = bisect_left(keys, cp + _TOP, i)
    return KeyPage(out, prefixes, False, b"")


@dataclass(frozen=True, slots=True)
class UploadRef:
    key: bytes
    upload_id: str


@dataclass(frozen=True, slots=True)
class UploadRefPage:
    uploads: list[UploadRef]
    common_prefixes: list[bytes]
    is_truncated: bool
    next_key_marker: bytes
    next_upload_id_marker: str


def page_uploads(items: Sequence[tuple[bytes, str]], *, prefix: bytes, key_marker: bytes,
                 upload_id_marker: str, delimiter: bytes, max_uploads: int) -> UploadRefPage:
    """One ListMultipartUploads page over (key, upload id) pairs sorted ascending.

    Without key_marker, upload_id_marker is ignored; with both, the listing resumes after that
    upload of key_marker; with key_marker alone, after every upload of key_marker. The next markers
    name the last upload (or common prefix) returned, also on the final page.
    """
    i = bisect_left(items, (prefix, ""))
    if key_marker:
        after = (key_marker, upload_id_marker) if upload_id_marker else (key_marker + b"\x00", "")
        i = max(i, bisect_right(items, after) if upload_id_marker else bisect_left(items, after))
    out: list[UploadRef] = []
    prefixes: list[bytes] = []
    next_key, next_id = b"", ""
    while i < len(items):
        key, upload_id = items[i]
        if not key.startswith(prefix):
            break
        cp = rollup(key, prefix, delimiter)
        if cp is not None and key_marker and cp <= key_marker:
            i = bisect_left(items, (cp + _TOP, ""), i)
            continue
        if len(out) + len(prefixes) >= max_uploads:
            return UploadRefPage(out, prefixes, True, next_key, next_id)
        if cp is None:
            out.append(UploadRef(key, upload_id))
            next_key, next_id = key, upload_id
            i += 1
        else:
            prefixes.append(cp)
            next_key, next_id = cp, ""
            i = bisect_left(items, (cp + _TOP, ""), i)
    return UploadRefPage(out, prefixes, False, next_key, next_id)
