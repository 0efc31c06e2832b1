"""CRC-64/XZ ("crc64ecma", the `x-oss-hash-crc64ecma` header): incremental CRC and combine.

The CRC runs in anycrc's C code (slice-by-N, about 10 GB/s here, against 0.4 GB/s for crcmod's
C extension and 10 MB/s for a pure-Python loop): on the upload path it used to cost more than MD5.
`crc64_combine` is zlib's GF(2) matrix method (as in oss2's `crc64_combine.py`):
crc(A‖B) from crc(A), crc(B), len(B).
This module imports nothing from the rest of the local cloud.
"""

from __future__ import annotations

import anycrc

_POLY = 0x142F0E1EBA9EA3693
_XOROUT = 0xFFFFFFFFFFFFFFFF
# ECMA-182 polynomial, bit-reversed: the reflected CRC shifts right.
_POLY_REFLECTED = 0xC96C5795D7870F42
_MASK = (1 << 64) - 1

_MODEL = anycrc.Model("CRC64-XZ")


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-64/XZ of `data`; pass the previous result as `crc` to continue over more data."""
    return int(_MODEL.calc(data, crc))


def _gf2_times(mat: list[int], vec: int) -> int:
    total = 0
    i = 0
    while vec:
        if vec & 1:
            total ^= mat[i]
        vec >>= 1
        i += 1
    return total


def _gf2_square(mat: list[int]) -> list[int]:
    return [_gf2_times(mat, row) for row in mat]


def crc64_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC of A‖B given crc1 = CRC(A), crc2 = CRC(B) and len2 = len(B) (zlib's crc32_combine, 64-bit)."""
    if len2 < 0:
        raise ValueError("len2 must be >= 0")
    if len2 == 0:
        return crc1
    # Operator for one zero bit, then two, then four; squaring doubles the number of zero bits.
    odd = [_POLY_REFLECTED] + [1 << n for n in range(63)]
    even = _gf2_square(odd)   # two zero bits
    odd = _gf2_square(even)   # four zero bits
    while True:
        even = _gf2_square(odd)   # first pass: one zero byte
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return (crc1 ^ crc2) & _MASK
