"""The five flows end to end through the real servers (MobileClient -> app server -> local cloud),
in both signature versions, plus isolation, expiry, callback forgery and secret hygiene.

The cross-component view: each test drives the client as a phone app would and checks what every
side saw, through the recorded trace (helpers.trace), the account owner's view of the bucket and
the app server's /api/uploads. Single-component rules stay in tests/appserver and tests/client.
The clock moves through the local cloud's loopback admin call (`POST /_localcloud/clock`); the
`clock` fixture puts it back after each test.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import oss2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from helpers.client.errors import OssAccessDenied, OssRequestError
from helpers.client.mobile import MobileClient
from helpers.client.results import call_oss2, crc64, error_fields
from helpers.localcloud.server import LocalCloudServer
from helpers.protocol.callback_keys import LOCAL_KEY_PATH
from helpers.trace import Recorder

Mobile = Callable[..., MobileClient]
VERSIONS = ["v4", "v1"]


def _advance_cloud(cloud: LocalCloudServer, seconds: float) -> None:
    """Move the local cloud's clock the way a notebook does: its loopback-only admin call."""
    r = httpx.post(f"{cloud.oss_endpoint}/_localcloud/clock", json={"advance": seconds}, trust_env=False)
    assert r.status_code == 200, r.text


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, error_fields(response.content).get("Code", "")


def _traced(mobile: Mobile, user: str = "alice", **kw: Any) -> tuple[MobileClient, Recorder]:
    rec = Recorder()
    return mobile(user, recorder=rec, **kw), rec


# ------------------------------------------------------------------------------ the five flows

@pytest.mark.parametrize("version", VERSIONS)
def test_flow1_sts_upload_caches_credentials_one_assume_role(
        mobile: Mobile, unique: Callable[[str], str], workbook_bucket: oss2.Bucket, version: str) -> None:
    alice, rec = _traced(mobile, signature_version=version)
    data = [os.urandom(100 + i) for i in range(3)]
    keys = [alice.upload(unique("f1") + ".bin", d).key for d in data]
    text = rec.mermaid()
    assert text.count("AppServer->>STS: POST /?Action=AssumeRole&RoleSessionName=alice-upload") == 1
    assert text.count("Client->>OSS: PUT /workbook/") == 3
    for key, d in zip(keys, data, strict=True):
        assert workbook_bucket.get_object(key).read() == d      # the owner sees exactly what was sent


@pytest.mark.parametrize("version", VERSIONS)
def test_flow2_signed_url_put_stores_object_without_client_sts(
        mobile: Mobile, unique: Callable[[str], str], workbook_bucket: oss2.Bucket, version: str) -> None:
    alice, rec = _traced(mobile, signature_version=version)
    data = "signed ✓".encode()
    up = alice.upload_signed(unique("f2") + ".txt", data, "text/plain; charset=utf-8")
    assert (up.status, up.crc64) == (200, crc64(data))
    stored = workbook_bucket.get_object(up.key)
    assert stored.read() == data and stored.headers["Content-Type"] == "text/plain; charset=utf-8"
    put = next(e for e in rec.exchanges() if e.target == "OSS")
    assert (put.method, put.status) == ("PUT", 200)
    assert ("x-oss-signature=" if version == "v4" else "Signature=") in put.path
    assert alice.fetch_count == 0 and "AppServer->>STS" in rec.mermaid()   # the app server assumed the role


@pytest.mark.parametrize("version", VERSIONS)
def test_flow2_browser_form_post_object_stores_object(
        mobile: Mobile, unique: Callable[[str], str], workbook_bucket: oss2.Bucket, version: str) -> None:
    alice, rec = _traced(mobile, signature_version=version)
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(64)
    up = alice.upload_form(unique("f2form") + ".png", data, "image/png")
    assert (up.status, up.crc64, up.callback_reply) == (200, crc64(data), None)
    stored = workbook_bucket.get_object(up.key)
    assert stored.read() == data and stored.headers["Content-Type"] == "image/png"
    assert "Client->>OSS: POST /workbook" in rec.mermaid() and "OSS->>AppServer" not in rec.mermaid()


