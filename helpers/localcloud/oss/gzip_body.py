"""GET/HEAD with `Accept-Encoding: gzip` (reference oss-behaviours §3): when OSS compresses, and the
compressed body itself, produced chunk by chunk so memory stays flat whatever the object size.

OSS compresses only objects of at least 1 KB whose Content-Type (charset suffix allowed) is in
COMPRESSIBLE_TYPES. The answer is chunked, without Content-Length, ETag or Accept-Ranges, with
`Vary: Accept-Encoding`; the CRC-64 and Content-MD5 headers stay those of the stored bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping

MIN_SIZE = 1024
# [doc faq-detail/39645, Nov 2024]; older revisions omit text/html.
COMPRESSIBLE_TYPES = frozenset({
    "text/cache-manifest", "text/xml", "text/css", "text/html", "text/plain", "application/javascript",
    "application/x-javascript", "application/rss+xml", "application/json", "text/json"})
# OSS is fronted by Tengine (nginx), whose gzip_comp_level defaults to 1 [unverified]; level 1 also
# keeps the stand-in cheap on large objects. Clients cannot tell levels apart.
LEVEL = 1
_GZIP_WBITS = 16 + zlib.MAX_WBITS   # zlib stream with the gzip header and trailer
_DROPPED = ("content-length", "etag", "accept-ranges")


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when the Accept-Encoding header lists `gzip` with a non-zero q (RFC 9110 §12.5.3).

    `*` alone does not count, as in nginx's gzip filter [unverified for OSS].
    """
    for item in (accept_encoding or "").split(","):
        coding, *params = (p.strip() for p in item.split(";"))
        if coding.lower() != "gzip":
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def compressible(content_type: str | None, size: int) -> bool:
    """The object qualifies: ≥ 1 KB and a listed Content-Type (parameters such as charset ignored)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return size >= MIN_SIZE and media_type in COMPRESSIBLE_TYPES


def applies(headers: Mapping[str, str], accept_encoding: str | None, size: int) -> bool:
    """Whether a whole-object answer with these (final) `headers` is sent gzip-compressed.

    Not when the object already carries a Content-Encoding (stored, or forced by
    `response-content-encoding`): compressing it again would hide that encoding [unverified].
    """
    return (accepts_gzip(accept_encoding) and "content-encoding" not in headers
            and compressible(headers.get("content-type"), size))


def compressed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """`headers` of the identity answer turned into those of the compressed one."""
    out = {k: v for k, v in headers.items() if k.lower() not in _DROPPED}
    out["content-encoding"] = "gzip"
    out["vary"] = "Accept-Encoding"
    return out


def gzip_chunks(chunks: Iterable[bytes], level: int = LEVEL) -> Iterator[bytes]:
    """The gzip stream of `chunks`, one output piece per input chunk that produced any output.

    Holds only zlib's window and the current chunk: the object is never buffered whole.
    """
    compressor = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()
