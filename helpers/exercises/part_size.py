"""Exercise of notebook 09: a part size for a 30 GiB video when the app allows at most 1,000 parts.

Units are binary, as the SDKs count (1 GiB = 1024³ bytes; OSS's "100 KB – 5 GB" per part means 100 KiB –
5 GiB). `check` explains each limit with the numbers: OSS's part-size range, the part count against the
app's limit and OSS's 10,000, and how far the answer is above the smallest size that fits."""

from __future__ import annotations

from typing import Any

from helpers.exercises.marks import Marks, not_answered
from helpers.lessons.large_files import (
    GB,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    human,
    part_size_for,
    parts_needed,
)

FILE_SIZE = 30 * GB     # 30 GiB
PART_LIMIT = 1_000
WASTE_FACTOR = 4        # a retry resends a whole part: more than 4× the smallest is wasteful


def solution(book: Any = None) -> int:
    return part_size_for(FILE_SIZE, PART_LIMIT)


def created_keys() -> list[str]:
    return []   # computed, not uploaded


def check(book: Any, answer: Any, *, strict: bool = False) -> bool:
    """The part size against OSS's limits and the app's, each failure with its numbers."""
    if not_answered(answer):
        return False
    marks = Marks()
    ok_type = isinstance(answer, int) and not isinstance(answer, bool)
    if not marks.expect(ok_type, "the answer is a whole number of bytes",
                        "" if ok_type else f"got {answer!r}"):
        return marks.finish(strict=strict)
    size = int(answer)
    smallest = part_size_for(FILE_SIZE, PART_LIMIT)
    in_range = MIN_PART_SIZE <= size <= MAX_PART_SIZE
    marks.expect(in_range, f"{size:,} bytes ({human(size)}) is within OSS's 100 KiB – 5 GiB per part",
                 "" if in_range else ("below 102,400 bytes: OSS refuses the upload with EntityTooSmall"
                                      if size < MIN_PART_SIZE else "above 5,368,709,120 bytes"))
    if not in_range:
        return marks.finish(strict=strict)
    parts = parts_needed(FILE_SIZE, size)
    marks.expect(parts <= PART_LIMIT,
                 f"30 GiB ({FILE_SIZE:,} bytes) in parts of {human(size)} is {parts:,} parts: "
                 f"at most the app's {PART_LIMIT:,} (OSS allows {MAX_PARTS:,})",
                 "" if parts <= PART_LIMIT else f"{FILE_SIZE:,} / {size:,} rounded up is {parts:,}")
    marks.expect(size <= WASTE_FACTOR * smallest,
                 f"not wastefully large: the smallest that fits is {smallest:,} bytes ({human(smallest)})",
                 "" if size <= WASTE_FACTOR * smallest else
                 f"yours is {size / smallest:.1f}× that, and a failed part is resent whole")
    return marks.finish(strict=strict)