@pytest.mark.parametrize("version", VERSIONS)
def test_flow3_callback_verified_recorded_and_relayed(
        mobile: Mobile, unique: Callable[[str], str], version: str) -> None:
    alice, rec = _traced(mobile, signature_version=version)
    data = b"call me back"
    up = alice.upload_form(unique("f3") + ".txt", data, "text/plain", callback=True)
    assert up.status == 200 and up.callback_reply["ok"] is True and up.callback_reply["key"] == up.key
    mine = [u for u in alice.list_uploads() if u["key"] == up.key]
    assert len(mine) == 1 and (mine[0]["size"], mine[0]["mime_type"]) == (len(data), "text/plain")
    assert f"AppServer-->>OSS: 200 verified, recorded {up.key}" in rec.mermaid()
    # /api/uploads shows only your own.
    assert up.key not in json.dumps(mobile("bob").list_uploads())


@pytest.mark.parametrize("version", VERSIONS)
def test_flow4_sts_download_returns_stored_bytes(
        mobile: Mobile, unique: Callable[[str], str], workbook_bucket: oss2.Bucket, version: str) -> None:
    key = f"users/alice/{unique('f4')}.bin"
    data = os.urandom(2048)
    workbook_bucket.put_object(key, data, headers={"Content-Type": "application/x-f4"})
    alice, rec = _traced(mobile, signature_version=version)
    down = alice.download(key)
    assert (down.data, down.crc64, down.content_type) == (data, crc64(data), "application/x-f4")
    text = rec.mermaid()
    assert "RoleSessionName=alice-download" in text and "RoleSessionName=alice-upload" not in text
    assert "Client->>OSS: GET /workbook/" in text


@pytest.mark.parametrize("version", VERSIONS)
def test_flow5_signed_url_download_with_file_name(
        mobile: Mobile, unique: Callable[[str], str], workbook_bucket: oss2.Bucket, version: str) -> None:
    key = f"users/alice/{unique('f5')}.txt"
    workbook_bucket.put_object(key, b"five", headers={"Content-Type": "text/plain"})
    alice, rec = _traced(mobile, signature_version=version)
    down = alice.download_signed(key, download_name="report.txt")
    assert (down.data, down.crc64) == (b"five", crc64(b"five"))
    assert "report.txt" in down.content_disposition
    get = next(e for e in rec.exchanges() if e.target == "OSS")
    assert (get.method, get.status) == ("GET", 200) and alice.fetch_count == 0


# ------------------------------------------------------------------------------------ isolation

@pytest.mark.parametrize("version", VERSIONS)
def test_isolation_sts_cannot_read_write_or_list_other_users_prefix(
        mobile: Mobile, unique: Callable[[str], str], workbook_bucket: oss2.Bucket, version: str) -> None:
    bob_key = f"users/bob/{unique('private')}.txt"
    workbook_bucket.put_object(bob_key, b"bob's")
    alice, rec = _traced(mobile, signature_version=version)
    evil = f"users/bob/{unique('evil')}.txt"
    attempts: list[Callable[[], Any]] = [
        lambda: alice.download(bob_key, absolute=True),
        lambda: call_oss2(lambda: alice.oss2_bucket("upload").put_object(evil, b"x")),
        lambda: call_oss2(lambda: alice.oss2_bucket("download").list_objects(prefix="users/bob/")),
        lambda: call_oss2(lambda: alice.oss2_bucket("upload").list_objects(prefix="users/bob/")),
    ]
    for attempt in attempts:
        with pytest.raises(OssAccessDenied) as info:
            attempt()
        assert (info.value.status, info.value.code) == (403, "AccessDenied")
    assert workbook_bucket.get_object(bob_key).read() == b"bob's"
    assert not workbook_bucket.object_exists(evil)
    assert rec.mermaid().count("Note over Client,OSS: 403 AccessDenied") == len(attempts)


@pytest.mark.parametrize("version", VERSIONS)
def test_isolation_signed_url_edited_to_other_key_refused(
        mobile: Mobile, unique: Callable[[str], str], workbook_bucket: oss2.Bucket, version: str) -> None:
    name = unique("shared") + ".txt"
    workbook_bucket.put_object(f"users/bob/{name}", b"bob's")
    alice = mobile("alice", signature_version=version)
    signed = alice.api.signed_url("GET", name, signature_version=version)
    assert "/users/alice/" in signed.url
    edited = signed.url.replace("/users/alice/", "/users/bob/", 1)
    r = httpx.get(edited, headers=signed.headers, trust_env=False)
    assert _code(r) == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("version", VERSIONS)
