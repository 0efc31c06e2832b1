"""Notebook 09's exercise: a part size for 30 GiB in at most 1,000 parts, in binary units as the SDKs
count (a decimal answer for "30 GB" gives too many parts and is explained with the numbers)."""

from __future__ import annotations

import pytest

from helpers.exercises import part_size as exercise
from helpers.exercises.marks import ExerciseFailed
from helpers.lessons.large_files import GB, MB


def test_the_reference_solution_is_the_smallest_binary_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert exercise.check(None, exercise.solution(), strict=True) is True
    # 30 GiB / 1,000 = 32,212,254.72 bytes, rounded up to a whole KiB
    assert exercise.solution() == 31_458 * 1024 and 30 * GB / 1000 <= exercise.solution()
    assert "✓ 30 GiB (32,212,254,720 bytes) in parts of 30.72 MiB is 1,000 parts" in capsys.readouterr().out
    assert exercise.created_keys() == []


def test_a_decimal_answer_gives_too_many_parts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ExerciseFailed):
        exercise.check(None, 30_000_000, strict=True)   # 30 GB / 1000 in decimal units
    assert "is 1,074 parts: at most the app's 1,000" in capsys.readouterr().out


def test_too_small_and_wasteful_sizes_are_explained(capsys: pytest.CaptureFixture[str]) -> None:
    assert exercise.check(None, 50 * 1024, strict=False) is False
    assert "OSS refuses the upload with EntityTooSmall" in capsys.readouterr().out
    assert exercise.check(None, 512 * MB, strict=False) is False
    assert "✗ not wastefully large" in capsys.readouterr().out
    assert exercise.check(None, "32 MB", strict=False) is False
    assert "✗ the answer is a whole number of bytes (got '32 MB')" in capsys.readouterr().out
