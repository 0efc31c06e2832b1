"""POST /api/callback: exact RSA-MD5 verification, the key-URL allow-list, and no record unless
verified (helpers/appserver/services/callbacks.py). The tests play OSS's side with the local
cloud's own callback signer, and an attacker's side with a key of their own served on loopback."""

from __future__ import annotations

import base64
import json
import sqlite3

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from helpers.appserver.services.callbacks import key_url_allowed, string_to_sign
from helpers.localcloud.server import LocalCloudServer
from helpers.protocol.callback_keys import LOCAL_KEY_PATH
from tests.appserver.conftest import RunningAppServer


def _body(obj: str = "users/alice/cb.txt", user: str = "alice", **extra: str) -> bytes:
    doc = {
        "bucket": "workbook",
        "object": obj,
        "size": "3",
        "mimeType": "text/plain",
        "etag": "900150983CD24FB0D6963F7D28E17F72",
        "user": user,
        **extra,
    }
    return json.dumps(doc).encode()


def _send(
    appserver: RunningAppServer, body: bytes, *, key_url: str, signature: bytes, path: str = "/api/callback"
) -> httpx.Response:
    headers = {
        "Authorization": base64.b64encode(signature).decode(),
        "x-oss-pub-key-url": base64.b64encode(key_url.encode()).decode(),
        "Content-Type": "application/json",
        "x-oss-request-id": "TESTREQUEST",
    }
    return appserver.http.post(path, content=body, headers=headers)


def _rows(appserver: RunningAppServer) -> int:
    with sqlite3.connect(appserver.settings.db_path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM uploads").fetchone()[0])


def _cloud_sign(cloud: LocalCloudServer, body: bytes, path: str = "/api/callback") -> bytes:
    return bytes(
        cloud.ctx.callback_signer.sign(string_to_sign(path.partition("?")[0], path.partition("?")[2], body))
    )


@pytest.fixture
def local_key_url(cloud: LocalCloudServer) -> str:
    return cloud.oss_endpoint + LOCAL_KEY_PATH


def test_callback_genuine_signature_records_upload(
    appserver: RunningAppServer, alice: str, cloud: LocalCloudServer, local_key_url: str
) -> None:
    body = _body()
    r = _send(appserver, body, key_url=local_key_url, signature=_cloud_sign(cloud, body))
    assert r.status_code == 200, r.text
    assert r.json()["key"] == "users/alice/cb.txt"
    assert [u["key"] for u in appserver.get("/api/uploads", alice).json()] == ["users/alice/cb.txt"]


def test_callback_random_signature_returns_4xx_and_no_record(
    appserver: RunningAppServer, local_key_url: str
) -> None:
    r = _send(appserver, _body(), key_url=local_key_url, signature=bytes(256))
    assert r.status_code == 400
    assert r.json() == {"detail": "callback signature does not verify"}
    assert _rows(appserver) == 0


def test_callback_altered_body_returns_4xx_and_no_record(
    appserver: RunningAppServer, cloud: LocalCloudServer, local_key_url: str
) -> None:
    signature = _cloud_sign(cloud, _body())
    r = _send(appserver, _body(size="999999"), key_url=local_key_url, signature=signature)
    assert r.status_code == 400
    assert _rows(appserver) == 0


def test_callback_signed_for_other_path_returns_4xx(
    appserver: RunningAppServer, cloud: LocalCloudServer, local_key_url: str
) -> None:
    body = _body()
    r = _send(appserver, body, key_url=local_key_url, signature=_cloud_sign(cloud, body, "/api/other"))
    assert r.status_code == 400
    assert _rows(appserver) == 0


def test_callback_attacker_key_on_loopback_is_refused(
    appserver: RunningAppServer, attacker: tuple[str, rsa.RSAPrivateKey]
) -> None:
    url, key = attacker
    body = _body()
    signature = key.sign(string_to_sign("/api/callback", "", body), padding.PKCS1v15(), hashes.MD5())
    r = _send(appserver, body, key_url=url, signature=signature)
    assert r.status_code == 400
    assert r.json() == {"detail": "callback public key URL is not allowed"}
    assert _rows(appserver) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/key.pem",
        "http://gosspublic.alicdn.com.evil.example/callback_pub_key_v1.pem",
        "http://gosspublic.alicdn.com@evil.example/callback_pub_key_v1.pem",
        "http://evil.example/http://gosspublic.alicdn.com/callback_pub_key_v1.pem",
        "ftp://gosspublic.alicdn.com/callback_pub_key_v1.pem",
        "http://gosspublic.alicdn.com:8080/callback_pub_key_v1.pem",
    ],
)
def test_callback_disallowed_key_url_returns_4xx(
    appserver: RunningAppServer, cloud: LocalCloudServer, url: str
) -> None:
    body = _body()
    r = _send(appserver, body, key_url=url, signature=_cloud_sign(cloud, body))
    assert r.status_code == 400
    assert r.json() == {"detail": "callback public key URL is not allowed"}
    assert _rows(appserver) == 0