def test_isolation_form_upload_outside_prefix_refused(
        mobile: Mobile, unique: Callable[[str], str], workbook_bucket: oss2.Bucket, version: str) -> None:
    alice = mobile("alice", signature_version=version)
    policy = alice.api.post_policy(unique("mine") + ".txt", signature_version=version)
    target = f"users/bob/{unique('planted')}.txt"
    fields = {**policy.fields, "key": target}
    r = httpx.post(policy.url, data=fields, files={"file": ("x.txt", b"planted")}, trust_env=False)
    assert _code(r) == (403, "AccessDenied")
    assert not workbook_bucket.object_exists(target)


# --------------------------------------------------------------------------------------- expiry

def test_expiry_cached_credentials_refresh_near_expiry(
        mobile: Mobile, appserver: Any, cloud: LocalCloudServer, clock: Any, client_clock: Any,
        unique: Callable[[str], str]) -> None:
    """15-minute credentials, 5-minute margins: 11 minutes later both caches refresh."""
    alice, rec = _traced(mobile)
    alice.upload(unique("before"), b"1")
    first = alice.providers["upload"].get().access_key_id
    alice.upload(unique("cached"), b"2")
    _advance_cloud(cloud, 660)
    appserver.clock.advance(660)
    client_clock.offset += 660
    alice.upload(unique("after"), b"3")
    assert alice.providers["upload"].fetch_count == 2
    assert alice.providers["upload"].get().access_key_id != first
    assert rec.mermaid().count("AppServer->>STS") == 2


@pytest.mark.parametrize("version", VERSIONS)
def test_expiry_signed_url_refused_after_its_expiry(
        mobile: Mobile, cloud: LocalCloudServer, clock: Any, unique: Callable[[str], str],
        version: str) -> None:
    alice = mobile("alice", signature_version=version)
    up = alice.upload_signed(unique("short") + ".txt", b"short-lived")
    signed = alice.api.signed_url("GET", up.key, expires=60, signature_version=version)
    assert httpx.get(signed.url, headers=signed.headers, trust_env=False).status_code == 200
    _advance_cloud(cloud, 120)
    r = httpx.get(signed.url, headers=signed.headers, trust_env=False)
    assert _code(r) == (403, "AccessDenied")
    assert error_fields(r.content)["Message"] == "Request has expired."


@pytest.mark.parametrize("version", VERSIONS)
def test_expiry_sts_token_refused_with_security_token_expired(
        mobile: Mobile, cloud: LocalCloudServer, clock: Any, unique: Callable[[str], str],
        version: str) -> None:
    """Only the cloud's clock moves: the client still holds the token, OSS refuses it."""
    alice, rec = _traced(mobile, signature_version=version)
    alice.upload(unique("fresh"), b"ok")
    _advance_cloud(cloud, 1000)
    with pytest.raises(OssRequestError) as info:
        alice.upload(unique("stale"), b"late")
    assert (info.value.status, info.value.code) == (403, "SecurityTokenExpired")
    assert "Note over Client,OSS: 403 SecurityTokenExpired" in rec.mermaid()


# -------------------------------------------------------------------------------------- forgery

def _callback_body(key: str) -> bytes:
    return json.dumps({"bucket": "workbook", "object": key, "size": "4", "mimeType": "text/plain",
                       "etag": "0" * 32, "user": "alice"}).encode()


FORGERIES = ["random-signature", "attacker-key-url", "look-alike-host", "userinfo-url", "altered-body"]


