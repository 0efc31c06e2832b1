"""STS for app users: AssumeRole through the official SDK with a per-user session policy, and a
per-(user, scope) cache. The cache lives in one process: with `serve --workers N` each worker keeps
its own, so STS sees at most one AssumeRole per (user, scope) per worker per credential lifetime.

The session policy of each scope and the prefix rule (a user's temporary credentials reach
`users/<username>/*` and nothing else) are defined in `helpers.protocol.scopes`; this module applies
them and re-exports them for its callers.

Time: the remaining lifetime of credentials is `Expiration` minus the STS server's time of issue
(its `Date` header; without one, `Expiration - DurationSeconds`, since STS grants exactly the
requested duration), added to our own clock at receipt. So a skewed clock (or the local cloud's
moved clock) never makes us cache expired credentials or refresh valid ones. `server_now()`
estimates the STS server's current time for expiry stamps we hand out.

AssumeRole uses alibabacloud-sts20150401 (`helpers.sts_client`), whose response carries the HTTP headers. The
app server's RAM key stays here; errors carry only the STS error code. Imports no FastAPI.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeGuard

from helpers import sts_client
from helpers.appserver.errors import UpstreamError
from helpers.logging import mask_secret
from helpers.protocol.endpoints import default_sts_endpoint
from helpers.protocol.scopes import (  # noqa: F401 - re-exported: the app server's callers use these names
    DEVELOPER_BUCKET_ACTIONS,
    DEVELOPER_OBJECT_ACTIONS,
    SCOPE_ACTIONS,
    Scope,
    role_permission_policy,
    session_policy,
    user_prefix,
)
from helpers.protocol.times import parse_http_date, parse_iso8601
from helpers.trace import Exchange

if TYPE_CHECKING:
    from helpers.appserver.services.users import User
    from helpers.settings import Settings

logger = logging.getLogger(__name__)

_SESSION_NAME_BAD = re.compile(r"[^A-Za-z0-9.@_-]")


@dataclass(frozen=True, slots=True)
class Issued:
    """What one AssumeRole returned; `server_time` is the STS server's clock at issue (epoch s)."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str = field(repr=False)
    expiration: str
    server_time: float


@dataclass(frozen=True, slots=True)
class TempCredentials:
    """Cached STS credentials. `local_issued_at` and `local_expires_at` are on the broker's own clock."""

    username: str
    scope: Scope
    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str = field(repr=False)
    expiration: str
    local_expires_at: float
    local_issued_at: float = 0.0


class AssumeRole(Protocol):
    def __call__(self, *, session_name: str, policy: str, duration: int) -> Issued: ...


class TraceSink(Protocol):
    def add(self, user: str | None, exchange: Exchange) -> None: ...


