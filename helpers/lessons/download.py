"""What notebooks 05 (临时凭证授权的下载, download with STS) and 06 (签名URL授权的下载, download with a
signed URL) show beyond plain client calls: the download token masked with its policy, a PutObject
attempted with it, a ranged GET, the CRC-64 comparison, and the parts of a signed GET URL.

    show_token(client, "download")        masked credentials + where they may be used
    put_with_scope(client, "download", key, data)   PutObject signed with that scope's token
    ranged(client, key, first, last)      GetObject with a Range header (206 + Content-Range)
    conditional_get(client, key, headers) GetObject with any request headers (Range, If-Match, If-None-Match)
    crc_report(result, expected)          local CRC-64 vs OSS's x-oss-hash-crc64ecma
    url_rows(signed)                      rows part/value/meaning of a signed GET URL, secrets masked
    response_overrides_table()            OSS's response-* query parameters and the header each sets
    app_signed_get(client, key, expires, params)   a GET URL the app signs itself with its download token
    fetch(book, url)                      plain-HTTP GET of a signed URL: status and the headers that matter

Never prints a secret. Imports nothing from `helpers.localcloud`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import oss2

from helpers import http_clients
from helpers.client.errors import IntegrityError
from helpers.client.results import call_oss2, check_crc, crc64, raise_for_oss
from helpers.logging import SECRET_QUERY, mask_key_id, mask_secret

if TYPE_CHECKING:
    from helpers.client.appserver_api import SignedUrl
    from helpers.client.mobile import MobileClient
    from helpers.client.results import DownloadResult
    from helpers.workbook import Book


def show_token(client: MobileClient, scope: str) -> None:
    """The scope's cached credentials, masked, and where they may be used."""
    masked = client.providers[scope].masked()  # type: ignore[index]
    if masked is None:
        print(f"no {scope} token cached yet")
        return
    target = client.target(scope)  # type: ignore[arg-type]
    for name, value in masked.items():
        print(f"  {name:<16} {value}")
    print(f"  {'Bucket':<16} {target.bucket}\n  {'Prefix':<16} {target.prefix}")


def put_with_scope(client: MobileClient, scope: str, key: str, data: bytes) -> None:
    """PutObject signed with the `scope` token (to show what a scope does not allow)."""
    bucket = client.oss2_bucket(scope)  # type: ignore[arg-type]
    full = client.full_key(key, scope)  # type: ignore[arg-type]
    call_oss2(lambda: bucket.put_object(full, data))
    print(f"PutObject {full} accepted")


def ranged(client: MobileClient, key: str, first: int, last: int) -> bytes:
    """GetObject bytes first..last (inclusive) with the download token: OSS answers 206."""
    bucket = client.oss2_bucket("download")
    full = client.full_key(key, "download")
    result = call_oss2(lambda: bucket.get_object(full, byte_range=(first, last)))
    data = result.read()
    print(
        f"HTTP {result.status}, Content-Range: {result.headers.get('Content-Range')}, {len(data)} bytes: "
        f"{data!r}"
    )
    return data


def conditional_get(client: MobileClient, key: str, headers: dict[str, str]) -> bytes | None:
    """GetObject with the download token and `headers` as given (Range, If-Match, If-None-Match, ...):
    prints the status, Content-Range and bytes. None when OSS answers 304 Not Modified (no body);
    412 PreconditionFailed (If-Match on a changed object) raises like any OSS refusal."""
    bucket = client.oss2_bucket("download")
    full = client.full_key(key, "download")

    def get() -> tuple[Any, bytes] | None:
        try:
            r = bucket.get_object(full, headers=dict(headers))
        except oss2.exceptions.NotModified:
            return None
        return r, r.read()

    got = call_oss2(get)
    if got is None:
        print("HTTP 304 Not Modified: no body; the copy the app already has is the current one")
        return None
    result, data = got
    content_range = result.headers.get("Content-Range")
    print(f"HTTP {result.status}" + (f", Content-Range: {content_range}" if content_range else "")
          + f", {len(data)} bytes: {data!r}")
    return data


