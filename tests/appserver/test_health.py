"""GET /api/health (helpers/appserver/routes/health.py): no auth, trivial, and not in the trace."""

from __future__ import annotations

from tests.appserver.conftest import RunningAppServer


def test_health_without_token_returns_ok(appserver: RunningAppServer) -> None:
    r = appserver.get("/api/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["content-type"] == "application/json"


def test_health_polls_are_not_traced(appserver: RunningAppServer, alice: str) -> None:
    for _ in range(3):
        appserver.get("/api/health", alice)
    r = appserver.get("/api/trace", alice)
    assert r.status_code == 200, r.text
    assert not [e for e in r.json()["exchanges"] if "/api/health" in e["path"]]
    assert any(e["path"] == "/api/login" for e in r.json()["exchanges"])
