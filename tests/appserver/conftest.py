"""App server fixtures: the real app server on a free loopback port in a thread, configured from the
session's local cloud, with a movable clock of its own (`appserver.clock`).

The app server reaches the local cloud only over HTTP through the SDKs; these tests may use the
local cloud's objects (its clock, its callback signer) to play the cloud's side.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import oss2
import pytest
import uvicorn

from helpers.appserver.main import create_app
from helpers.localcloud.server import LocalCloudServer
from helpers.settings import Settings

REGION = "cn-hangzhou"
BUCKET = "workbook"


class MovableClock:
    """The app server's own clock: real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class RunningAppServer:
    url: str
    settings: Settings
    clock: MovableClock
    server: uvicorn.Server
    thread: threading.Thread
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, trust_env=False, timeout=30)

    def login(self, username: str, password: str) -> str:
        r = self.http.post("/api/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def get(self, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
        return self.http.get(path, headers=_auth(token), **kw)

    def post(self, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {**_auth(token), **kw.pop("headers", {})}
        return self.http.post(path, headers=headers, **kw)


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def start_appserver(settings_for: Callable[[str], Settings]) -> RunningAppServer:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = settings_for(url)
    clock = MovableClock()
    app = create_app(settings, now=clock.now)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="appserver", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app server did not start")
        time.sleep(0.01)
    return RunningAppServer(url, settings, clock, server, thread)


def stop_appserver(running: RunningAppServer) -> None:
    running.http.close()
    running.server.should_exit = True
    running.thread.join(timeout=5)
    if running.thread.is_alive():
        running.server.force_exit = True
        running.thread.join(timeout=5)


@pytest.fixture
def appserver(
    cloud: LocalCloudServer,
    creds: dict[str, Any],
    workbook_bucket: oss2.Bucket,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[RunningAppServer]:
    """A fresh app server (own database, own STS cache, own clock) per test."""
    for name in list(os.environ):
        if name.startswith("WORKBOOK_"):
            monkeypatch.delenv(name)

    def settings_for(url: str) -> Settings:
        return Settings.from_credentials_file(
            cloud.ctx.config.credentials_path,
            oss_endpoint=cloud.oss_endpoint,
            sts_endpoint=cloud.sts_endpoint,
            bucket=BUCKET,
            region=REGION,
            db_path=tmp_path / "appserver.sqlite3",
            appserver_public_url=url,
        )

    running = start_appserver(settings_for)
    try:
        yield running
    finally:
        stop_appserver(running)


@pytest.fixture
def users(creds: dict[str, Any]) -> dict[str, str]:
    """username -> password of the demo app users."""
    return {u["username"]: u["password"] for u in creds["app_users"]}


@pytest.fixture
def alice(appserver: RunningAppServer, users: dict[str, str]) -> str:
    """A bearer token of alice."""
    return appserver.login("alice", users["alice"])


@pytest.fixture
def bob(appserver: RunningAppServer, users: dict[str, str]) -> str:
    return appserver.login("bob", users["bob"])


def sts_bucket(cloud: LocalCloudServer, doc: dict[str, Any]) -> oss2.Bucket:
    """An oss2 Bucket signed with the credentials an /api/sts reply carries (V4, as a mobile app would)."""
    auth = oss2.StsAuth(
        doc["AccessKeyId"], doc["AccessKeySecret"], doc["SecurityToken"], auth_version=oss2.AUTH_VERSION_4
    )
    return oss2.Bucket(auth, doc["Endpoint"], doc["Bucket"], region=doc["Region"])
