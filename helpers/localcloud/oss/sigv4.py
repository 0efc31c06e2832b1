"""OSS signature V4 (`OSS4-HMAC-SHA256`): canonical request, string to sign, signing key. Pure functions.

Reference §3 (header form) and §4.2 (query form). The canonical URI comes from the logical
(bucket, key), never the request path; the canonical query is built from DECODED query pairs
re-encoded per RFC 3986 with upper-case hex, which reconciles oss2 (`+` for space) with the v2 SDK
(`%20`).

This module imports nothing from Starlette and nothing from the rest of the local cloud (only
`helpers.protocol.post_form`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

# The signing-key chain (aliyun_v4<secret> → date → region → product → `aliyun_v4_request`) is
# shared with PostObject forms: one definition, in `helpers.protocol.post_form`.
from helpers.protocol.post_form import V4_ALGORITHM as ALGORITHM
from helpers.protocol.post_form import V4_TERMINATOR as TERMINATOR
from helpers.protocol.post_form import v4_signing_key as signing_key

__all__ = ["ALGORITHM", "TERMINATOR", "signing_key"]  # with this module's own functions below
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
DEFAULT_SIGNED = frozenset({"content-type", "content-md5"})


def uri_encode(text: str, *, keep_slash: bool) -> str:
    """RFC 3986: `A-Z a-z 0-9 - _ . ~` kept, everything else `%XX` (upper-case) over UTF-8 bytes."""
    return quote(text, safe="-_.~/" if keep_slash else "-_.~")


def canonical_uri(bucket: str | None, key: str | None) -> str:
    """URI-encoded `/`, `/bucket/` or `/bucket/key`, keeping `/`."""
    return uri_encode(f"/{bucket}/{key or ''}" if bucket else "/", keep_slash=True)


def canonical_query(query: Iterable[tuple[str, str]], *, exclude: frozenset[str] = frozenset()) -> str:
    """Decoded pairs re-encoded, sorted by (name, value), `&`-joined; empty values are bare names."""
    pairs = sorted((uri_encode(n, keep_slash=False), uri_encode(v, keep_slash=False))
                   for n, v in query if n not in exclude)
    return "&".join(f"{n}={v}" if v else n for n, v in pairs)


def canonical_headers(headers: Mapping[str, str], additional: Sequence[str]) -> str:
    """`x-oss-*`, content-type, content-md5 and the present additional headers, `name:value\\n` sorted."""
    extra = {h.lower() for h in additional}
    pairs = sorted((k.lower(), v) for k, v in headers.items()
                   if k.lower().startswith("x-oss-") or k.lower() in DEFAULT_SIGNED or k.lower() in extra)
    return "".join(f"{k}:{v}\n" for k, v in pairs)


def canonical_additional(additional: Sequence[str]) -> str:
    """Sorted lower-case additional header names joined by `;` (oss2 sorts them here too)."""
    return ";".join(sorted(h.lower() for h in additional))


def canonical_request(method: str, bucket: str | None, key: str | None, query: Iterable[tuple[str, str]],
                      headers: Mapping[str, str], additional: Sequence[str] = (), *,
                      exclude_query: frozenset[str] = frozenset()) -> str:
    """VERB, URI, query, headers (ending in `\\n`), additional header names, hashed payload."""
    payload = headers.get("x-oss-content-sha256", UNSIGNED_PAYLOAD)
    return "\n".join([method, canonical_uri(bucket, key), canonical_query(query, exclude=exclude_query),
                      canonical_headers(headers, additional), canonical_additional(additional), payload])


def scope(date: str, region: str, product: str = "oss") -> str:
    return f"{date}/{region}/{product}/{TERMINATOR}"


def string_to_sign(datetime_iso: str, scope_: str, canonical_request_: str) -> str:
    """`OSS4-HMAC-SHA256\\n<x-oss-date>\\n<scope>\\n<hex sha256(canonical request)>`."""
    # surrogateescape: header bytes that are not UTF-8 hash as themselves (auth `_signed_header_views`).
    digest = hashlib.sha256(canonical_request_.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{datetime_iso}\n{scope_}\n{digest}"


def v4_signature(key: bytes, string_to_sign_: str) -> str:
    """hex(HMAC-SHA256(signing key, string to sign))."""
    return hmac.new(key, string_to_sign_.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Credential:
    """`<ak>/<yyyymmdd>/<region>/<product>/aliyun_v4_request`, split."""

    access_key_id: str
    date: str
    region: str
    product: str

    @property
    def scope(self) -> str:
        return scope(self.date, self.region, self.product)


def parse_credential(text: str) -> Credential | None:
    """The five parts of a V4 credential, or None when it is not of that shape."""
    parts = text.split("/")
    if len(parts) != 5 or parts[4] != TERMINATOR or not parts[0] or not parts[1]:
        return None
    return Credential(parts[0], parts[1], parts[2], parts[3])


@dataclass(frozen=True, slots=True)
class Authorization:
    """A parsed `OSS4-HMAC-SHA256 ...` Authorization header."""

    credential: str
    signature: str
    additional_headers: tuple[str, ...]


def parse_authorization(value: str) -> Authorization | None:
    """Both textual variants: oss2 (`, ` and AdditionalHeaders last) and v2 (`,`, AdditionalHeaders in
    the middle). None when the header is not a V4 Authorization or lacks Credential/Signature."""
    if not value.startswith(ALGORITHM + " "):
        return None
    fields: dict[str, str] = {}
    for item in value[len(ALGORITHM) + 1:].split(","):
        name, sep, val = item.strip().partition("=")
        if sep:
            fields[name.strip()] = val.strip()
    cred, sig = fields.get("Credential"), fields.get("Signature")
    if not cred or not sig:
        return None
    addl = tuple(h.strip().lower() for h in fields.get("AdditionalHeaders", "").split(";") if h.strip())
    return Authorization(cred, sig, addl)
