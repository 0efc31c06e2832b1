"""Exercise of notebook 09: a part size for a 30 GB video when the app allows at most 1,000 parts.
The checker computes: OSS's limits (every part but the last at least 100 KB, at most 5 GB, at most
10,000 parts), the app's limit, and compares with the smallest size that fits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.exercises._marks import mark, not_answered, verdict
from helpers.lessons.large_files import (
    GB,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    human,
    part_size_for,
    parts_needed,
)

if TYPE_CHECKING:
    from helpers.workbook import Book

FILE_SIZE = 30 * GB
PART_LIMIT = 1_000


def solution() -> int:
    return part_size_for(FILE_SIZE, PART_LIMIT)


def check(book: Book | None, answer: Any, *, strict: bool = False) -> None:
    if answer is None:
        return not_answered()
    try:
        size = int(answer)
    except (TypeError, ValueError):
        return verdict([mark(False, f"{answer!r} is a number of bytes")], strict=strict, what="part size")
    smallest = part_size_for(FILE_SIZE, PART_LIMIT)
    parts = parts_needed(FILE_SIZE, size) if size > 0 else 0
    results = [
        mark(MIN_PART_SIZE <= size <= MAX_PART_SIZE, f"{human(size)} is within OSS's 100 KB – 5 GB per part"),
        mark(
            0 < parts <= PART_LIMIT,
            f"{human(FILE_SIZE)} in parts of {human(size)} is {parts} parts "
            f"(the app allows {PART_LIMIT}, OSS {MAX_PARTS})",
        ),
        mark(
            size <= 4 * smallest,
            f"not wastefully large: the smallest that fits is {human(smallest)} "
            f"({smallest} bytes); a retry resends a whole part",
        ),
    ]
    return verdict(results, strict=strict, what="part size")
