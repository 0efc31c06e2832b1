"""The CLI contracts of design.md: `python -m helpers.localcloud serve` and `python -m helpers.stack`."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CONTRACT_KEYS = {
    "oss_endpoint",
    "sts_endpoint",
    "appserver_url",
    "bucket",
    "region",
    "role_arn",
    "credentials_file",
}


def _secrets(doc: dict[str, Any]) -> list[str]:
    return [
        doc["admin"]["access_key_secret"],
        doc["appserver"]["access_key_secret"],
        *(u["password"] for u in doc["app_users"]),
    ]


def _stack(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "helpers.stack", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def stack_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {**os.environ, "WORKBOOK_STATE_DIR": str(tmp_path / "state")}
    yield env
    _stack(["down"], env)


def test_stack_up_json_prints_contract_without_secrets(stack_env: dict[str, str]) -> None:
    r = _stack(["up", "--json"], stack_env)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert set(info) == CONTRACT_KEYS
    creds_path = Path(info["credentials_file"])
    assert stat.S_IMODE(creds_path.stat().st_mode) == 0o600
    doc = json.loads(creds_path.read_text())
    assert {"account_id", "admin", "appserver", "role_arn", "app_users"} <= set(doc)
    assert len(doc["app_users"]) >= 2
    for secret in _secrets(doc):
        assert secret not in r.stdout and secret not in r.stderr
    assert httpx.get(info["oss_endpoint"] + "/_localcloud/health", trust_env=False).status_code == 200


def test_stack_up_twice_reuses_running_stack(stack_env: dict[str, str]) -> None:
    first = json.loads(_stack(["up", "--json"], stack_env).stdout)
    second = json.loads(_stack(["up", "--json"], stack_env).stdout)
    assert first == second


def test_stack_status_and_down_stop_the_processes(stack_env: dict[str, str]) -> None:
    _stack(["up", "--json"], stack_env)
    status = _stack(["status"], stack_env)
    assert status.returncode == 0
    report = json.loads(status.stdout)
    assert report["running"] and report["localcloud"]["healthy"] and report["appserver"]["healthy"]
    pids = [report["localcloud"]["pid"], report["appserver"]["pid"]]
    assert _stack(["down"], stack_env).returncode == 0
    for pid in pids:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
        )
    assert _stack(["status"], stack_env).returncode == 3


def test_stack_up_serves_app_server_and_bucket_cors_for_its_origin(stack_env: dict[str, str]) -> None:
    info = json.loads(_stack(["up", "--json"], stack_env).stdout)
    assert httpx.get(info["appserver_url"] + "/openapi.json", trust_env=False).status_code == 200
    preflight = httpx.options(
        info["oss_endpoint"] + "/" + info["bucket"] + "/users/alice/x.txt",
        trust_env=False,
        headers={"Origin": info["appserver_url"], "Access-Control-Request-Method": "PUT"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == info["appserver_url"]
    other = httpx.options(
        info["oss_endpoint"] + "/" + info["bucket"] + "/users/alice/x.txt",
        trust_env=False,
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"},
    )
    assert other.status_code == 403


def test_localcloud_serve_prints_endpoints_and_path_never_secrets(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    cmd = [
        sys.executable,
        "-m",
        "helpers.localcloud",
        "serve",
        "--data",
        str(tmp_path / "d"),
        "--ready-file",
        str(ready),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        assert httpx.get(info["oss_endpoint"] + "/_localcloud/health", trust_env=False).status_code == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert info["oss_endpoint"] in out and info["sts_endpoint"] in out and info["credentials_file"] in out
    assert info["ram_endpoint"] in out and info["profile"] == "local"
    doc = json.loads(Path(info["credentials_file"]).read_text())
    for secret in _secrets(doc):
        assert secret not in out and secret not in err
    assert stat.S_IMODE(Path(info["credentials_file"]).stat().st_mode) == 0o600


def test_localcloud_serve_busy_port_fails_cleanly(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "helpers.localcloud",
                "serve",
                "--data",
                str(tmp_path),
                "--oss-port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert r.returncode == 2
    assert "cannot start" in r.stderr and "Traceback" not in r.stderr
