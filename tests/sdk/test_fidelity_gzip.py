"""GET/HEAD with `Accept-Encoding: gzip` as real OSS answers it (oss-behaviours §3), through oss2 and
alibabacloud-oss-v2 and through plain HTTP on signed and anonymous URLs against the local cloud.

OSS compresses text objects of ≥ 1 KB: 200, chunked, `Content-Encoding: gzip`, `Vary: Accept-Encoding`,
no Content-Length / ETag / Accept-Ranges, CRC-64 and Content-MD5 of the stored bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import string
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests
from oss2.models import BucketCors, CorsRule

from helpers.localcloud.server import LocalCloudServer
from tests.sdk.conftest import crc64, md5_b64, oss_error

GZIP = {"Accept-Encoding": "gzip"}


def text(n: int, seed: int = 7) -> bytes:
    """oss2's own `random_bytes` (tests/common.py): lowercase letters, so compressible."""
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n)).encode()


def raw_get(url: str, headers: dict[str, str] | None = None) -> tuple[requests.Response, bytes]:
    """GET without requests' decoding: (response, body bytes exactly as sent)."""
    resp = requests.get(url, headers={"Accept-Encoding": None, **(headers or {})}, stream=True, timeout=30)
    return resp, resp.raw.read(decode_content=False)


@pytest.fixture
def key(unique: Callable[[str], str]) -> str:
    return f"gz/{unique('obj')}.txt"


def assert_gzip_answer(resp: requests.Response, body: bytes, content: bytes, *, md5: bool = True) -> None:
    h = resp.headers
    assert resp.status_code == 200
    assert (h["Content-Encoding"], h["Transfer-Encoding"]) == ("gzip", "chunked")
    assert h["Vary"] == "Accept-Encoding"
    assert "Content-Length" not in h and "ETag" not in h and "Accept-Ranges" not in h
    assert h["x-oss-hash-crc64ecma"] == str(crc64(content))
    assert (h["x-oss-object-type"], h["x-oss-storage-class"]) == ("Normal", "Standard")
    assert h["Last-Modified"].endswith(" GMT")
    if md5:
        assert h["Content-MD5"] == md5_b64(content)
    assert body[:2] == b"\x1f\x8b" and len(body) < len(content)
    assert gzip.decompress(body) == content


# ------------------------------------------------------------------------------------ oss2's own test

def test_oss2_gzip_get_reads_decompressed_stream_with_crc_check(workbook_bucket: oss2.Bucket,
                                                                key: str) -> None:
    """oss2 2.19.1 tests/test_object.py `test_gzip_get`, unmodified in substance (CRC checking on)."""
    content = text(1024 * 1024)
    workbook_bucket.put_object(key, content)

    result = workbook_bucket.get_object(key, headers={"Accept-Encoding": "gzip"})
    content_read = result.read()
    assert content_read == content
    assert result.content_length is None
    assert result.headers["Content-Encoding"] == "gzip"
    assert result.server_crc == crc64(content)

    stats = {"previous": -1}

    def progress_callback(bytes_consumed: int, total_bytes: int | None) -> None:
        assert total_bytes is None
        assert bytes_consumed > stats["previous"]
        stats["previous"] = bytes_consumed

    result = workbook_bucket.get_object(key, headers={"Accept-Encoding": "gzip"},
                                        progress_callback=progress_callback)
    assert result.read() == content


def test_oss2_without_accept_encoding_gets_identity(workbook_bucket: oss2.Bucket, key: str) -> None:
    content = text(4096)
    workbook_bucket.put_object(key, content)
    result = workbook_bucket.get_object(key)   # oss2 suppresses requests' default Accept-Encoding
    assert result.read() == content
    assert result.content_length == 4096 and "Content-Encoding" not in result.headers


