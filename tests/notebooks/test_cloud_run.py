"""Every notebook runs on `target = "aliyun"`: the README's deployment sequence, end to end, against a
cloud-shaped local stack (OSS, STS and RAM answering like Alibaba Cloud, nothing pre-created for the
workbook), each step as a process the way a reader runs it:

    python -m helpers.stack up --profile cloud --json          the "cloud" (root key in a file)
    python -m helpers.provision up --env-file F                 twice: the second run changes nothing
    set -a; . F; set +a
    python -m helpers.appserver serve --port P --public-url http://127.0.0.1:P
    WORKBOOK_APPSERVER_URL=http://127.0.0.1:P python -m helpers.run --target aliyun
                                                    then again with --solutions (every checker)
    python -m helpers.provision down --env-file F              and nothing of it is left

What differs from the real service is set through variables only, as a reader on loopback would:
the endpoints, and the callback public key's URL (the local cloud signs callbacks with its own key).
No code asks which target it is on.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import oss2
import pytest

from helpers import stack
from helpers.callback_keys import LOCAL_KEY_PATH
from helpers.run import BUILD_DIR, KERNEL_ENV, compile_helpers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

ROOT = stack.PROJECT_ROOT
PY = sys.executable
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _run(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sourced(env_file: Path, base: dict[str, str]) -> dict[str, str]:
    """The environment after `set -a; . FILE; set +a` in a POSIX shell (the documented way to load it)."""
    script = 'set -a; . "$1"; set +a; exec "$2" -c "import json, os; print(json.dumps(dict(os.environ)))"'
    out = subprocess.run(["sh", "-c", script, "sh", str(env_file), PY], env=base, capture_output=True,
                         text=True, timeout=30, check=True).stdout
    return dict(json.loads(out))


def _root_key(info: dict[str, Any]) -> tuple[str, str]:
    """The account owner's key from the stack's root credentials file. [unverified] its layout (branch
    ram): the first object holding access_key_id / access_key_secret, at the top or one level down."""
    doc = json.loads(Path(info["root_credentials_file"]).read_text(encoding="utf-8"))
    for node in [doc, *[v for v in doc.values() if isinstance(v, dict)]]:
        if node.get("access_key_id") and node.get("access_key_secret"):
            return str(node["access_key_id"]), str(node["access_key_secret"])
    raise AssertionError(f"no access key in {info['root_credentials_file']} (sections: {sorted(doc)})")


def _inventory(info: dict[str, Any], key: tuple[str, str]) -> dict[str, list[str]]:
    """What the account holds: buckets, RAM users, roles and custom policies (through the official SDKs)."""
    from alibabacloud_ram20150501 import models as ram_models
    from alibabacloud_ram20150501.client import Client as RamClient
    from alibabacloud_tea_openapi import models as api_models

    service = oss2.Service(oss2.Auth(*key), info["oss_endpoint"])
    buckets = sorted(b.name for b in service.list_buckets().buckets)
    ram_endpoint = info["ram_endpoint"]
    scheme, _, host = ram_endpoint.partition("://")
    ram = RamClient(api_models.Config(access_key_id=key[0], access_key_secret=key[1], endpoint=host,
                                      protocol=scheme, region_id=info["region"]))
    users = ram.list_users(ram_models.ListUsersRequest(max_items=1000)).body.users.user or []
    roles = ram.list_roles(ram_models.ListRolesRequest(max_items=1000)).body.roles.role or []
    policies = ram.list_policies(ram_models.ListPoliciesRequest(policy_type="Custom", max_items=1000)
                                 ).body.policies.policy or []
    return {"buckets": buckets, "users": sorted(u.user_name for u in users),
            "roles": sorted(r.role_name for r in roles), "policies": sorted(p.policy_name for p in policies)}


@contextlib.contextmanager
def _cloud(env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The cloud-shaped local stack's endpoints, region and `root_credentials_file`; stopped afterwards."""
    up = _run(["-m", "helpers.stack", "up", "--profile", "cloud", "--json"], env, timeout=120)
    try:
        yield json.loads(_ok(up).strip().splitlines()[-1])
    finally:
        down = _run(["-m", "helpers.stack", "down", "--profile", "cloud"], env, timeout=60)
    assert "not running" not in _ok(down), "the cloud-shaped stack was gone before `stack down`"


