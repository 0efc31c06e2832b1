"""POST /api/signed-url: PUT/GET URLs for the caller's folder, used with plain httpx
(helpers/appserver/routes/sign.py, services/signing.py)."""

from __future__ import annotations

import calendar
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import oss2
import pytest

from tests.appserver.conftest import RunningAppServer


def _sign(appserver: RunningAppServer, token: str, **body: Any) -> httpx.Response:
    return appserver.post("/api/signed-url", token, json=body)


def _epoch(iso: str) -> int:
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


@pytest.mark.parametrize("version", ["v4", "v1"])
def test_signed_url_put_then_get_with_httpx(appserver: RunningAppServer, alice: str, version: str) -> None:
    put = _sign(
        appserver,
        alice,
        method="PUT",
        key="docs/hello.txt",
        content_type="text/plain",
        signature_version=version,
    ).json()
    assert put["key"] == "users/alice/docs/hello.txt"
    assert put["headers"] == {"Content-Type": "text/plain"}
    query = parse_qs(urlsplit(put["url"]).query)
    assert ("x-oss-signature" in query) == (version == "v4")
    assert ("Signature" in query) == (version == "v1")
    r = httpx.put(put["url"], content=b"hello", headers=put["headers"])
    assert r.status_code == 200, r.text
    get = _sign(
        appserver, alice, method="GET", key="users/alice/docs/hello.txt", signature_version=version
    ).json()
    r = httpx.get(get["url"])
    assert r.status_code == 200
    assert r.content == b"hello"
    assert r.headers["content-type"] == "text/plain"


def test_signed_url_put_other_content_type_is_signature_mismatch(
    appserver: RunningAppServer, alice: str
) -> None:
    put = _sign(appserver, alice, method="PUT", key="ct.txt", content_type="text/plain").json()
    r = httpx.put(put["url"], content=b"x", headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in r.text


def test_signed_url_get_download_name_sets_content_disposition(
    appserver: RunningAppServer, alice: str, workbook_bucket: oss2.Bucket
) -> None:
    workbook_bucket.put_object("users/alice/report-7.pdf", b"%PDF")
    url = _sign(appserver, alice, method="GET", key="report-7.pdf", download_name="Résumé 2026.pdf").json()[
        "url"
    ]
    r = httpx.get(url)
    assert r.status_code == 200
    cd = r.headers["content-disposition"]
    assert cd.startswith('attachment; filename="R_sum_ 2026.pdf"')
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%202026.pdf" in cd


@pytest.mark.parametrize(
    "key",
    [
        "../x",
        "a/../../x",
        "/abs",
        "\\abs",
        "a\x00b",
        "a\nb",
        "x" * 2000,
        "users/bob/x",
        "a//b",
        "dir/",
        ".",
        "",
    ],
)
def test_signed_url_bad_key_returns_4xx(appserver: RunningAppServer, alice: str, key: str) -> None:
    r = _sign(appserver, alice, method="PUT", key=key)
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "url" not in r.json()


def test_signed_url_tampered_key_is_refused_by_oss(
    appserver: RunningAppServer, alice: str, workbook_bucket: oss2.Bucket
) -> None:
    workbook_bucket.put_object("users/bob/private.txt", b"bob's")
    url = _sign(appserver, alice, method="GET", key="private.txt").json()["url"]
    r = httpx.get(url.replace("/users/alice/", "/users/bob/"))
    assert r.status_code == 403


def test_signed_url_never_outlives_credentials(appserver: RunningAppServer, alice: str) -> None:
    signed = _sign(appserver, alice, method="GET", key="long.txt", expires=7 * 24 * 3600).json()
    sts = appserver.get("/api/sts", alice, params={"scope": "download"}).json()
    query = parse_qs(urlsplit(signed["url"]).query)
    assert int(query["x-oss-expires"][0]) <= appserver.settings.sts_duration_seconds
    assert _epoch(signed["expires_at"]) <= _epoch(sts["Expiration"])


def test_signed_url_v1_expires_within_credentials(appserver: RunningAppServer, alice: str) -> None:
    signed = _sign(appserver, alice, method="PUT", key="v1.txt", expires=86400, signature_version="v1").json()
    sts = appserver.get("/api/sts", alice, params={"scope": "upload"}).json()
    expires = int(parse_qs(urlsplit(signed["url"]).query)["Expires"][0])
    assert expires <= _epoch(sts["Expiration"]) + 1


def test_signed_url_refused_once_credentials_expire(
    appserver: RunningAppServer, alice: str, clock: Any
) -> None:
    put = _sign(appserver, alice, method="PUT", key="late.txt", content_type="text/plain", expires=900).json()
    clock.advance(1000)  # the cloud's clock: the signing STS token is now expired
    r = httpx.put(put["url"], content=b"late", headers=put["headers"])
    assert r.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"method": "DELETE", "key": "a"},
        {"method": "PUT"},
        {"method": "PUT", "key": "a", "content_type": "not a type"},
        {"method": "GET", "key": "a", "content_type": "text/plain"},
        {"method": "PUT", "key": "a", "download_name": "x.txt"},
        {"method": "GET", "key": "a", "download_name": "a/b"},
        {"method": "GET", "key": "a", "download_name": "bad\r\nname"},
        {"method": "GET", "key": "a", "expires": 0},
        {"method": "GET", "key": "a", "expires": "soon"},
        {"method": "GET", "key": "a", "surprise": 1},
        {"method": "GET", "key": 5},
    ],
)
def test_signed_url_invalid_request_returns_4xx_json(
    appserver: RunningAppServer, alice: str, body: dict[str, Any]
) -> None:
    r = appserver.post("/api/signed-url", alice, json=body)
    assert r.status_code in (400, 422), r.text
    assert isinstance(r.json()["detail"], str | list)


def test_signed_url_requires_login(appserver: RunningAppServer) -> None:
    assert appserver.post("/api/signed-url", json={"method": "GET", "key": "a"}).status_code == 401
