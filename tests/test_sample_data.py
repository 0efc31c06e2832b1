"""helpers.sample_data: the committed samples are small, valid files of their types; large files are
made at run time, outside the repository, with the same bytes on every run."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from helpers import sample_data
from helpers.stack import PROJECT_ROOT


def test_committed_samples_exist_and_are_small() -> None:
    on_disk = {p.name for p in sample_data.DATA_DIR.iterdir()} - {"README.md"}
    assert on_disk == {s.path.name for s in sample_data.SAMPLES.values()}, "data/ holds an unlisted file"
    for s in sample_data.SAMPLES.values():
        assert 0 < s.size < 50 * 1024, f"{s.path.name}: {s.size} bytes (keep samples < 50 KB)"
        assert s.path.name in (sample_data.DATA_DIR / "README.md").read_text(encoding="utf-8")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Walk the JPEG markers to the start-of-frame; return (width, height)."""
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9", "no SOI/EOI marker"
    i = 2
    while i < len(data):
        assert data[i] == 0xFF, f"marker expected at {i}"
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    raise AssertionError("no start-of-frame marker")


def test_photo_is_a_real_jpeg() -> None:
    assert _jpeg_size(sample_data.PHOTO.read_bytes()) == (320, 240)


def test_pdf_cross_reference_points_at_its_objects() -> None:
    data = sample_data.PDF.read_bytes()
    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    xref = int(data.rsplit(b"startxref", 1)[1].split()[0])
    assert data[xref : xref + 4] == b"xref"
    count = int(data[xref:].split(b"\n")[1].split()[1])
    entries = data[xref:].split(b"\n")[3 : 3 + count - 1]
    for number, entry in enumerate(entries, start=1):
        offset = int(entry.split()[0])
        assert data[offset:].startswith(b"%d 0 obj" % number), f"object {number} not at {offset}"
    assert b"/Type /Page " in data and b"/Count 1" in data


def test_text_is_utf8() -> None:
    assert "临时凭证" in sample_data.TEXT.read_text(encoding="utf-8")


def test_rows_for_the_notebooks() -> None:
    rows = sample_data.samples()
    assert [r["name"] for r in rows] == ["photo", "pdf", "text"]
    assert all(r["file"].startswith("data/") and int(r["bytes"]) > 0 for r in rows)


@pytest.mark.parametrize("size", [0, 1, 4096 + 7, 3 * 1024 * 1024])
def test_large_file_is_made_at_run_time_outside_the_repo(size: int, tmp_path: Path) -> None:
    made = sample_data.large_file(size)
    again = sample_data.large_file(size, directory=tmp_path, name="again.bin")
    try:
        assert made.stat().st_size == size
        assert PROJECT_ROOT not in made.parents, "large files must not land in the repository"
        assert made.read_bytes() == again.read_bytes() and sample_data.crc64(made) == sample_data.crc64(again)
    finally:
        made.unlink()
        made.parent.rmdir()


def test_large_files_differ_by_seed(tmp_path: Path) -> None:
    a = sample_data.large_file(8192, directory=tmp_path, name="a", seed="one")
    b = sample_data.large_file(8192, directory=tmp_path, name="b", seed="two")
    assert a.read_bytes() != b.read_bytes()
