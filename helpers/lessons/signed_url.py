"""What notebook 02 (签名URL, upload with a signed URL) shows: the parts of a signed URL (signature and
token masked) and the same URL sent as-is or altered, over plain HTTP as a web view would.

    url_parts(signed.url)                 rows name/value for a table
    send(book, signed, data)                  PUT/GET exactly as signed; OSS errors raise OssRequestError
    send(book, signed, data, signature="tampered" | content_type="..." | key="...")   one thing changed

Never prints a signature, a token or a secret. Imports nothing from `helpers.localcloud`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import httpx

from helpers import http_clients
from helpers.client.results import raise_for_oss
from helpers.lessons.sts import diagram_with_sts_cache  # noqa: F401  (the notebook calls it from here)
from helpers.logging import SECRET_QUERY, mask_secret

if TYPE_CHECKING:
    from helpers.client.appserver_api import SignedUrl
    from helpers.workbook import Book

_SIGNATURE_PARAMS = ("x-oss-signature", "Signature")
_EXPLAIN = {
    "x-oss-security-token": "the STS token of the credentials that signed (upload scope)",
    "security-token": "the STS token of the credentials that signed (upload scope)",
    "x-oss-date": "when it was signed (UTC)",
    "x-oss-expires": "seconds it stays valid after x-oss-date",
    "x-oss-signature-version": "V4: HMAC-SHA256 with a derived signing key",
    "x-oss-credential": "STS AccessKeyId / date / region / oss / aliyun_v4_request",
    "x-oss-signature": "the signature (hex)",
    "OSSAccessKeyId": "the STS AccessKeyId",
    "Expires": "expiry as epoch seconds",
    "Signature": "the signature (base64, HMAC-SHA1)",
}


def _display(name: str, value: str) -> str:
    if name.lower() in SECRET_QUERY:
        return mask_secret(value)
    if name == "x-oss-credential" or name == "OSSAccessKeyId":
        head, sep, rest = value.partition("/")
        return mask_secret(head) + sep + rest
    return value


def url_parts(url: str) -> list[dict[str, str]]:
    """The URL split into host, path and each query parameter, secrets masked."""
    parts = urlsplit(url)
    rows = [{"part": "method target", "value": parts.path, "meaning": "/<bucket>/<object key>"}]
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        rows.append({"part": name, "value": _display(name, value), "meaning": _EXPLAIN.get(name, "")})
    return rows


def _altered_url(url: str, *, signature: str | None, key: str | None) -> str:
    parts = urlsplit(url)
    query = parts.query
    if signature == "tampered":
        pieces = []
        for piece in query.split("&"):
            name, sep, value = piece.partition("=")
            if name in _SIGNATURE_PARAMS and value:
                # Flip the first character to another one of the same alphabet (hex or base64).
                value = ("b" if value[0] != "b" else "c") + value[1:]
            pieces.append(name + sep + value)
        query = "&".join(pieces)
    path = parts.path
    if key is not None:
        bucket = path.lstrip("/").split("/", 1)[0]
        path = f"/{bucket}/" + quote(key, safe="/")
    return urlunsplit(parts._replace(path=path, query=query))


def send(book: Book, signed: SignedUrl, data: bytes = b"", *, signature: str | None = None,
         content_type: str | None = None, key: str | None = None) -> httpx.Response:
    """Send the signed request with plain HTTP, optionally changed in one way; raise OSS refusals.

    `signature="tampered"` flips one character of the signature, `content_type` replaces the
    Content-Type the URL was signed for, `key` points the URL at another object key."""
    url = _altered_url(signed.url, signature=signature, key=key)
    headers: dict[str, Any] = dict(signed.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    with http_clients.client(timeout=30, event_hooks=book.recorder.httpx_hooks("OSS")) as session:
        response = session.request(signed.method, url, headers=headers,
                                content=data if signed.method == "PUT" else None)
    raise_for_oss(response)
    crc = response.headers.get("x-oss-hash-crc64ecma", "")
    print(f"{signed.method} {response.status_code} — accepted {signed.key}"
          + (f", CRC-64 {crc}" if crc else ""))
    return response