def crc_report(result: DownloadResult, expected: bytes) -> None:
    """Compare the CRC-64 of what we meant to store with OSS's, and show a corrupted copy caught."""
    local = crc64(expected)
    print(f"CRC-64 of the bytes we uploaded : {local}")
    print(f"CRC-64 OSS reports (x-oss-hash-crc64ecma): {result.crc64}")
    print(f"CRC-64 of the bytes we received : {crc64(result.data)}")
    print("match" if local == result.crc64 == crc64(result.data) else "MISMATCH")
    damaged = bytes([result.data[0] ^ 0x01]) + result.data[1:]
    try:
        check_crc(f"GetObject {result.key}", crc64(damaged), result.crc64)
    except IntegrityError as exc:
        print(f"one flipped bit is caught: IntegrityError: {exc}")


_MEANING = {
    "x-oss-security-token": "the STS token of the credentials that signed (the app server's download scope)",
    "security-token": "the STS token of the credentials that signed (the app server's download scope)",
    "x-oss-date": "when it was signed (UTC)",
    "x-oss-expires": "seconds it stays valid after x-oss-date",
    "x-oss-signature-version": "V4: HMAC-SHA256 with a derived signing key",
    "x-oss-credential": "STS AccessKeyId / date / region / oss / aliyun_v4_request",
    "x-oss-signature": "the signature over method, path, query and signed headers",
    "response-content-disposition": "OSS sends this Content-Disposition back (the download name); signed too",
    "OSSAccessKeyId": "the STS AccessKeyId",
    "Expires": "expiry as epoch seconds",
    "Signature": "the signature (base64, HMAC-SHA1)",
}


def url_rows(signed: SignedUrl) -> list[dict[str, str]]:
    """The signed URL as rows: the path, then each query parameter (secrets and key ids masked; the
    date and credential scope kept out of the table's values, as they change every run)."""
    parts = urlsplit(signed.url)
    rows = [{"part": "path", "value": unquote(parts.path), "meaning": "/<bucket>/<object key>"}]
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in SECRET_QUERY:
            shown = mask_secret(value)
        elif name in ("x-oss-credential", "OSSAccessKeyId"):
            head, _, rest = value.partition("/")
            shown = mask_key_id(head) + ("/<date>/" + "/".join(rest.split("/")[1:]) if rest else "")
        elif name in ("x-oss-date", "Expires"):
            shown = "<when signed>" if name == "x-oss-date" else "<epoch seconds>"
        else:
            shown = value
        rows.append({"part": name, "value": shown, "meaning": _MEANING.get(name, "")})
    return rows


def describe(result: DownloadResult | Any) -> None:
    """One line per field of a download result that is stable across runs."""
    print(f"key {result.key}: HTTP {result.status}, {result.size} bytes, CRC-64 {result.crc64}")
    print(f"  Content-Type: {result.content_type}")
    if result.content_disposition:
        print(f"  Content-Disposition: {result.content_disposition}")


# --- response-* overrides, and a URL the app signs itself (notebook 06) ----------------------------------
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-disposition": "Content-Disposition",
    "response-content-language": "Content-Language",
    "response-content-encoding": "Content-Encoding",
    "response-cache-control": "Cache-Control",
    "response-expires": "Expires",
}


def response_overrides_table() -> list[dict[str, str]]:
    """GetObject's response-* query parameters (OSS GetObject API) and the response header each one sets."""
    return [{"query parameter": name, "sets the response header": header}
            for name, header in RESPONSE_OVERRIDES.items()]


def app_signed_get(client: MobileClient, key: str, expires: int, params: dict[str, str] | None = None) -> str:
    """A V4 GET URL for `key` in the user's folder, signed by the app itself with its cached
    download-scope STS token (as the mobile SDKs' presign calls do); `params` are signed with it."""
    bucket = client.oss2_bucket("download")
    full = client.full_key(key, "download")
    return str(bucket.sign_url("GET", full, expires, params=dict(params or {}) or None, slash_safe=True))


def fetch(book: Book, url: str) -> httpx.Response:
    """GET a signed URL with plain HTTP (recorded for the diagram), raise OSS refusals, and print the
    status with the headers a browser acts on. Returns the httpx response."""
    with http_clients.client(timeout=30, event_hooks=book.recorder.httpx_hooks("OSS")) as session:
        response = session.get(url)
    raise_for_oss(response)
    print(f"HTTP {response.status_code}, {len(response.content)} bytes")
    for name in ("Content-Type", "Content-Disposition", "Cache-Control"):
        if name in response.headers or name != "Cache-Control":
            print(f"  {name}: {response.headers.get(name, '(none)')}")
    return response