def test_v2_get_object_with_accept_encoding_gzip(admin_v2_client: oss.Client, workbook_bucket: oss2.Bucket,
                                                 key: str) -> None:
    content = text(64 * 1024, seed=2)
    workbook_bucket.put_object(key, content, headers={"Content-Type": "application/json; charset=utf-8"})
    result = admin_v2_client.get_object(oss.GetObjectRequest(bucket="workbook", key=key, headers=dict(GZIP)))
    assert result.status_code == 200
    assert (result.content_encoding, result.content_length, result.etag) == ("gzip", None, None)
    assert result.hash_crc64 == str(crc64(content))
    assert result.body.read() == content


# ------------------------------------------------------------------------------------ wire headers

def test_signed_url_gzip_answer_headers_and_bytes(workbook_bucket: oss2.Bucket, key: str) -> None:
    content = text(10_000)
    workbook_bucket.put_object(key, content, headers={"Content-MD5": md5_b64(content)})
    resp, body = raw_get(workbook_bucket.sign_url("GET", key, 60), GZIP)
    assert_gzip_answer(resp, body, content)
    assert resp.headers["Content-Type"] == "text/plain"


@pytest.mark.parametrize(("size", "content_type", "compressed"), [
    (1023, "text/plain", False),                  # under 1 KB
    (1024, "text/plain", True),                   # exactly 1 KB [IT oss2-t chunked]
    (4096, "text/plain; charset=utf-8", True),
    (4096, "TEXT/HTML", True),
    (4096, "text/css", True),
    (4096, "application/javascript", True),
    (4096, "application/x-javascript", True),
    (4096, "application/rss+xml", True),
    (4096, "application/json", True),
    (4096, "text/json", True),
    (4096, "text/xml", True),
    (4096, "text/cache-manifest", True),
    (4096, "application/octet-stream", False),
    (4096, "application/xml", False),
    (4096, "image/svg+xml", False),
    (4096, "text/csv", False),
])
def test_gzip_only_for_listed_types_of_at_least_1kb(workbook_bucket: oss2.Bucket, key: str, size: int,
                                                    content_type: str, compressed: bool) -> None:
    content = text(size)
    workbook_bucket.put_object(key, content, headers={"Content-Type": content_type})
    resp, body = raw_get(workbook_bucket.sign_url("GET", key, 60), GZIP)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == content_type
    if compressed:
        assert_gzip_answer(resp, body, content, md5=False)
    else:
        assert "Content-Encoding" not in resp.headers and "Vary" not in resp.headers
        etag = f'"{hashlib.md5(content).hexdigest().upper()}"'
        assert (resp.headers["Content-Length"], resp.headers["ETag"]) == (str(size), etag)
        assert body == content


@pytest.mark.parametrize("accept", ["gzip;q=0", "deflate", "br, identity", "x-gzip-ish"])
def test_no_gzip_unless_accepted(workbook_bucket: oss2.Bucket, key: str, accept: str) -> None:
    content = text(4096)
    workbook_bucket.put_object(key, content)
    resp, body = raw_get(workbook_bucket.sign_url("GET", key, 60), {"Accept-Encoding": accept})
    assert "Content-Encoding" not in resp.headers and resp.headers["Content-Length"] == "4096"
    assert body == content


@pytest.mark.parametrize("accept", ["gzip, deflate", "deflate, gzip;q=0.5", "br;q=1.0, GZIP"])
def test_gzip_among_other_codings(workbook_bucket: oss2.Bucket, key: str, accept: str) -> None:
    content = text(4096)
    workbook_bucket.put_object(key, content)
    resp, body = raw_get(workbook_bucket.sign_url("GET", key, 60), {"Accept-Encoding": accept})
    assert_gzip_answer(resp, body, content, md5=False)


def test_stored_content_encoding_is_not_compressed_again(workbook_bucket: oss2.Bucket, key: str) -> None:
    content = gzip.compress(text(8192))
    workbook_bucket.put_object(key, content, headers={"Content-Type": "text/plain",
                                                      "Content-Encoding": "gzip"})
    resp, body = raw_get(workbook_bucket.sign_url("GET", key, 60), GZIP)
    assert resp.headers["Content-Length"] == str(len(content)) and "Vary" not in resp.headers
    assert body == content


