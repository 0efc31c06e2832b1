"""OSS upload callbacks: verify the RSA-MD5 signature exactly, then record the upload.

Verification (OSS "Callback" page, reference §7.3), in this order, before any body field is read:
1. `x-oss-pub-key-url` is base64 of an http(s) URL that matches an allowed prefix by parsed
   scheme, host, port and path (`helpers.protocol.callback_keys.key_url_allowed`, re-exported here).
2. The PEM is fetched from that URL only (no redirects, no proxies, ≤ 16 KiB, RSA) and cached.
3. `Authorization` is base64 of an RSA PKCS#1 v1.5 signature over
   MD5(unquote(path) + ("?" + raw query if any) + "\\n" + raw body).
Then the body (JSON from our own callback template, or form-encoded) must name our bucket and an
object inside `users/<x:user>/` of a configured app user; `x:user` alone is never trusted.
Imports no FastAPI.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from helpers import http_clients
from helpers.appserver import db
from helpers.appserver.errors import CallbackRejected
from helpers.protocol.callback_keys import key_url_allowed  # noqa: F401 - re-exported (lessons, tests)
from helpers.protocol.scopes import user_prefix

if TYPE_CHECKING:
    from helpers.settings import Settings

logger = logging.getLogger(__name__)

MAX_PEM_BYTES = 16 * 1024


class PublicKeyCache:
    """Fetched callback public keys by URL. Only allow-listed URLs reach `get`."""

    def __init__(self, *, timeout: float = 5.0) -> None:
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()
        self._timeout = timeout

    def get(self, url: str) -> rsa.RSAPublicKey:
        with self._lock:
            cached = self._keys.get(url)
        if cached is not None:
            return cached
        try:
            with http_clients.client(follow_redirects=False, timeout=self._timeout) as client, \
                    client.stream("GET", url) as resp:
                if resp.status_code != 200:
                    raise CallbackRejected("callback public key unavailable")
                data = b""
                for chunk in resp.iter_bytes():
                    data += chunk
                    if len(data) > MAX_PEM_BYTES:
                        raise CallbackRejected("callback public key unavailable")
        except httpx.HTTPError as exc:
            logger.warning("fetching the callback public key failed: %s", type(exc).__name__)
            raise CallbackRejected("callback public key unavailable") from None
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError:
            raise CallbackRejected("callback public key unreadable") from None
        if not isinstance(key, rsa.RSAPublicKey):
            raise CallbackRejected("callback public key is not RSA")
        with self._lock:
            self._keys[url] = key
        return key


def string_to_sign(raw_path: str, raw_query: str, body: bytes) -> bytes:
    """URL-decoded path + `?` + raw query (when present) + "\\n" + raw body."""
    head = unquote(raw_path) + ("?" + raw_query if raw_query else "")
    return head.encode("utf-8") + b"\n" + body


def verify(*, settings: Settings, keys: PublicKeyCache, raw_path: str, raw_query: str,
           headers: Mapping[str, str], body: bytes) -> None:
    """Raise CallbackRejected unless the request is a genuine OSS callback (see module docstring)."""
    try:
        key_url = base64.b64decode(headers.get("x-oss-pub-key-url", ""), validate=True).decode("ascii")
        signature = base64.b64decode(headers.get("authorization", ""), validate=True)
    except (binascii.Error, ValueError):
        raise CallbackRejected("malformed callback signature headers") from None
    if not key_url or not signature:
        raise CallbackRejected("missing callback signature headers")
    if not key_url_allowed(key_url, settings.allowed_key_urls()):
        logger.warning("callback refused: public key URL not allowed (%.80r)", key_url)
        raise CallbackRejected("callback public key URL is not allowed")
    public_key = keys.get(key_url)
    try:
        public_key.verify(signature, string_to_sign(raw_path, raw_query, body), padding.PKCS1v15(),
                          hashes.MD5())
    except InvalidSignature:
        logger.warning("callback refused: bad signature on %s", raw_path)
        raise CallbackRejected("callback signature does not verify") from None


@dataclass(frozen=True, slots=True)
class CallbackFacts:
    bucket: str
    object_key: str
    size: int
    mime_type: str
    etag: str
    username: str


def parse_body(content_type: str, body: bytes) -> CallbackFacts:
    """The upload's facts from a verified callback body (JSON or form-encoded)."""
    try:
        text = body.decode("utf-8")
        if content_type.split(";", 1)[0].strip().lower() == "application/json":
            doc = json.loads(text)
        else:
            doc = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
        if not isinstance(doc, dict):
            raise ValueError("not an object")
        values = {k: doc.get(k) for k in ("bucket", "object", "size", "mimeType", "etag", "user")}
        if not all(isinstance(v, str) for v in values.values()):
            raise ValueError("missing fields")
        size = int(values["size"])  # type: ignore[arg-type]
    except (UnicodeDecodeError, ValueError):
        raise CallbackRejected("callback body is not the expected document") from None
    return CallbackFacts(values["bucket"], values["object"], size, values["mimeType"],  # type: ignore[arg-type]
                         values["etag"], values["user"])  # type: ignore[arg-type]


def record(*, settings: Settings, conn: sqlite3.Connection, facts: CallbackFacts,
           request_id: str) -> db.Upload:
    """Store a verified upload; refuse one outside the named user's folder or another bucket."""
    if facts.bucket != settings.bucket:
        raise CallbackRejected("callback for another bucket")
    if facts.username not in settings.app_users:
        raise CallbackRejected("callback for an unknown user")
    if not facts.object_key.startswith(user_prefix(facts.username)):
        raise CallbackRejected("object key is outside the user's folder")
    if facts.size < 0:
        raise CallbackRejected("callback body is not the expected document")
    return db.insert_upload(conn, username=facts.username, bucket=facts.bucket, object_key=facts.object_key,
                            size=facts.size, mime_type=facts.mime_type, etag=facts.etag,
                            request_id=request_id[:128])
