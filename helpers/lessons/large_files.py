"""Large files (大文件): multipart part sizes, text progress lines, a token refresh in the middle of a
resumable upload, and a resumable download.

    sample = large_files.sample_file(tmp_dir / "video.bin", 3 * 1024 * 1024)   # fixed bytes, fixed CRC
    alice = book.client("alice", follow_clock=True)     # local only: the phone's clock follows the cloud's
    progress = large_files.Progress(total, jump_at=0.5, jump=large_files.clock_jump(book, 660))
    alice.upload_resumable("video.bin", sample, part_size=..., progress=progress)
    large_files.resumable_download(alice, key, dest)   # oss2.resumable_download, download scope

A token refresh in the middle of an upload needs the phone, the app server and OSS to agree that
11 minutes passed: the local cloud's clock moves, the stack's app server follows it, and the phone's
client is given that clock too. Real Alibaba Cloud has no movable clock: local only.

Imports nothing from `helpers.localcloud`.
"""

from __future__ import annotations

import functools
import hashlib
import math
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import oss2

from helpers.client.results import call_oss2, crc64

if TYPE_CHECKING:
    from helpers.client.mobile import MobileClient
    from helpers.workbook import Book

# Binary units throughout. Alibaba's docs write "100 KB", "5 GB" and "48.8 TB"; the SDKs compute them
# as 100 × 1024 and 5 × 1024³ bytes (oss2.defaults.min_part_size = 100 * 1024), and 48.8 is 10,000 parts
# of 5 GiB in TiB. The names stay KB/MB/GB (sample_data and the notebooks use them); they mean KiB/MiB/GiB.
KB = 1024
MB = 1024 * KB
GB = 1024 * MB
TB = 1024 * GB
MIN_PART_SIZE = 100 * KB  # OSS: every part but the last is at least 100 KiB
MAX_PART_SIZE = 5 * GB    # and at most 5 GiB
MAX_PARTS = 10_000
MAX_OBJECT_SIZE = MAX_PARTS * MAX_PART_SIZE  # 48.8 TiB, the docs' "48.8 TB"


# ------------------------------------------------------------------------------------ part sizes


def parts_needed(file_size: int, part_size: int) -> int:
    return max(1, math.ceil(file_size / part_size))


def part_size_for(file_size: int, max_parts: int = MAX_PARTS, *, preferred: int = MIN_PART_SIZE) -> int:
    """The smallest part size (a multiple of 1 KB, at least `preferred` and 100 KB) whose part count
    fits `max_parts`; what oss2.determine_part_size does, with the limit as a parameter."""
    size = max(preferred, MIN_PART_SIZE, math.ceil(file_size / max_parts))
    size = math.ceil(size / KB) * KB
    if size > MAX_PART_SIZE:
        raise ValueError(f"{file_size} bytes do not fit {max_parts} parts of at most 5 GB")
    return size


def limits_table() -> list[dict[str, str]]:
    """OSS's multipart limits, in bytes and in binary units, as rows for `workbook.show_table`."""
    rows = [("parts per upload (at most)", MAX_PARTS, "(a count, not bytes)"),
            ("smallest part (all but the last)", MIN_PART_SIZE, human(MIN_PART_SIZE)),
            ("largest part", MAX_PART_SIZE, human(MAX_PART_SIZE)),
            ("largest object (10,000 × 5 GiB)", MAX_OBJECT_SIZE, human(MAX_OBJECT_SIZE))]
    return [{"limit": name, "value": f"{value:,}", "in binary units": shown} for name, value, shown in rows]


def human(size: int) -> str:
    """Bytes in binary units (KiB, MiB, GiB, TiB: powers of 1024), as the SDKs count."""
    for unit, factor in (("TiB", TB), ("GiB", GB), ("MiB", MB), ("KiB", KB)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.2f} {unit}"
    return f"{size} B"


# --------------------------------------------------------------------------------- sample content