# ---------------------------------------------------------------------- range, conditions, overrides

def test_range_with_gzip_answers_206_identity(workbook_bucket: oss2.Bucket, key: str) -> None:
    content = text(8192)
    workbook_bucket.put_object(key, content)
    resp, body = raw_get(workbook_bucket.sign_url("GET", key, 60), {**GZIP, "Range": "bytes=100-1199"})
    assert resp.status_code == 206
    assert (resp.headers["Content-Range"], resp.headers["Content-Length"]) == ("bytes 100-1199/8192", "1100")
    assert "Content-Encoding" not in resp.headers
    assert body == content[100:1200]
    result = workbook_bucket.get_object(key, byte_range=(8000, 9000), headers={
        **GZIP, "x-oss-range-behavior": "standard"})
    assert (result.status, result.read()) == (206, content[8000:])
    assert result.headers["Content-Range"] == "bytes 8000-8191/8192"


def test_ignored_range_gives_whole_object_compressed(workbook_bucket: oss2.Bucket, key: str) -> None:
    content = text(4096)
    workbook_bucket.put_object(key, content)
    # Default range behaviour: an unsatisfiable range is ignored, so the whole-object answer is compressed.
    resp, body = raw_get(workbook_bucket.sign_url("GET", key, 60), {**GZIP, "Range": "bytes=5000-6000"})
    assert_gzip_answer(resp, body, content, md5=False)


