"""Where callback-signing public keys may come from (OSS "Callback" page; reference §7.3).

Real OSS signs callbacks with the key at `gosspublic.alicdn.com` (http and https). The local cloud
serves its own key at `LOCAL_KEY_PATH` on its OSS port (design.md, "Callback"); an app server
talking to a local cloud allows that exact URL too, since a callback sent over loopback cannot be
signed with the key Alibaba publishes.

A URL matches an allowed prefix by parsed scheme, host, port and path (a prefix ending in `/`
admits paths below it; otherwise the path must be equal). User info, query, fragment, `..`, `%`,
backslashes and non-ASCII are refused; nothing is compared as a substring, so
`gosspublic.alicdn.com.evil.example` and `gosspublic.alicdn.com@evil` fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

REAL_OSS_KEY_URL_PREFIXES = ("http://gosspublic.alicdn.com/", "https://gosspublic.alicdn.com/")
LOCAL_KEY_FILE = "callback_pub_key_v1.pem"
LOCAL_KEY_PATH = f"/_localcloud/{LOCAL_KEY_FILE}"
MAX_URL_CHARS = 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


def local_key_url(oss_endpoint: str) -> str:
    """The local cloud's own callback public-key URL on its OSS endpoint."""
    return oss_endpoint.rstrip("/") + LOCAL_KEY_PATH


def allowed_key_urls(oss_endpoint: str | None, *, local: bool,
                     prefixes: Iterable[str] = REAL_OSS_KEY_URL_PREFIXES) -> tuple[str, ...]:
    """The allow-list: `prefixes`, plus the local cloud's exact key URL when `local` (the OSS
    endpoint is a local cloud) and an endpoint is known."""
    allowed = tuple(prefixes)
    if local and oss_endpoint:
        allowed += (local_key_url(oss_endpoint),)
    return allowed


@dataclass(frozen=True, slots=True)
class _UrlParts:
    scheme: str
    host: str
    port: int
    path: str


def _parts(url: str) -> _UrlParts | None:
    """Parsed scheme/host/port/path, or None for anything unusual (userinfo, query, fragment, ...)."""
    if not url or len(url) > MAX_URL_CHARS or not url.isascii() \
            or any(ord(c) <= 0x20 or c == "\x7f" for c in url):
        return None
    try:
        p = urlsplit(url)
        port = p.port
    except ValueError:
        return None
    scheme = p.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not p.hostname or p.username is not None or p.password is not None:
        return None
    if "@" in p.netloc or p.query or p.fragment or "\\" in p.path or "%" in p.path:
        return None
    if any(seg in (".", "..") for seg in p.path.split("/")):
        return None
    return _UrlParts(scheme, p.hostname.lower().rstrip("."), port or _DEFAULT_PORTS[scheme], p.path or "/")


def key_url_allowed(url: str, allowed_prefixes: Iterable[str]) -> bool:
    """True if `url` matches one allowed prefix by parsed scheme, host, port and path."""
    got = _parts(url)
    if got is None:
        return False
    for prefix in allowed_prefixes:
        want = _parts(prefix)
        if want is None or (got.scheme, got.host, got.port) != (want.scheme, want.host, want.port):
            continue
        if want.path.endswith("/") and got.path.startswith(want.path):
            return True
        if got.path == want.path:
            return True
    return False
