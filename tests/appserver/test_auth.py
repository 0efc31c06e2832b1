"""POST /api/login and the bearer session guard (helpers/appserver/routes/auth.py, services/users.py)."""

from __future__ import annotations

import pytest

from tests.appserver.conftest import RunningAppServer


def test_login_valid_password_returns_bearer_token(
    appserver: RunningAppServer, users: dict[str, str]
) -> None:
    r = appserver.http.post("/api/login", json={"username": "alice", "password": users["alice"]})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == appserver.settings.session_ttl_seconds


@pytest.mark.parametrize("username,password", [("alice", "wrong"), ("mallory", "x"), ("alice", "")])
def test_login_wrong_credentials_returns_401_or_422(
    appserver: RunningAppServer, username: str, password: str
) -> None:
    r = appserver.http.post("/api/login", json={"username": username, "password": password})
    assert r.status_code == (422 if not password else 401)
    assert "detail" in r.json()
    assert "access_token" not in r.text


def test_login_other_users_password_returns_401(appserver: RunningAppServer, users: dict[str, str]) -> None:
    r = appserver.http.post("/api/login", json={"username": "alice", "password": users["bob"]})
    assert r.status_code == 401


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer nonsense", "Basic YWxpY2U6eA==", "Bearer wb1.e30.AAAA"]
)
def test_sts_bad_bearer_returns_401(appserver: RunningAppServer, header: str) -> None:
    r = appserver.http.get(
        "/api/sts", params={"scope": "upload"}, headers={"Authorization": header} if header else {}
    )
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/json")


def test_session_token_forged_payload_returns_401(appserver: RunningAppServer, alice: str) -> None:
    import base64
    import json

    prefix, payload, mac = alice.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "bob"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    r = appserver.get("/api/uploads", f"{prefix}.{forged_payload}.{mac}")
    assert r.status_code == 401


def test_session_token_after_ttl_returns_401(appserver: RunningAppServer, alice: str) -> None:
    assert appserver.get("/api/uploads", alice).status_code == 200
    appserver.clock.advance(appserver.settings.session_ttl_seconds + 1)
    assert appserver.get("/api/uploads", alice).status_code == 401
