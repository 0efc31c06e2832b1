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


# ------------------------------------------------------------------ JWT sessions (PyJWT, HS256 only)

def _b64url(doc: object) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()


def _claims(appserver: RunningAppServer, **changes: object) -> dict[str, object]:
    now = int(appserver.clock.now())
    return {"sub": "alice", "iat": now, "exp": now + 600, **changes}


def _secret(appserver: RunningAppServer) -> str:
    return appserver.settings.session_secret.get_secret_value()


def test_session_token_is_hs256_jwt_with_sub_iat_exp(appserver: RunningAppServer, alice: str) -> None:
    import jwt

    assert jwt.get_unverified_header(alice)["alg"] == "HS256"
    claims = jwt.decode(alice, _secret(appserver), algorithms=["HS256"], options={"verify_exp": False})
    assert set(claims) == {"sub", "iat", "exp"} and claims["sub"] == "alice"
    assert claims["exp"] - claims["iat"] == appserver.settings.session_ttl_seconds


def test_session_token_signed_by_us_is_accepted(appserver: RunningAppServer) -> None:
    import jwt

    token = jwt.encode(_claims(appserver), _secret(appserver), algorithm="HS256")
    assert appserver.get("/api/uploads", token).status_code == 200


def test_session_token_expired_returns_401(appserver: RunningAppServer) -> None:
    import jwt

    now = int(appserver.clock.now())
    token = jwt.encode(_claims(appserver, iat=now - 700, exp=now - 1), _secret(appserver), algorithm="HS256")
    r = appserver.get("/api/uploads", token)
    assert r.status_code == 401 and r.json()["detail"] == "session expired"


@pytest.mark.parametrize("missing", ["sub", "exp", "iat"])
def test_session_token_missing_claim_returns_401(appserver: RunningAppServer, missing: str) -> None:
    import jwt

    claims = _claims(appserver)
    del claims[missing]
    token = jwt.encode(claims, _secret(appserver), algorithm="HS256")
    assert appserver.get("/api/uploads", token).status_code == 401


def test_session_token_other_secret_returns_401(appserver: RunningAppServer) -> None:
    import jwt

    token = jwt.encode(_claims(appserver), "another secret of at least thirty-two bytes!", algorithm="HS256")
    assert appserver.get("/api/uploads", token).status_code == 401


def test_session_token_tampered_signature_returns_401(appserver: RunningAppServer, alice: str) -> None:
    head, payload, sig = alice.split(".")
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    assert appserver.get("/api/uploads", f"{head}.{payload}.{flipped}").status_code == 401


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_session_token_other_hmac_algorithm_returns_401(appserver: RunningAppServer, alg: str) -> None:
    import warnings

    import jwt

    with warnings.catch_warnings():   # PyJWT warns that the key is short for HS384/HS512: that is the point
        warnings.simplefilter("ignore")
        token = jwt.encode(_claims(appserver), _secret(appserver), algorithm=alg)
    assert appserver.get("/api/uploads", token).status_code == 401


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_session_token_alg_none_returns_401(appserver: RunningAppServer, alg: str) -> None:
    unsigned = f"{_b64url({'alg': alg, 'typ': 'JWT'})}.{_b64url(_claims(appserver))}."
    assert appserver.get("/api/uploads", unsigned).status_code == 401


def test_session_token_unknown_user_returns_401(appserver: RunningAppServer) -> None:
    import jwt

    token = jwt.encode(_claims(appserver, sub="mallory"), _secret(appserver), algorithm="HS256")
    assert appserver.get("/api/uploads", token).status_code == 401
