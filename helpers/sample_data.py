"""The sample files the notebooks upload and download: small ones committed in `data/`, large ones made
at run time in a temporary directory (never committed).

    from helpers import sample_data
    sample_data.PHOTO                        # data/photo.jpg, a 320×240 JPEG (about 7 KB)
    video = sample_data.large_file(50 * sample_data.MB)   # a temp file, the same bytes every run

`python scripts/make_sample_data.py` wrote the committed files (data/README.md says what each is).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from helpers.lessons.large_files import MB, file_crc64, sample_file

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PHOTO = DATA_DIR / "photo.jpg"
PDF = DATA_DIR / "sample.pdf"
TEXT = DATA_DIR / "notes.txt"

__all__ = ["DATA_DIR", "MB", "PDF", "PHOTO", "SAMPLES", "TEXT", "Sample", "large_file", "samples"]


@dataclass(frozen=True)
class Sample:
    """A committed sample: where it is, the Content-Type to upload it with, what it is for."""

    path: Path
    content_type: str
    what: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size


SAMPLES: dict[str, Sample] = {
    "photo": Sample(PHOTO, "image/jpeg", "a small photo (JPEG, 320×240), as a phone would upload"),
    "pdf": Sample(PDF, "application/pdf", "a one-page PDF document"),
    "text": Sample(TEXT, "text/plain; charset=utf-8", "a short UTF-8 text file (English with Chinese terms)"),
}


def samples() -> list[dict[str, str]]:
    """One row per committed sample (name, file, content type, bytes, what), for `show_table`."""
    return [{"name": name, "file": f"data/{s.path.name}", "content type": s.content_type,
             "bytes": str(s.size), "what": s.what} for name, s in SAMPLES.items()]


def large_file(size: int, *, directory: str | Path | None = None, name: str = "large.bin",
               seed: str = "workbook") -> Path:
    """A file of `size` pseudo-random bytes, written now (into a new temporary directory unless one is
    given): the same bytes, so the same CRC-64, on every run. Large samples are never committed."""
    where = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="workbook-data-"))
    return sample_file(where / name, size, seed=seed)


def crc64(path: str | Path) -> str:
    """The CRC-64 (ECMA, as OSS computes it) of a file, as the decimal string OSS returns."""
    return file_crc64(path)