def sample_file(path: str | Path, size: int, *, seed: str = "workbook") -> Path:
    """A file of `size` pseudo-random bytes that are the same on every run (so is its CRC-64)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        counter = 0
        written = 0
        while written < size:
            block = hashlib.sha256(f"{seed}:{counter}".encode()).digest() * 128  # 4 KB
            block = block[: size - written]
            f.write(block)
            written += len(block)
            counter += 1
    return path


def file_crc64(path: str | Path) -> str:
    with Path(path).open("rb") as f:
        return crc64(iter(lambda: f.read(MB), b""))


# ------------------------------------------------------------------------------------ progress


class Progress:
    """An oss2 `progress_callback` that prints one line per `step` (fraction of the total) and can run
    `jump()` once when `jump_at` of the bytes are sent. Lines depend on byte counts only, so they are
    the same on every run."""

    def __init__(
        self,
        total: int,
        *,
        step: float = 0.25,
        jump_at: float | None = None,
        jump: Callable[[], None] | None = None,
        width: int = 24,
        on_line: Callable[[str], None] | None = None,
    ) -> None:
        self.total = total
        self.step = step
        self.jump_at = jump_at
        self._jump = jump
        self.width = width
        self._next = step
        self._jumped = False
        self._lock = threading.Lock()
        self.lines: list[str] = []
        self._on_line = on_line or _print_line

    def __call__(self, consumed: int, total: int | None) -> None:
        total = total or self.total
        with self._lock:
            fraction = consumed / total if total else 1.0
            while fraction + 1e-9 >= self._next and self._next <= 1.0 + 1e-9:
                self._emit(self._next)
                self._next += self.step
            if (
                self._jump is not None
                and not self._jumped
                and self.jump_at is not None
                and fraction >= self.jump_at
            ):
                self._jumped = True
                self._jump()

    def _emit(self, fraction: float) -> None:
        filled = round(self.width * fraction)
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {fraction:4.0%}  {human(round(self.total * fraction))}"
        self.lines.append(line)
        self._on_line(line)


def _print_line(line: str) -> None:
    print(line)


# ------------------------------------------------------------------------------------ moving the clock


def clock_jump(book: Book, seconds: float) -> Callable[[], None]:
    """A callable that moves the local cloud's clock `seconds` forward (and with it the app server's
    and every clock-following client's). Local only."""
    if book.target != "local":
        raise RuntimeError("only the local cloud has a movable clock")
    return lambda: book.advance_clock(seconds)


# ------------------------------------------------------------------------------------ downloads


def resumable_download(
    client: MobileClient,
    key: str,
    dest: str | Path,
    *,
    part_size: int = 256 * KB,
    threads: int = 2,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """oss2.resumable_download with the client's download-scope STS credentials: ranged GETs in
    parallel into `dest.tmp`, renamed when complete; a checkpoint lets an interrupted one resume."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    bucket = client.oss2_bucket("download")
    full = client.full_key(key, "download")
    store = oss2.ResumableDownloadStore(root=tempfile.gettempdir(), dir="workbook-oss-download")
    call_oss2(
        lambda: oss2.resumable_download(
            bucket,
            full,
            str(dest),
            store=store,
            multiget_threshold=part_size,
            part_size=part_size,
            num_threads=threads,
            progress_callback=progress,
        ),
        on_credential_error=client.providers["download"].invalidate,
    )
    return dest


def multipart_by_hand(client: MobileClient, key: str, path: str | Path, part_size: int) -> None:
    """Initiate, UploadPart for each `part_size` slice, Complete — oss2's low-level calls with the
    client's upload token, without the SDK's part-size rounding (so OSS's own limits show)."""
    bucket = client.oss2_bucket("upload")
    full = client.full_key(key, "upload")
    on_cred = client.providers["upload"].invalidate
    upload_id = call_oss2(lambda: bucket.init_multipart_upload(full).upload_id, on_credential_error=on_cred)
    parts = []
    try:
        with Path(path).open("rb") as f:   # one part in memory at a time
            for number, chunk in enumerate(iter(lambda: f.read(part_size), b""), start=1):
                result = call_oss2(functools.partial(bucket.upload_part, full, upload_id, number, chunk),
                                   on_credential_error=on_cred)
                parts.append(oss2.models.PartInfo(number, result.etag))
        print(f"{len(parts)} parts of {human(part_size)} sent; completing")
        call_oss2(lambda: bucket.complete_multipart_upload(full, upload_id, parts),
                  on_credential_error=on_cred)
    except Exception:
        call_oss2(lambda: bucket.abort_multipart_upload(full, upload_id))  # leave no upload behind
        raise
