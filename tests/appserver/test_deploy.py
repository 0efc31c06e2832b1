"""The app server deployed: `serve --workers N` behind one port, configured only from WORKBOOK_* variables
(helpers/appserver/__main__.py, helpers/serving.run_workers), and settings errors that name the variable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import oss2
import pytest

from helpers.localcloud.server import LocalCloudServer

ROOT = Path(__file__).resolve().parents[2]
SESSION_SECRET = "shared-session-secret-of-every-worker-0123456789"
NOT_SHOWN = "S3cr3tValueThatMustNotLeak0123456789abcd"


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_")}
    env.update(values)
    return env


def _serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "helpers.appserver", "serve", "--port", "0", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)


def test_bad_settings_print_one_line_per_variable_with_reason_and_no_value() -> None:
    r = _serve(_env(WORKBOOK_TARGET="aliyun", WORKBOOK_OSS_ENDPOINT="ftp://oss.example.com",
                    WORKBOOK_STS_DURATION_SECONDS="100", WORKBOOK_ACCESS_KEY_SECRET=NOT_SHOWN,
                    WORKBOOK_SESSION_SECRET="short"))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert lines[0] == "error: invalid settings:", r.stderr
    problems = dict(line.strip().split(": ", 1) for line in lines[1:])
    # every problem at once: the bad values and what the aliyun target lacks
    assert set(problems) == {"WORKBOOK_OSS_ENDPOINT", "WORKBOOK_STS_DURATION_SECONDS",
                             "WORKBOOK_SESSION_SECRET", "WORKBOOK_BUCKET", "WORKBOOK_ROLE_ARN",
                             "WORKBOOK_ACCESS_KEY_ID", "WORKBOOK_APP_USERS"}
    assert problems["WORKBOOK_BUCKET"] == "required on the aliyun target"
    assert "http://" in problems["WORKBOOK_OSS_ENDPOINT"]
    assert "900" in problems["WORKBOOK_STS_DURATION_SECONDS"]
    assert "32 characters" in problems["WORKBOOK_SESSION_SECRET"]
    assert NOT_SHOWN not in r.stdout + r.stderr and "short" not in r.stderr.replace("shorter", "")


def test_aliyun_target_names_every_missing_variable() -> None:
    # The README's STS endpoint is a bare host: accepted (https:// added), so not among the problems.
    r = _serve(_env(WORKBOOK_TARGET="aliyun", WORKBOOK_STS_ENDPOINT="sts.cn-hangzhou.aliyuncs.com",
                    WORKBOOK_ACCESS_KEY_SECRET=NOT_SHOWN, WORKBOOK_APP_USERS='{"alice": "pw"'))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[1:] == ["  WORKBOOK_APP_USERS: not valid JSON"]
    r = _serve(_env(WORKBOOK_TARGET="aliyun", WORKBOOK_STS_ENDPOINT="sts.cn-hangzhou.aliyuncs.com",
                    WORKBOOK_ACCESS_KEY_SECRET=NOT_SHOWN, WORKBOOK_APP_USERS='{"alice": "pw"}'))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[1:] == [
        f"  WORKBOOK_{name}: required on the aliyun target"
        for name in ("BUCKET", "ROLE_ARN", "ACCESS_KEY_ID", "SESSION_SECRET")
    ]
    assert NOT_SHOWN not in r.stdout + r.stderr


def test_several_workers_need_the_shared_session_secret(
    cloud: LocalCloudServer, tmp_path: Path
) -> None:
    r = _serve(_env(), "--workers", "2", *_local_args(cloud, tmp_path))
    assert r.returncode == 2
    assert "WORKBOOK_SESSION_SECRET: required with --workers 2" in r.stderr


def _local_args(cloud: LocalCloudServer, tmp_path: Path) -> list[str]:
    return ["--credentials", str(cloud.ctx.config.credentials_path), "--oss-endpoint", cloud.oss_endpoint,
            "--sts-endpoint", cloud.sts_endpoint, "--db", str(tmp_path / "app.sqlite3")]


@pytest.fixture
def two_workers(cloud: LocalCloudServer, workbook_bucket: oss2.Bucket,
                tmp_path: Path) -> Iterator[tuple[str, list[int], subprocess.Popen[str]]]:
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers.appserver", "serve", "--port", "0", "--workers", "2",
         "--ready-file", str(ready), *_local_args(cloud, tmp_path)],
        cwd=ROOT, env=_env(WORKBOOK_SESSION_SECRET=SESSION_SECRET), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the app server did not start"
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        yield info["appserver_url"], info["worker_pids"], proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)


def _worker(client: httpx.Client) -> int:
    return int(client.get("/api/health").headers["x-worker-pid"])


def test_two_workers_accept_each_others_sessions(
    two_workers: tuple[str, list[int], subprocess.Popen[str]], creds: dict[str, Any]
) -> None:
    url, worker_pids, proc = two_workers
    assert len(set(worker_pids)) == 2
    alice = next(u for u in creds["app_users"] if u["username"] == "alice")
    seen: set[int] = set()
    crossed = 0
    # A keep-alive connection stays with the worker that accepted it: log in on one connection, then
    # use the token on new connections until some land on the other worker.
    with httpx.Client(base_url=url, trust_env=False) as login:
        token = login.post("/api/login", json=alice).json()["access_token"]
        home = _worker(login)
    seen.add(home)
    for _ in range(200):
        with httpx.Client(base_url=url, trust_env=False,
                          headers={"Authorization": f"Bearer {token}"}) as other:
            pid = _worker(other)
            seen.add(pid)
            r = other.get("/api/uploads")
            assert r.status_code == 200, (pid, home, r.text)
            crossed += pid != home
        if crossed >= 5:
            break
    assert seen == set(worker_pids) and crossed >= 5, (seen, worker_pids, crossed)


def test_two_workers_stop_together_on_sigterm(
    two_workers: tuple[str, list[int], subprocess.Popen[str]],
) -> None:
    url, worker_pids, proc = two_workers
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    for pid in worker_pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/health", trust_env=False)


def _start(cloud: LocalCloudServer, tmp_path: Path, name: str, env: dict[str, str]) -> tuple[str, Any]:
    ready = tmp_path / f"{name}.ready"
    ready.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers.appserver", "serve", "--port", "0", "--ready-file", str(ready),
         *_local_args(cloud, tmp_path)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the app server did not start"
        time.sleep(0.05)
    return json.loads(ready.read_text())["appserver_url"], proc


def test_two_hosts_accept_each_others_sessions_only_with_one_secret(
    cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, creds: dict[str, Any], tmp_path: Path
) -> None:
    """Two app server processes (as on two hosts): a session from one is good on the other only when
    both have the same WORKBOOK_SESSION_SECRET; per-process random secrets refuse it."""
    alice = next(u for u in creds["app_users"] if u["username"] == "alice")
    shared = _env(WORKBOOK_SESSION_SECRET=SESSION_SECRET)
    for env_b, expected in ((shared, 200), (_env(), 401)):
        servers = [_start(cloud, tmp_path, "a", shared), _start(cloud, tmp_path, "b", env_b)]
        try:
            (url_a, _), (url_b, _) = servers
            token = httpx.post(f"{url_a}/api/login", json=alice, trust_env=False).json()["access_token"]
            r = httpx.get(f"{url_b}/api/uploads", headers={"Authorization": f"Bearer {token}"},
                          trust_env=False)
            assert r.status_code == expected, r.text
        finally:
            for _, proc in servers:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=15)


def test_a_dead_worker_stops_the_group_with_status_1(
    two_workers: tuple[str, list[int], subprocess.Popen[str]],
) -> None:
    """A service manager then restarts the whole group (README, *Deploying the app server*)."""
    _, worker_pids, proc = two_workers
    os.kill(worker_pids[0], signal.SIGKILL)
    assert proc.wait(timeout=15) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pids[1], 0)
