"""STS credentials on the client: a thread-safe caching provider and adapters for both OSS SDKs.

`CachingCredentialsProvider(fetch)` calls `fetch()` (in the app this is `GET /api/sts`) the first
time credentials are needed and again once the remaining lifetime is at most `refresh_margin`
seconds (the Alibaba mobile SDKs use 5 minutes). Remaining lifetime is measured on the *server's*
clock: `Expiration - (now() + skew)`, where `skew = server Date - local time at the response`, so
a phone whose clock is off by minutes neither serves expired tokens nor refreshes on every call.

If a refresh fails while the cached credentials are still valid, it keeps serving them and logs a
warning (masked), as volcengine ve-tos-python-sdk `tos/credential.py::FederationCredentials`
does; fetches are then spaced `retry_interval` seconds apart. With nothing valid left it raises
`CredentialsUnavailable`.

Adapters: `Oss2CredentialsProvider` (oss2 `CredentialsProvider.get_credentials()`, used through
`oss2.ProviderAuth`/`ProviderAuthV4` so every request is signed with the current credentials) and
`credentials_v2.OssV2CredentialsProvider` (alibabacloud_oss_v2 `credentials.CredentialsProvider`, which the v2
client calls before signing each attempt, `_client.py::_sent_http_request_once`).

Imports nothing from `helpers.localcloud` or `helpers.appserver`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import oss2

from helpers.client.errors import ClientError, CredentialsUnavailable
from helpers.logging import mask_key_id, mask_secret

logger = logging.getLogger(__name__)

DEFAULT_REFRESH_MARGIN = 300.0    # seconds; the Alibaba mobile SDKs refresh 5 minutes ahead


@dataclass(frozen=True, slots=True)
class TemporaryCredentials:
    """One set of STS credentials. `expiration` and `server_date` are epoch seconds on the server's clock."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str = field(repr=False)
    expiration: float
    server_date: float | None = None

    def masked(self) -> dict[str, str]:
        return {
            "AccessKeyId": mask_key_id(self.access_key_id),
            "AccessKeySecret": mask_secret(self.access_key_secret),
            "SecurityToken": mask_secret(self.security_token),
            "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expiration)),
        }


@dataclass(frozen=True, slots=True)
class _Cached:
    creds: TemporaryCredentials
    skew: float            # server clock minus local clock, seen at the fetch


Fetch = Callable[[], TemporaryCredentials]


class CachingCredentialsProvider:
    """Caches STS credentials and refreshes them `refresh_margin` seconds before they expire.

    Thread-safe: callers that find the cache stale queue on one lock and re-check after acquiring,
    so N concurrent callers cause one fetch. `fetch_count` counts calls to `fetch` (tests and
    benchmarks assert caching with it).
    """

    def __init__(self, fetch: Fetch, *, refresh_margin: float = DEFAULT_REFRESH_MARGIN,
                 now: Callable[[], float] = time.time, retry_interval: float = 5.0) -> None:
        if refresh_margin < 0 or retry_interval < 0:
            raise ValueError("refresh_margin and retry_interval must not be negative")
        self._fetch = fetch
        self.refresh_margin = float(refresh_margin)
        self.retry_interval = float(retry_interval)
        self._now = now
        self._lock = threading.Lock()
        self._cached: _Cached | None = None
        self._last_fetch_at: float | None = None
        self.fetch_count = 0
        self.failure_count = 0

    # ------------------------------------------------------------------------------------ reading

    def get(self) -> TemporaryCredentials:
        """Current credentials, fetching or refreshing them when needed."""
        cached = self._cached
        if cached is not None and not self._wants_refresh(cached):
            return cached.creds
        with self._lock:
            cached = self._cached    # another caller may have refreshed while we waited
            if cached is not None and not self._wants_refresh(cached):
                return cached.creds
            return self._refresh(cached)

    @property
    def skew(self) -> float:
        """Server clock minus local clock at the last successful fetch (0 before any)."""
        cached = self._cached
        return cached.skew if cached else 0.0

    def server_now(self) -> float:
        return self._now() + self.skew

    def remaining(self) -> float | None:
        """Seconds of validity left on the cached credentials, on the server's clock (None if empty)."""
        cached = self._cached
        return None if cached is None else self._remaining(cached)

    def local_expiration(self) -> float | None:
        """When the cached credentials expire, on the local clock (what a local `is_expired` needs)."""
        cached = self._cached
        return None if cached is None else cached.creds.expiration - cached.skew

    def invalidate(self) -> None:
        """Drop the cache, e.g. after OSS answered InvalidAccessKeyId or SecurityTokenExpired."""
        with self._lock:
            self._cached = None
            self._last_fetch_at = None

    def masked(self) -> dict[str, str] | None:
        cached = self._cached
        return None if cached is None else cached.creds.masked()

    # ----------------------------------------------------------------------------------- internals

    def _remaining(self, cached: _Cached) -> float:
        return cached.creds.expiration - (self._now() + cached.skew)

    def _wants_refresh(self, cached: _Cached) -> bool:
        remaining = self._remaining(cached)
        if remaining > self.refresh_margin:
            return False
        if remaining <= 0:
            return True
        # Inside the margin but still valid: space fetches out, so a failing app server (or one
        # that hands back the same near-expiry token) is not called on every signed request.
        last = self._last_fetch_at
        return last is None or self._now() - last >= self.retry_interval

    def _refresh(self, old: _Cached | None) -> TemporaryCredentials:
        before = self._now()
        self._last_fetch_at = before
        self.fetch_count += 1
        try:
            fresh = self._fetch()
        except Exception as exc:  # fetch is caller-supplied: any failure is a failed refresh
            self.failure_count += 1
            reason = str(exc) if isinstance(exc, ClientError) else type(exc).__name__
            if old is not None and self._remaining(old) > 0:
                logger.warning("STS refresh failed (%s); still serving %s for %.0f s", reason,
                               mask_key_id(old.creds.access_key_id), self._remaining(old))
                return old.creds
            raise CredentialsUnavailable(f"no valid STS credentials: {reason}") from exc
        after = self._now()
        # The Date header is stamped between our two readings; take the midpoint.
        skew = 0.0 if fresh.server_date is None else fresh.server_date - (before + after) / 2
        cached = _Cached(fresh, skew)
        self._cached = cached
        if self._remaining(cached) <= 0:
            raise CredentialsUnavailable("the server returned credentials that have already expired")
        logger.info("STS credentials %s cached, %.0f s left (skew %+.1f s)", mask_key_id(fresh.access_key_id),
                    self._remaining(cached), skew)
        return fresh


# -------------------------------------------------------------------------------------- adapters

class Oss2CredentialsProvider(oss2.credentials.CredentialsProvider):
    """oss2's provider interface; oss2 calls `get_credentials()` when it signs each request."""

    def __init__(self, provider: CachingCredentialsProvider) -> None:
        self.provider = provider

    def get_credentials(self) -> oss2.credentials.Credentials:
        c = self.provider.get()
        return oss2.credentials.Credentials(c.access_key_id, c.access_key_secret, c.security_token)


def oss2_auth(provider: CachingCredentialsProvider,
              signature_version: Literal["v1", "v4"] = "v4") -> oss2.ProviderAuth | oss2.ProviderAuthV4:
    """An oss2 auth that asks `provider` for credentials on every request (unlike `StsAuth`,
    whose credentials are fixed at construction)."""
    adapter = Oss2CredentialsProvider(provider)
    return oss2.ProviderAuthV4(adapter) if signature_version == "v4" else oss2.ProviderAuth(adapter)
