"""CRC-64/XZ (x-oss-hash-crc64ecma): reference §15 vectors, incremental use, combine, C extension."""

from __future__ import annotations

import os
import random
import time

import crcmod.crcmod
import pytest
from oss2.crc64_combine import mkCombineFun

from helpers.localcloud.store import crc64, crc64_combine


@pytest.mark.parametrize(("data", "expected"), [
    (b"123456789", 11051210869376104954),                                      # §15 row 18
    (b"Anything you're good at contributes to happiness.", 108247482078852440),  # row 19
    (b"hello world", 5981764153023615706),                                     # row 20
    (b"", 0),                                                                   # row 20
    (b"hello v2", 5726928505849980685),
    (b"callback data", 7408624906651253196),
])
def test_crc64_reference_vector_matches(data: bytes, expected: int) -> None:
    assert crc64(data) == expected


def test_crc64_incremental_continues_previous_value() -> None:
    data = os.urandom(100_003)
    crc = 0
    for i in range(0, len(data), 4096):
        crc = crc64(data[i:i + 4096], crc)
    assert crc == crc64(data)


def test_crc64_combine_random_splits_equal_whole_crc() -> None:
    rng = random.Random(7)
    for _ in range(100):
        a = rng.randbytes(rng.randint(0, 5000))
        b = rng.randbytes(rng.randint(0, 5000))
        assert crc64_combine(crc64(a), crc64(b), len(b)) == crc64(a + b)


def test_crc64_combine_zero_length_returns_first_crc() -> None:
    assert crc64_combine(123456789, 0, 0) == 123456789


def test_crc64_combine_agrees_with_oss2_combine() -> None:
    oss2_combine = mkCombineFun(0x142F0E1EBA9EA3693, 0, True, 0xFFFFFFFFFFFFFFFF)
    rng = random.Random(11)
    for _ in range(20):
        c1, c2, n = rng.getrandbits(64), rng.getrandbits(64), rng.randint(1, 1 << 40)
        assert crc64_combine(c1, c2, n) == oss2_combine(c1, c2, n)


def test_crc64_agrees_with_crcmod_as_oss2_computes_it() -> None:
    oss2_crc = crcmod.crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, rev=True, xorOut=0xFFFFFFFFFFFFFFFF)
    rng = random.Random(5)
    for size in (0, 1, 7, 8, 9, 63, 64, 65, 4096, 100_003):
        data = rng.randbytes(size)
        assert crc64(data) == oss2_crc(data)
        half = size // 2
        assert crc64(data[half:], crc64(data[:half])) == oss2_crc(data)


def test_crc64_64mib_hashes_faster_than_100mb_per_second() -> None:
    # A correctness check that the C path is used (pure Python is ~10 MB/s), not a benchmark.
    data = os.urandom(64 << 20)
    start = time.perf_counter()
    crc64(data)
    elapsed = time.perf_counter() - start
    assert 64 / elapsed > 100, f"{64 / elapsed:.0f} MB/s"