def test_conditions_still_apply_with_gzip(workbook_bucket: oss2.Bucket, key: str) -> None:
    content = text(4096)
    etag = workbook_bucket.put_object(key, content).etag
    url = workbook_bucket.sign_url("GET", key, 60)
    resp, body = raw_get(url, {**GZIP, "If-None-Match": f'"{etag}"'})
    assert (resp.status_code, body, resp.headers["ETag"]) == (304, b"", f'"{etag}"')
    resp = requests.get(url, headers={**GZIP, "If-Match": '"0123"'}, timeout=10)
    assert oss_error(resp) == (412, "PreconditionFailed",
                               "At least one of the pre-conditions you specified did not hold.")
    resp, body = raw_get(url, {**GZIP, "If-Match": f'"{etag}"'})
    assert_gzip_answer(resp, body, content, md5=False)
    with pytest.raises(oss2.exceptions.NotModified):
        workbook_bucket.get_object(key, headers={**GZIP,
                                                 "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})


def test_response_overrides_with_gzip(workbook_bucket: oss2.Bucket, key: str) -> None:
    content = text(4096)
    workbook_bucket.put_object(key, content)
    url = workbook_bucket.sign_url("GET", key, 60, params={
        "response-content-disposition": "attachment; f.txt", "response-cache-control": "no-cache"})
    resp, body = raw_get(url, GZIP)
    assert_gzip_answer(resp, body, content, md5=False)
    assert (resp.headers["Content-Disposition"], resp.headers["Cache-Control"]) == (
        "attachment; f.txt", "no-cache")
    # The answer's Content-Type decides: an override to a binary type turns compression off.
    url = workbook_bucket.sign_url("GET", key, 60,
                                   params={"response-content-type": "application/octet-stream"})
    resp, body = raw_get(url, GZIP)
    assert (resp.headers["Content-Type"], resp.headers["Content-Length"], body) == (
        "application/octet-stream", "4096", content)
    url = workbook_bucket.sign_url("GET", key, 60, params={"response-content-encoding": "identity"})
    resp, body = raw_get(url, GZIP)
    assert (resp.headers["Content-Encoding"], resp.headers["Content-Length"], body) == (
        "identity", "4096", content)


# ------------------------------------------------------------------------------------ HEAD, anonymous

def test_head_object_with_gzip_announces_compression(workbook_bucket: oss2.Bucket, key: str) -> None:
    content = text(4096)
    workbook_bucket.put_object(key, content)
    result = workbook_bucket.head_object(key, headers=GZIP)
    h = result.headers
    assert (h["Content-Encoding"], h["Vary"]) == ("gzip", "Accept-Encoding")
    assert "Content-Length" not in h and "ETag" not in h and "Accept-Ranges" not in h
    assert result.server_crc == crc64(content)
    plain = workbook_bucket.head_object(key)
    assert (plain.content_length, "Content-Encoding" in plain.headers) == (4096, False)


def test_anonymous_public_read_get_is_compressed(cloud: LocalCloudServer, admin_auth: oss2.Auth,
                                                 unique: Callable[[str], str]) -> None:
    name = unique("gzpub")
    owner = oss2.Bucket(admin_auth, cloud.oss_endpoint, name)
    owner.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    content = text(5000)
    owner.put_object("page.html", content)
    resp, body = raw_get(f"{cloud.oss_endpoint}/{name}/page.html", GZIP)
    assert_gzip_answer(resp, body, content, md5=False)
    assert resp.headers["Content-Type"] == "text/html"
    anon = oss2.Bucket(oss2.AnonymousAuth(), cloud.oss_endpoint, name)
    assert anon.get_object("page.html", headers=GZIP).read() == content


def test_cors_vary_origin_joins_vary_accept_encoding(cloud: LocalCloudServer, admin_auth: oss2.Auth,
                                                     unique: Callable[[str], str]) -> None:
    b = oss2.Bucket(admin_auth, cloud.oss_endpoint, unique("gzcors"))
    b.create_bucket()
    b.put_bucket_cors(BucketCors([CorsRule(allowed_origins=["*"], allowed_methods=["GET"])],
                                 response_vary=True))
    content = text(2048)
    b.put_object("a.txt", content)
    result = b.get_object("a.txt", headers={**GZIP, "Origin": "https://app.example.com"})
    assert result.headers["Vary"] == "Accept-Encoding, Origin"
    assert result.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert result.read() == content
    assert b.get_object("a.txt").headers["Vary"] == "Origin"


# ------------------------------------------------------------------------------------ streaming

def test_large_object_is_compressed_as_a_stream(workbook_bucket: oss2.Bucket, key: str) -> None:
    """32 MiB of hex text (compresses to about half): the server must neither buffer the object nor
    its compressed form. Python allocations of the whole process (server threads included) are traced
    while the client consumes the answer in 64 KiB pieces; the peak stays far below either size."""
    size = 32 * 1024 * 1024
    content = os.urandom(size // 2).hex().encode()
    workbook_bucket.put_object(key, content)
    url = workbook_bucket.sign_url("GET", key, 60)
    first_piece_at: list[float] = []
    tracemalloc.start()
    try:
        started = time.monotonic()
        resp = requests.get(url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=120)
        assert (resp.status_code, resp.headers["Transfer-Encoding"]) == (200, "chunked")
        crc = oss2.utils.Crc64(0)
        digest = hashlib.md5()
        received = 0
        for piece in resp.iter_content(64 * 1024):   # requests gunzips as it goes
            if not first_piece_at:
                first_piece_at.append(time.monotonic() - started)
            crc.update(piece)
            digest.update(piece)
            received += len(piece)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size
    assert (int(crc.crc), digest.digest()) == (crc64(content), hashlib.md5(content).digest())
    assert int(resp.headers["x-oss-hash-crc64ecma"]) == crc64(content)
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes: the object was buffered"
    # The first bytes come long before the last: the answer is produced as it is sent.
    assert first_piece_at[0] < elapsed / 4, (first_piece_at, elapsed)


def test_gzip_stream_survives_concurrent_readers(workbook_bucket: oss2.Bucket, key: str) -> None:
    content = text(300_000, seed=3)
    workbook_bucket.put_object(key, content)
    results: list[Any] = []

    def read() -> None:
        results.append(workbook_bucket.get_object(key, headers=GZIP).read())

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [content] * 4