@pytest.mark.parametrize("case", ["genuine", *FORGERIES])
def test_forgery_callback_refused_and_leaves_no_record(
        mobile: Mobile, appserver: Any, cloud: LocalCloudServer, unique: Callable[[str], str],
        attacker: tuple[str, rsa.RSAPrivateKey], case: str) -> None:
    """Each forgery is what an attacker can send straight to /api/callback; `genuine` (signed by the
    local cloud's own key, as OSS does) shows the same request is otherwise accepted."""
    alice = mobile("alice")
    cursor, _ = alice.api.trace(0)
    key = f"users/alice/{unique(case)}.txt"
    body = _callback_body(key)
    key_url = cloud.oss_endpoint + LOCAL_KEY_PATH
    host = key_url.split("//", 1)[1].split("/", 1)[0]
    attacker_url, attacker_key = attacker

    def genuine(payload: bytes) -> bytes:
        return bytes(cloud.ctx.callback_signer.sign(b"/api/callback\n" + payload))

    signature, sent = genuine(body), body
    if case == "random-signature":
        signature = os.urandom(256)
    elif case == "attacker-key-url":
        key_url = attacker_url
        signature = attacker_key.sign(b"/api/callback\n" + body, padding.PKCS1v15(), hashes.MD5())
    elif case == "look-alike-host":
        key_url = f"http://{host.replace('127.0.0.1', '127.0.0.1.nip.io')}{LOCAL_KEY_PATH}"
    elif case == "userinfo-url":
        key_url = f"http://{host}@{attacker_url.split('//', 1)[1]}"
    elif case == "altered-body":
        sent = body.replace(b'"size": "4"', b'"size": "4000"')
        assert sent != body
    r = appserver.http.post("/api/callback", content=sent, headers={
        "Authorization": base64.b64encode(signature).decode(),
        "x-oss-pub-key-url": base64.b64encode(key_url.encode()).decode(),
        "Content-Type": "application/json"})

    recorded = [u for u in alice.list_uploads() if u["key"] == key]
    _, seen = alice.api.trace(cursor)
    callbacks = [e for e in seen if e["path"] == "/api/callback"]
    if case == "genuine":
        assert r.status_code == 200 and len(recorded) == 1 and len(callbacks) == 1
    else:
        assert r.status_code == 400 and r.json()["detail"]
        assert recorded == [] and callbacks == []     # no upload row, and nothing shown to alice


# ---------------------------------------------------------------------------------- secret hygiene

class CapturingTransport(httpx.HTTPTransport):
    """A real HTTP transport that also keeps every raw answer (headers and body)."""

    def __init__(self, seen: list[str]) -> None:
        super().__init__()
        self.seen = seen

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        content = response.read()
        self.seen.append(repr(response.headers.multi_items()) + content.decode("utf-8", "replace"))
        return response


def test_hygiene_appserver_and_admin_secrets_never_in_responses_logs_or_traces(
        mobile: Mobile, appserver: Any, creds: dict[str, Any], workbook_bucket: oss2.Bucket,
        unique: Callable[[str], str], caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    rec = Recorder()
    alice = mobile("alice", recorder=rec, transport=CapturingTransport(seen),
                   oss_transport=CapturingTransport(seen))
    for scope in ("upload", "download"):
        alice.oss2_bucket(scope).session.session.hooks["response"].append(
            lambda r, *a, **k: seen.append(repr(dict(r.headers)) + r.content.decode("utf-8", "replace")))

    key = alice.upload(unique("h"), b"hygiene").key
    alice.download(key)
    alice.upload_signed(unique("hs"), b"signed")
    alice.download_signed(key)
    alice.upload_form(unique("hf"), b"form", callback=True)
    bob_key = f"users/bob/{unique('hb')}"
    workbook_bucket.put_object(bob_key, b"b")
    with pytest.raises(OssAccessDenied):
        alice.download(bob_key, absolute=True)
    seen.append(appserver.http.post("/api/callback", content=b"{}", headers={"Authorization": "eA=="}).text)
    seen.append(appserver.http.post("/api/login", json={"username": "alice", "password": "wrong"}).text)
    seen.append(appserver.http.get("/openapi.json").text)

    secrets = [creds["admin"]["access_key_secret"], creds["appserver"]["access_key_secret"],
               appserver.settings.session_secret.get_secret_value()]
    out, err = capfd.readouterr()
    places = {
        "responses": "\n".join(seen),
        "logs": caplog.text + "\n".join(r.getMessage() for r in caplog.records),
        "server output": out + err,
        "trace": rec.mermaid() + json.dumps([e.to_json() for e in rec.exchanges()]),
    }
    assert len(seen) > 10 and "AccessDenied" in places["responses"]
    assert "issued STS credentials" in places["logs"]     # the servers' own log lines are in view
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text and quote(secret, safe="") not in text, f"a secret leaked in {where}"