@contextlib.contextmanager
def _appserver(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        proc = subprocess.Popen([PY, "-m", "helpers.appserver", "serve", "--port", str(port), "--public-url",
                                 url], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/api/health", timeout=2, trust_env=False).status_code == 200:
                    break
            assert proc.poll() is None, f"the app server exited {proc.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"the app server did not answer:\n{log.read_text()}"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _junit_flag() -> bool:
    """Whether `helpers.run` has `--junit` (branch harden adds it)."""
    return "--junit" in _run(["-m", "helpers.run", "--help"], dict(os.environ), timeout=60).stdout


def _check_junit(path: Path) -> None:
    cases = ET.parse(path).getroot().iter("testcase")
    results = {c.get("name", ""): [child.tag for child in c] for c in cases}
    assert results, f"{path} lists no notebook"
    failed = {name: tags for name, tags in results.items() if {"failure", "error"} & set(tags)}
    assert not failed, f"notebooks failed on aliyun: {failed}"


def _matrix_rows(path: Path) -> list[str]:
    """The ✓/✗ rows of a notebook's outputs, as shown."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain") or ""
            text = text if isinstance(text, str) else "".join(text)
            rows += [line.rstrip() for line in text.splitlines()
                     if "|" in line and ("✓" in line or "✗" in line)]
    assert rows, f"no matrix in {path}"
    return rows


def test_every_notebook_runs_on_aliyun(tmp_path: Path) -> None:
    compile_helpers()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBOOK_", "ALIBABA_CLOUD_"))}
    base.update(KERNEL_ENV, PYTHONPATH=str(ROOT), WORKBOOK_STATE_DIR=str(tmp_path / "state"))
    env_file = tmp_path / "aliyun.env"
    with _cloud(base) as info:
        key = _root_key(info)
        before = _inventory(info, key)
        cloud_env = {**base, "ALIBABA_CLOUD_ACCESS_KEY_ID": key[0], "ALIBABA_CLOUD_ACCESS_KEY_SECRET": key[1],
                     "WORKBOOK_OSS_ENDPOINT": info["oss_endpoint"],
                     "WORKBOOK_STS_ENDPOINT": info["sts_endpoint"],
                     "WORKBOOK_RAM_ENDPOINT": info["ram_endpoint"], "WORKBOOK_REGION": info["region"]}
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        provision = ["-m", "helpers.provision", "up", "--env-file", str(env_file), "--app-url", url,
                     "--public-url", url]
        try:
            _ok(_run(provision, cloud_env))
            again = _ok(_run(provision, cloud_env))
            changed = [line for line in again.splitlines() if not line.split() or "unchanged" not in line]
            assert not changed, f"the second `provision up` changed something:\n{again}"
            deployed = _sourced(env_file, base)
            assert deployed["WORKBOOK_TARGET"] == "aliyun"
            # Loopback only, and written by provisioning: the local cloud signs callbacks with its own
            # key, served on its OSS port, so the app server must be allowed to fetch it.
            assert info["oss_endpoint"] + LOCAL_KEY_PATH in json.loads(
                deployed["WORKBOOK_CALLBACK_KEY_URL_PREFIXES"])
            deployed["WORKBOOK_DB_PATH"] = str(tmp_path / "appserver.sqlite3")
            with _appserver(deployed, port, tmp_path / "appserver.log"):
                junit = tmp_path / "junit.xml"
                args = ["-m", "helpers.run", "--target", "aliyun"]
                if _junit_flag():
                    args += ["--junit", str(junit)]
                run_env = {**deployed, "WORKBOOK_APPSERVER_URL": url}
                done = _run(args, run_env, timeout=1200)
                table = done.stdout + done.stderr
                assert done.returncode == 0, f"the notebooks on aliyun:\n{table}"
                if junit.exists():
                    _check_junit(junit)
                # The lesson's central table says the same on both targets: 07's policy × operation matrix.
                executed = BUILD_DIR / "07_permission_control.ipynb"
                assert _matrix_rows(executed) == _matrix_rows(ROOT / "notebooks" / executed.name)
                # And every exercise's checker passes its reference solution there too.
                solved = _run([*args[:4], "--solutions"], run_env, timeout=1200)
                table += solved.stdout + solved.stderr
                assert solved.returncode == 0, f"the notebooks on aliyun with --solutions:\n{table}"
            assert table.count(f"{len(NOTEBOOKS)} of {len(NOTEBOOKS)} notebooks passed") == 2, table
            for secret in (key[1], deployed["WORKBOOK_ACCESS_KEY_SECRET"]):
                assert secret not in table
        finally:
            down = _run(["-m", "helpers.provision", "down", "--env-file", str(env_file)], cloud_env)
        _ok(down)
        assert not env_file.exists()
        assert _inventory(info, key) == before, "provision down left something behind"