def test_callback_object_outside_named_users_folder_is_refused(
    appserver: RunningAppServer, bob: str, cloud: LocalCloudServer, local_key_url: str
) -> None:
    # Genuinely signed, but claims alice's upload landed in bob's folder: trust the key, not x:user.
    for body in (
        _body(obj="users/bob/x.txt", user="alice"),
        _body(obj="users/alice/x.txt", user="bob"),
        _body(obj="users/alice2/x.txt", user="alice"),
        _body(user="mallory"),
    ):
        r = _send(appserver, body, key_url=local_key_url, signature=_cloud_sign(cloud, body))
        assert r.status_code == 400, body
    assert _rows(appserver) == 0
    assert appserver.get("/api/uploads", bob).json() == []


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "!!!", "x-oss-pub-key-url": "!!!"}, {"Authorization": "AAAA"}]
)
def test_callback_missing_or_malformed_headers_returns_4xx(
    appserver: RunningAppServer, headers: dict[str, str]
) -> None:
    r = appserver.http.post("/api/callback", content=_body(), headers=headers)
    assert r.status_code == 400
    assert _rows(appserver) == 0


@pytest.mark.parametrize(
    "url,allowed",
    [
        ("http://gosspublic.alicdn.com/callback_pub_key_v1.pem", True),
        ("https://gosspublic.alicdn.com/callback_pub_key_v1.pem", True),
        ("https://GOSSPUBLIC.alicdn.com:443/callback_pub_key_v1.pem", True),
        ("http://gosspublic.alicdn.com./callback_pub_key_v1.pem", True),
        ("http://gosspublic.alicdn.com.evil.example/callback_pub_key_v1.pem", False),
        ("http://gosspublic.alicdn.com@evil/callback_pub_key_v1.pem", False),
        ("http://user:pw@gosspublic.alicdn.com/callback_pub_key_v1.pem", False),
        ("http://evil/?u=http://gosspublic.alicdn.com/", False),
        ("http://gosspublic.alicdn.com/k.pem?x=1", False),
        ("http://gosspublic.alicdn.com/k.pem#frag", False),
        ("http://gosspublic.alicdn.com/../k.pem", False),
        ("http://gosspublic.alicdn.com:80@evil/k.pem", False),
        ("http://127.0.0.1:1/_localcloud/callback_pub_key_v1.pem", True),
        ("http://127.0.0.1:1/_localcloud/callback_pub_key_v1.pem.evil", False),
        ("http://127.0.0.1:2/_localcloud/callback_pub_key_v1.pem", False),
        ("http://localhost:1/_localcloud/callback_pub_key_v1.pem", False),
        ("http://gosspublic.alicdn.com/k\x00.pem", False),
    ],
)
def test_key_url_allowed_compares_parsed_parts(url: str, allowed: bool) -> None:
    prefixes = (
        "http://gosspublic.alicdn.com/",
        "https://gosspublic.alicdn.com/",
        "http://127.0.0.1:1/_localcloud/callback_pub_key_v1.pem",
    )
    assert key_url_allowed(url, prefixes) is allowed