class SdkAssumeRole:
    """AssumeRole with the app server's RAM key through alibabacloud-sts20150401
    (`helpers.sts_client`, shared with the notebooks' developer view).

    `settings.sts_endpoint` may carry a scheme (`http://127.0.0.1:PORT` for the local cloud,
    `https://sts.cn-hangzhou.aliyuncs.com` on Alibaba Cloud); without one it is HTTPS.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._endpoint = settings.sts_endpoint or default_sts_endpoint(settings.region)
        sts_client.load_sdk()     # ~150 ms of imports: paid at start-up, not by the first app user's request

    def __call__(self, *, session_name: str, policy: str, duration: int) -> Issued:
        s = self._settings
        try:
            answer = sts_client.assume_role(
                endpoint=self._endpoint, region=s.region, access_key_id=s.access_key_id,
                access_key_secret=s.access_key_secret.get_secret_value(), role_arn=s.role_arn,
                session_name=session_name, policy=policy, duration=duration)
        except sts_client.StsUnreachable as exc:
            logger.warning("AssumeRole: %s", exc)
            raise UpstreamError("STS is unreachable") from None
        except sts_client.StsRefused as exc:
            logger.warning("AssumeRole refused: %s (request id %s)", exc.code, exc.request_id or "?")
            raise UpstreamError(f"STS AssumeRole failed: {exc.code}") from None
        server_time = parse_http_date(answer.date)
        if server_time is None:
            logger.info("STS Date header missing or unreadable; using Expiration - DurationSeconds")
            server_time = parse_iso8601(answer.expiration) - duration
        return Issued(answer.access_key_id, answer.access_key_secret, answer.security_token,
                      answer.expiration, server_time)


class StsBroker:
    """Issues and caches STS credentials per (user, scope), refreshing `refresh_margin` s before expiry.

    A hit takes no lock (`cached`). On a miss: one lock per key (created under a guard lock),
    re-checked after acquiring, so concurrent callers of one key share one AssumeRole while other
    keys proceed. The cache lives in this process: the app server runs one worker process, so every
    request for a (user, scope) sees the same entry. `now` is our clock (injectable).
    """

    def __init__(self, settings: Settings, *, now: Callable[[], float] = time.time,
                 assume_role: AssumeRole | None = None, trace: TraceSink | None = None) -> None:
        self._settings = settings
        self._trace = trace
        self._now = now
        self._assume = assume_role or SdkAssumeRole(settings)
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._cache: dict[tuple[str, str], TempCredentials] = {}
        self._skew = 0.0
        self.assume_role_calls = 0

    def now(self) -> float:
        return self._now()

    def server_now(self) -> float:
        """Our clock plus the skew seen at the last AssumeRole: the STS/OSS servers' notion of now."""
        return self._now() + self._skew

    def remaining(self, creds: TempCredentials) -> float:
        return creds.local_expires_at - self._now()

    def _usable(self, creds: TempCredentials | None) -> TypeGuard[TempCredentials]:
        """Fresh enough to hand out: more than the refresh margin left, and not minted after our now.
        The local stack's clock can move back (`reset_clock`); credentials minted while it stood ahead
        would otherwise outlive the lifetime a client expects by however far it had moved."""
        return (creds is not None and creds.local_issued_at <= self._now()
                and self.remaining(creds) > self._settings.sts_refresh_margin_seconds)

    def cached(self, user: User, scope: Scope) -> TempCredentials | None:
        """The cached credentials if still fresh, else None: the hit path, lock-free and never blocking
        (a dict read is atomic and entries are immutable), so async routes call it on the event loop."""
        cached = self._cache.get((user.username, scope))
        if self._usable(cached):
            return cached
        return None

    def get(self, user: User, scope: Scope) -> TempCredentials:
        """Cached or freshly issued credentials; may block on AssumeRole (call it off the event loop)."""
        hit = self.cached(user, scope)
        if hit is not None:
            return hit
        key = (user.username, scope)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            cached = self._cache.get(key)
            if self._usable(cached):
                return cached
            fresh = self._mint(user, scope)
            self._cache[key] = fresh
            return fresh

    def _mint(self, user: User, scope: Scope) -> TempCredentials:
        s = self._settings
        policy = json.dumps(session_policy(bucket=s.bucket, username=user.username, scope=scope),
                            separators=(",", ":"))
        session_name = _SESSION_NAME_BAD.sub("-", f"{user.username}-{scope}")[:64]
        received = self._now()
        started = time.time()    # trace times are wall-clock, whatever clock the broker runs on
        try:
            issued = self._assume(session_name=session_name, policy=policy, duration=s.sts_duration_seconds)
        except UpstreamError as exc:
            self._traced(user, started, session_name, None, exc.detail)
            raise
        self._traced(user, started, session_name, 200,
                     f"AccessKeyId {mask_secret(issued.access_key_id)}, "
                     f"AccessKeySecret {mask_secret(issued.access_key_secret)}, "
                     f"SecurityToken {mask_secret(issued.security_token)}, Expiration {issued.expiration}")
        self.assume_role_calls += 1
        lifetime = parse_iso8601(issued.expiration) - issued.server_time
        self._skew = issued.server_time - received
        logger.info("issued STS credentials %s for %s/%s, %ds", issued.access_key_id, user.username, scope,
                    int(lifetime))
        return TempCredentials(user.username, scope, issued.access_key_id, issued.access_key_secret,
                               issued.security_token, issued.expiration, received + lifetime, received)

    def _traced(self, user: User, started: float, session_name: str, status: int | None, note: str) -> None:
        if self._trace is not None:
            self._trace.add(user.username, Exchange.create(
                t=started, end=time.time(), source="AppServer", target="STS", method="POST",
                path=f"/?Action=AssumeRole&RoleSessionName={session_name}", status=status, note=note))
