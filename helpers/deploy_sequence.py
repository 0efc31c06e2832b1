"""The README's Alibaba Cloud sequence as processes, the way a reader runs it, against any account:

    python -m helpers.stack up --profile cloud --json          (offline: the cloud-shaped local cloud)
    python -m helpers.provision up --env-file F
    set -a; . F; set +a
    python -m helpers.appserver serve --port P --public-url http://127.0.0.1:P
    WORKBOOK_APPSERVER_URL=http://127.0.0.1:P python -m helpers.run --target aliyun
    python -m helpers.provision down --env-file F

Shared by the end-to-end test (tests/notebooks/test_cloud_run.py) and the benchmark that times the
whole sequence (benchmarks/workbook.py, `cloud_run_seconds`). Each step is a subprocess of this
interpreter in the project root, so what runs is what a reader's shell runs.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from helpers import http_clients
from helpers.stack import PROJECT_ROOT

PY = sys.executable


def run_py(args: list[str], env: Mapping[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python <args>` in the project root with exactly `env`; never raises on a non-zero exit."""
    return subprocess.run([PY, *args], cwd=PROJECT_ROOT, env=dict(env), capture_output=True, text=True,
                          timeout=timeout, check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sourced(env_file: Path, base: Mapping[str, str]) -> dict[str, str]:
    """The environment after `set -a; . FILE; set +a` in a POSIX shell (the documented way to load it)."""
    script = 'set -a; . "$1"; set +a; exec "$2" -c "import json, os; print(json.dumps(dict(os.environ)))"'
    out = subprocess.run(["sh", "-c", script, "sh", str(env_file), PY], env=dict(base), capture_output=True,
                         text=True, timeout=30, check=True).stdout
    return dict(json.loads(out))


def root_key(info: Mapping[str, Any]) -> tuple[str, str]:
    """The account owner's (AccessKeyId, secret) from the cloud profile's `root_credentials_file`."""
    doc = json.loads(Path(info["root_credentials_file"]).read_text(encoding="utf-8"))
    return str(doc["access_key_id"]), str(doc["access_key_secret"])


def owner_env(base: Mapping[str, str], info: Mapping[str, Any]) -> dict[str, str]:
    """`base` plus what `provision` reads: the owner's key (ecosystem variables) and the endpoints."""
    key_id, secret = root_key(info)
    return {**base, "ALIBABA_CLOUD_ACCESS_KEY_ID": key_id, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret,
            "WORKBOOK_OSS_ENDPOINT": info["oss_endpoint"], "WORKBOOK_STS_ENDPOINT": info["sts_endpoint"],
            "WORKBOOK_RAM_ENDPOINT": info["ram_endpoint"], "WORKBOOK_REGION": info["region"]}


@contextlib.contextmanager
def cloud_stack(env: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """`stack up --profile cloud --json`'s answer; `stack down --profile cloud` afterwards.
    Raises RuntimeError when either step fails."""
    up = run_py(["-m", "helpers.stack", "up", "--profile", "cloud", "--json"], env, timeout=120)
    if up.returncode != 0:
        raise RuntimeError(f"stack up --profile cloud exited {up.returncode}:\n{up.stderr}")
    try:
        yield json.loads(up.stdout.strip().splitlines()[-1])
    finally:
        down = run_py(["-m", "helpers.stack", "down", "--profile", "cloud"], env, timeout=60)
    if down.returncode != 0 or "not running" in down.stdout:
        raise RuntimeError(f"stack down --profile cloud: the stack was gone or did not stop:\n{down.stdout}")


@contextlib.contextmanager
def appserver(env: Mapping[str, str], port: int, log: Path) -> Iterator[str]:
    """`python -m helpers.appserver serve` on `port` with exactly `env`; its URL once /api/health answers.
    Raises RuntimeError (with its log) when it exits or does not answer within 60 s."""
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        proc = subprocess.Popen([PY, "-m", "helpers.appserver", "serve", "--port", str(port), "--public-url",
                                 url], cwd=PROJECT_ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(Exception):
                if http_clients.get(url + "/api/health", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None:
                raise RuntimeError(f"the app server exited {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app server did not answer:\n{log.read_text()}")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
