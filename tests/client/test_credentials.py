"""CachingCredentialsProvider with an injected fetch and clock (no servers): caching, the refresh
margin, clock-skew correction, one fetch for concurrent callers, refresh failures, and the adapters."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import oss2
import pytest

from helpers.client.credentials import (
    CachingCredentialsProvider,
    Oss2CredentialsProvider,
    TemporaryCredentials,
    oss2_auth,
)
from helpers.client.credentials_v2 import OssV2CredentialsProvider
from helpers.client.errors import AppServerUnreachable, CredentialsUnavailable

LIFETIME = 900.0
SECRET = "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3t"
TOKEN = "CAIStokentokentokentokentokentokentokentoken"


@dataclass
class FakeClock:
    t: float = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Issuer:
    """Stands in for GET /api/sts: issues numbered credentials with a server Date `skew` s off our clock."""

    clock: FakeClock
    skew: float = 0.0
    lifetime: float = LIFETIME
    failures: list[Exception] = field(default_factory=list)
    issued: int = 0

    def __call__(self) -> TemporaryCredentials:
        if self.failures:
            raise self.failures.pop(0)
        self.issued += 1
        server_now = self.clock.t + self.skew
        return TemporaryCredentials(f"STS.key{self.issued:04d}xyz", f"{SECRET}{self.issued}", TOKEN,
                                    expiration=server_now + self.lifetime, server_date=server_now)


def make(skew: float = 0.0, margin: float = 300.0) -> tuple[CachingCredentialsProvider, FakeClock, Issuer]:
    clock = FakeClock()
    issuer = Issuer(clock, skew=skew)
    return CachingCredentialsProvider(issuer, refresh_margin=margin, now=clock), clock, issuer


def test_provider_repeated_get_fetches_once() -> None:
    provider, clock, _ = make()
    first = provider.get()
    clock.t += 100
    assert provider.get() is first and provider.get() is first
    assert provider.fetch_count == 1


def test_provider_remaining_at_margin_refreshes() -> None:
    provider, clock, _ = make()
    start = clock.t
    provider.get()
    clock.t = start + LIFETIME - 300 - 1          # 301 s left: still cached
    assert provider.get().access_key_id.startswith("STS.key0001")
    clock.t = start + LIFETIME - 300              # 300 s left: at the margin
    assert provider.get().access_key_id.startswith("STS.key0002")
    assert provider.fetch_count == 2


@pytest.mark.parametrize("skew", [+200.0, -200.0], ids=["server-ahead", "server-behind"])
def test_provider_clock_skew_corrected_from_server_date(skew: float) -> None:
    provider, clock, _ = make(skew=skew)
    start = clock.t
    provider.get()
    assert provider.skew == pytest.approx(skew)
    assert provider.remaining() == pytest.approx(LIFETIME)
    # Without the correction the refresh would come `skew` seconds early or late.
    clock.t = start + LIFETIME - 300 - 1
    provider.get()
    assert provider.fetch_count == 1
    clock.t = start + LIFETIME - 300
    provider.get()
    assert provider.fetch_count == 2


def test_provider_zero_margin_refreshes_only_at_expiry() -> None:
    provider, clock, _ = make(margin=0)
    start = clock.t
    provider.get()
    clock.t = start + LIFETIME - 1
    provider.get()
    assert provider.fetch_count == 1
    clock.t = start + LIFETIME
    provider.get()
    assert provider.fetch_count == 2


def test_provider_concurrent_callers_trigger_one_fetch() -> None:
    clock = FakeClock()
    issuer = Issuer(clock)
    entered, release = threading.Event(), threading.Event()

    def slow_fetch() -> TemporaryCredentials:
        entered.set()
        assert release.wait(5)
        return issuer()

    provider = CachingCredentialsProvider(slow_fetch, now=clock)
    results: list[TemporaryCredentials] = []
    barrier = threading.Barrier(9)

    def worker() -> None:
        barrier.wait(5)
        results.append(provider.get())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    barrier.wait(5)
    assert entered.wait(5)
    release.wait(0.1)   # let the other callers queue on the lock before the fetch returns
    release.set()
    for t in threads:
        t.join(5)
    assert len(results) == 8 and len({id(r) for r in results}) == 1
    assert provider.fetch_count == 1


def test_provider_refresh_failure_keeps_valid_credentials(caplog: pytest.LogCaptureFixture) -> None:
    provider, clock, issuer = make()
    start = clock.t
    old = provider.get()
    issuer.failures.append(AppServerUnreachable("app server unreachable: ConnectError"))
    clock.t = start + LIFETIME - 100
    with caplog.at_level(logging.WARNING, logger="helpers.client.credentials"):
        assert provider.get() is old
    assert provider.fetch_count == 2 and provider.failure_count == 1
    assert "STS refresh failed" in caplog.text
    assert old.access_key_secret not in caplog.text and TOKEN not in caplog.text
    assert old.access_key_id not in caplog.text      # only its first 8 characters


def test_provider_refresh_failure_retries_after_interval() -> None:
    provider, clock, issuer = make()
    start = clock.t
    old = provider.get()
    issuer.failures.append(AppServerUnreachable("down"))
    clock.t = start + LIFETIME - 100
    assert provider.get() is old                    # failed refresh, old served
    clock.t += 1
    assert provider.get() is old
    assert provider.fetch_count == 2                # no fetch on every call while failing
    clock.t += provider.retry_interval
    assert provider.get() is not old
    assert provider.fetch_count == 3


def test_provider_refresh_failure_with_expired_credentials_raises() -> None:
    provider, clock, issuer = make()
    start = clock.t
    provider.get()
    issuer.failures.append(AppServerUnreachable("down"))
    clock.t = start + LIFETIME + 1
    with pytest.raises(CredentialsUnavailable) as info:
        provider.get()
    assert isinstance(info.value.__cause__, AppServerUnreachable)


def test_provider_first_fetch_failure_raises() -> None:
    provider, _, issuer = make()
    issuer.failures.append(RuntimeError("boom"))
    with pytest.raises(CredentialsUnavailable, match="RuntimeError"):
        provider.get()


def test_provider_already_expired_answer_raises() -> None:
    clock = FakeClock()
    provider = CachingCredentialsProvider(Issuer(clock, lifetime=-5), now=clock)
    with pytest.raises(CredentialsUnavailable, match="already expired"):
        provider.get()


def test_provider_invalidate_forces_fetch() -> None:
    provider, _, _ = make()
    first = provider.get()
    provider.invalidate()
    assert provider.get() is not first
    assert provider.fetch_count == 2


def test_credentials_masked_hides_secret_and_token() -> None:
    provider, _, _ = make()
    creds = provider.get()
    masked = provider.masked()
    assert masked is not None
    assert masked["AccessKeyId"] == creds.access_key_id[:8] + "…"
    secret = creds.access_key_secret
    assert masked["AccessKeySecret"] == f"{secret[:4]}…({len(secret)} chars)"
    assert masked["SecurityToken"] == f"CAIS…({len(TOKEN)} chars)"
    assert creds.access_key_secret not in repr(creds) and TOKEN not in repr(creds)


def test_oss2_adapter_serves_current_credentials() -> None:
    provider, clock, _ = make()
    adapter = Oss2CredentialsProvider(provider)
    assert isinstance(adapter, oss2.credentials.CredentialsProvider)
    first = adapter.get_credentials()
    assert (first.get_access_key_id(), first.get_security_token()) == (provider.get().access_key_id, TOKEN)
    clock.t += LIFETIME
    assert adapter.get_credentials().get_access_key_secret() == f"{SECRET}2"
    assert isinstance(oss2_auth(provider, "v4"), oss2.ProviderAuthV4)
    assert isinstance(oss2_auth(provider, "v1"), oss2.ProviderAuth)


def test_v2_adapter_expiration_on_local_clock() -> None:
    import alibabacloud_oss_v2 as oss_v2

    provider, clock, _ = make(skew=-3600)
    adapter = OssV2CredentialsProvider(provider)
    assert isinstance(adapter, oss_v2.credentials.CredentialsProvider)
    creds = adapter.get_credentials()
    assert creds.has_keys() and creds.security_token == TOKEN
    assert creds.expiration is not None
    assert creds.expiration.timestamp() == pytest.approx(clock.t + LIFETIME)


def _fetch_never() -> Callable[[], TemporaryCredentials]:
    def fetch() -> TemporaryCredentials:
        raise AssertionError("not called")
    return fetch


def test_provider_negative_margin_rejected() -> None:
    with pytest.raises(ValueError):
        CachingCredentialsProvider(_fetch_never(), refresh_margin=-1)
