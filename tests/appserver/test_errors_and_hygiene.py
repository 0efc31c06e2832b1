"""Malformed input gets 4xx JSON, never a 500; no secret in any response or log line
(helpers/appserver/main.py, helpers/logging.py)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests

from helpers.localcloud.server import LocalCloudServer
from helpers.logging import SecretMaskingFilter
from tests.appserver.conftest import RunningAppServer


@pytest.mark.parametrize("path", ["/api/login", "/api/signed-url", "/api/post-policy"])
@pytest.mark.parametrize(
    "content,ctype",
    [
        (b"{", "application/json"),
        (b"[]", "application/json"),
        (b"null", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"username=a&password=b", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
        (b'{"username": {"$gt": ""}, "password": 1}', "application/json"),
    ],
)
def test_malformed_body_returns_4xx_json(
    appserver: RunningAppServer, alice: str, path: str, content: bytes, ctype: str
) -> None:
    r = appserver.post(path, alice, content=content, headers={"Content-Type": ctype})
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "detail" in r.json()


def test_validation_error_does_not_echo_password(appserver: RunningAppServer) -> None:
    r = appserver.http.post("/api/login", json={"username": "alice", "password": "p" * 300 + "SECRETPW"})
    assert r.status_code == 422
    assert "SECRETPW" not in r.text


def test_unknown_route_and_method_return_json(appserver: RunningAppServer) -> None:
    r = appserver.http.get("/api/nope")
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
    r = appserver.http.get("/api/login")
    assert r.status_code == 405
    assert r.json() == {"detail": "Method Not Allowed"}


def test_index_and_openapi_are_served(appserver: RunningAppServer) -> None:
    r = appserver.http.get("/")
    assert r.status_code == 200 and "<html" in r.text
    spec = appserver.http.get("/openapi.json").json()
    assert {
        "/api/login",
        "/api/sts",
        "/api/signed-url",
        "/api/post-policy",
        "/api/callback",
        "/api/uploads",
    } <= set(spec["paths"])
    assert appserver.http.get("/docs").status_code == 200


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything logged (DEBUG and up, SDKs included) through a masking handler, as text."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    handler.addFilter(SecretMaskingFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_secrets_never_in_responses_or_logs(
    appserver: RunningAppServer,
    users: dict[str, str],
    creds: dict[str, Any],
    cloud: LocalCloudServer,
    captured_logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    responses: list[httpx.Response | requests.Response] = []
    token = appserver.login("alice", users["alice"])
    responses.append(appserver.http.post("/api/login", json={"username": "alice", "password": "nope"}))
    responses.append(appserver.http.post("/api/login", json={"username": "alice", "password": 5}))
    responses.append(appserver.get("/api/sts", token, params={"scope": "upload"}))
    responses.append(appserver.get("/api/sts", token, params={"scope": "download"}))
    sts_secret = responses[-1].json()["AccessKeySecret"]
    put = appserver.post(
        "/api/signed-url", token, json={"method": "PUT", "key": "h.txt", "content_type": "text/plain"}
    )
    responses += [put, httpx.put(put.json()["url"], content=b"abc", headers=put.json()["headers"])]
    responses.append(
        appserver.post(
            "/api/signed-url", token, json={"method": "GET", "key": "h.txt", "signature_version": "v1"}
        )
    )
    form = appserver.post("/api/post-policy", token, json={"key": "f.txt", "callback": True})
    responses.append(form)
    responses.append(
        requests.post(
            form.json()["url"],
            data=form.json()["fields"],
            files={"file": ("f.txt", b"abc", "text/plain")},
            timeout=20,
        )
    )
    responses.append(appserver.get("/api/uploads", token))
    responses.append(appserver.http.post("/api/callback", content=b"{}", headers={"Authorization": "AAAA"}))
    responses.append(appserver.post("/api/signed-url", token, json={"method": "PUT", "key": "../x"}))
    secrets = {
        "appserver secret": creds["appserver"]["access_key_secret"],
        "admin secret": creds["admin"]["access_key_secret"],
        "session secret": appserver.settings.session_secret.get_secret_value(),
        **{f"password of {u['username']}": u["password"] for u in creds["app_users"]},
    }
    for r in responses:
        text = r.text + " ".join(f"{k}: {v}" for k, v in r.headers.items())
        for what, value in secrets.items():
            assert value not in text, f"{what} leaked in a response to {r.request.url}"
    logged = captured_logs.getvalue() + "\n".join(r.getMessage() for r in caplog.records)
    assert "issued STS credentials" in logged  # the capture did see the app server's logs
    for what, value in secrets.items():
        assert value not in logged, f"{what} leaked in a log line"
    assert sts_secret not in captured_logs.getvalue(), "a temporary secret reached a masked log"
