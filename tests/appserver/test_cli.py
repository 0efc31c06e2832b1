"""`python -m helpers.appserver serve` as its own process against the session's local cloud."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import oss2

from helpers.localcloud.server import LocalCloudServer

ROOT = Path(__file__).resolve().parents[2]


def test_cli_serve_writes_ready_file_and_serves_login(
    cloud: LocalCloudServer, creds: dict[str, Any], workbook_bucket: oss2.Bucket, tmp_path: Path
) -> None:
    ready = tmp_path / "appserver.ready"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "helpers.appserver",
            "serve",
            "--port",
            "0",
            "--ready-file",
            str(ready),
            "--credentials",
            str(cloud.ctx.config.credentials_path),
            "--oss-endpoint",
            cloud.oss_endpoint,
            "--sts-endpoint",
            cloud.sts_endpoint,
            "--db",
            str(tmp_path / "app.sqlite3"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the app server did not start"
            time.sleep(0.05)
        url = json.loads(ready.read_text())["appserver_url"]
        alice = next(u for u in creds["app_users"] if u["username"] == "alice")
        r = httpx.post(f"{url}/api/login", json=alice, trust_env=False)
        assert r.status_code == 200
        token = r.json()["access_token"]
        sts = httpx.get(
            f"{url}/api/sts?scope=upload", headers={"Authorization": f"Bearer {token}"}, trust_env=False
        )
        assert sts.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    text = out.decode()
    assert url in text
    for secret in (
        creds["appserver"]["access_key_secret"],
        creds["admin"]["access_key_secret"],
        alice["password"],
        token,
        sts.json()["AccessKeySecret"],
    ):
        assert secret not in text
