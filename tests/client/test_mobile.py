"""MobileClient against the real app server and the local cloud: every method for alice, isolation
from bob, and a resumable upload during which every clock moves so the STS token is refreshed."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from helpers.client.errors import BadRequest, NotAuthenticated, OssAccessDenied
from helpers.client.mobile import MobileClient
from helpers.client.results import crc64

if TYPE_CHECKING:
    from tests.client.conftest import ClientClock

Mobile = Callable[..., MobileClient]


@pytest.mark.parametrize("sdk", ["oss2", "v2"])
@pytest.mark.parametrize("version", ["v4", "v1"])
def test_mobile_sts_upload_then_download_round_trip(mobile: Mobile, unique: Callable[[str], str],
                                                    sdk: str, version: str) -> None:
    alice = mobile("alice", signature_version=version)
    data = os.urandom(4096)
    key = unique("sts") + ".bin"
    up = alice.upload(key, data, content_type="application/x-test", sdk=sdk)
    assert (up.key, up.status, up.size) == (f"users/alice/{key}", 200, len(data))
    assert up.crc64 == crc64(data) and len(up.etag) == 32
    down = alice.download(key, sdk=sdk)
    assert down.data == data and down.crc64 == crc64(data) and down.etag == up.etag
    assert down.content_type == "application/x-test"


def test_mobile_upload_from_path_stores_file_bytes(mobile: Mobile, unique: Callable[[str], str],
                                                   tmp_path: Path) -> None:
    alice = mobile("alice")
    path = tmp_path / "photo.jpg"
    path.write_bytes(os.urandom(10_000))
    key = unique("file") + ".jpg"
    assert alice.upload(key, path).size == 10_000
    assert alice.download(key).data == path.read_bytes()


def test_mobile_credentials_cached_across_calls(mobile: Mobile, unique: Callable[[str], str]) -> None:
    alice = mobile("alice")
    for i in range(3):
        alice.upload(unique(f"c{i}"), b"x")
    assert alice.providers["upload"].fetch_count == 1
    assert alice.providers["download"].fetch_count == 0


def test_mobile_signed_url_upload_then_download_plain_http(mobile: Mobile,
                                                            unique: Callable[[str], str]) -> None:
    alice = mobile("alice")
    data = "héllo signed".encode()
    key = unique("signed") + ".txt"
    up = alice.upload_signed(key, data, "text/plain; charset=utf-8")
    assert (up.key, up.status, up.crc64) == (f"users/alice/{key}", 200, crc64(data))
    down = alice.download_signed(key, download_name="Grüße.txt")
    assert down.data == data and down.content_type == "text/plain; charset=utf-8"
    assert "filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt" in down.content_disposition
    assert alice.fetch_count == 0        # signed URLs need no STS credentials on the client


def test_mobile_form_upload_stores_object(mobile: Mobile, unique: Callable[[str], str]) -> None:
    alice = mobile("alice")
    data = b"<svg/>"
    key = unique("form") + ".svg"
    up = alice.upload_form(key, data, "image/svg+xml")
    assert (up.key, up.status, up.crc64, up.callback_reply) == (f"users/alice/{key}", 200, crc64(data), None)
    down = alice.download(key)
    assert down.data == data and down.content_type == "image/svg+xml"


def test_mobile_form_upload_with_callback_is_recorded(mobile: Mobile, unique: Callable[[str], str]) -> None:
    alice = mobile("alice")
    data = b"callback me"
    key = unique("cb") + ".txt"
    up = alice.upload_form(key, data, "text/plain", callback=True)
    assert up.status == 200, up.callback_reply
    assert isinstance(up.callback_reply, dict) and up.callback_reply["key"] == f"users/alice/{key}"
    recorded = [u for u in alice.list_uploads() if u["key"] == up.key]
    assert len(recorded) == 1 and recorded[0]["size"] == len(data)
    assert not [u for u in mobile("bob").list_uploads() if u["key"] == up.key]


@pytest.mark.parametrize("sdk", ["oss2", "v2"])
def test_mobile_alice_download_bob_object_access_denied(mobile: Mobile, unique: Callable[[str], str],
                                                        sdk: str) -> None:
    bob_key = mobile("bob").upload(unique("bob") + ".txt", b"bob's").key
    alice = mobile("alice")
    with pytest.raises(OssAccessDenied) as info:
        alice.download(bob_key, absolute=True, sdk=sdk)
    assert (info.value.status, info.value.code) == (403, "AccessDenied")
    assert info.value.request_id
    assert info.value.__suppress_context__     # the SDK exception (it may echo a token) is not chained


def test_mobile_signed_url_outside_own_folder_refused(mobile: Mobile) -> None:
    alice = mobile("alice")
    with pytest.raises(BadRequest) as info:
        alice.download_signed("users/bob/x.txt")
    assert info.value.status == 400 and "folder" in info.value.detail


def test_mobile_wrong_password_not_authenticated(appserver: Any) -> None:
    with pytest.raises(NotAuthenticated) as info:
        MobileClient(appserver.url, "alice", "not-the-password")
    assert info.value.status == 401


def test_mobile_expired_session_logs_in_again(mobile: Mobile, appserver: Any,
                                              unique: Callable[[str], str]) -> None:
    alice = mobile("alice")
    appserver.clock.advance(appserver.settings.session_ttl_seconds + 60)
    assert alice.upload_signed(unique("relogin"), b"again").status == 200


def test_mobile_masked_never_shows_secrets(mobile: Mobile, unique: Callable[[str], str],
                                           creds: dict[str, Any]) -> None:
    alice = mobile("alice")
    alice.upload(unique("m"), b"m")
    live = alice.providers["upload"].get()
    shown = json.dumps(alice.masked(), ensure_ascii=False)
    assert live.access_key_secret not in shown and live.security_token not in shown
    assert live.access_key_id not in shown and live.access_key_id[:8] + "…" in shown
    # The developer's AccessKeys never reach the client; it only holds STS credentials.
    assert live.access_key_id.startswith("STS.")
    for role in ("admin", "appserver"):
        assert creds[role]["access_key_id"] not in (live.access_key_id, shown)


@pytest.mark.parametrize(("advance", "threads"), [(660, 1), (960, 1), (660, 3)],
                         ids=["within-margin", "past-expiry", "within-margin-3-threads"])
def test_mobile_resumable_upload_refreshes_token_mid_upload(
        mobile: Mobile, appserver: Any, clock: Any, client_clock: ClientClock, tmp_path: Path,
        unique: Callable[[str], str], advance: int, threads: int) -> None:
    """Half-way through, every clock (local cloud, app server, client) jumps `advance` seconds: the
    15-minute token is then within the 5-minute margin (660) or already expired (960), so the next
    part is signed with a refreshed token. (With 3 threads only 660: parts signed before the jump
    may still be in flight, and a real margin exists to keep those valid.)"""
    alice = mobile("alice")
    data = os.urandom(3 * 1024 * 1024)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    seen: list[tuple[int, int | None]] = []
    moved = False
    lock = threading.Lock()     # oss2 reports progress from every upload thread

    def progress(consumed: int, total: int | None) -> None:
        nonlocal moved
        with lock:
            seen.append((consumed, total))
            if not moved and consumed >= len(data) // 2:
                moved = True
                clock.advance(advance)
                appserver.clock.advance(advance)
                client_clock.offset += advance

    provider = alice.providers["upload"]
    first_key = provider.get().access_key_id
    result = alice.upload_resumable(unique("resumable") + ".bin", path, part_size=100 * 1024,
                                    progress=progress, threads=threads)

    assert moved and seen[-1] == (len(data), len(data))
    assert provider.fetch_count == 2
    assert provider.get().access_key_id != first_key
    assert (result.status, result.size, result.crc64) == (200, len(data), crc64(data))
    download = alice.download(result.key)
    assert download.data == data and download.crc64 == crc64(data)
