"""`python -m helpers.stack up|status|down --profile cloud` (design.md "Targets"): a fresh cloud-shaped
account — owner's key only, nothing pre-created, no local-only routes, no app server."""

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
import oss2
import pytest
from alibabacloud_ram20150501 import models as ram_models

from tests.sdk.ram_clients import Key, tea

CLOUD_KEYS = {"oss_endpoint", "sts_endpoint", "ram_endpoint", "region", "account_id", "root_credentials_file"}


def _stack(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "helpers.stack", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def cloud_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    env = {**os.environ, "WORKBOOK_STATE_DIR": str(tmp_path_factory.mktemp("state"))}
    yield env
    _stack(["down", "--profile", "cloud"], env)


@pytest.fixture(scope="module")
def info(cloud_env: dict[str, str]) -> dict[str, Any]:
    r = _stack(["up", "--profile", "cloud", "--json"], cloud_env)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip().splitlines()) == 1
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def root(info: dict[str, Any]) -> Key:
    doc = json.loads(Path(info["root_credentials_file"]).read_text(encoding="utf-8"))
    return Key(doc["access_key_id"], doc["access_key_secret"])


def test_up_prints_the_cloud_contract_and_a_0600_owner_key_file(
    info: dict[str, Any], root: Key, cloud_env: dict[str, str]
) -> None:
    assert set(info) == CLOUD_KEYS
    assert len({info["oss_endpoint"], info["sts_endpoint"], info["ram_endpoint"]}) == 3
    path = Path(info["root_credentials_file"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "account_id": info["account_id"],
        "access_key_id": root.access_key_id,
        "access_key_secret": root.access_key_secret,
    }
    again = _stack(["up", "--profile", "cloud", "--json"], cloud_env)
    assert json.loads(again.stdout) == info and root.access_key_secret not in again.stdout + again.stderr
    # Its own state directory: the default local stack's files are untouched.
    state = Path(cloud_env["WORKBOOK_STATE_DIR"])
    assert not (state / "stack.json").exists() and not (state / "credentials.json").exists()
    assert path.is_relative_to(state / "cloud")


def test_nothing_is_pre_created(info: dict[str, Any], root: Key) -> None:
    service = oss2.Service(oss2.Auth(root.access_key_id, root.access_key_secret), info["oss_endpoint"])
    assert service.list_buckets().buckets == []
    ram = tea(info["ram_endpoint"], root)
    assert ram.list_users(ram_models.ListUsersRequest()).body.users.user == []
    assert ram.list_roles(ram_models.ListRolesRequest()).body.roles.role == []
    assert ram.list_policies(ram_models.ListPoliciesRequest(policy_type="Custom")).body.policies.policy == []


def test_no_local_only_routes_but_the_callback_key(info: dict[str, Any], cloud_env: dict[str, str]) -> None:
    for path in ("clock", "health"):
        r = httpx.get(f"{info['oss_endpoint']}/_localcloud/{path}", trust_env=False)
        assert r.status_code == 400 and "<Code>InvalidBucketName</Code>" in r.text
        assert r.headers["content-type"] == "application/xml"
    moved = httpx.post(f"{info['oss_endpoint']}/_localcloud/clock", json={"advance": 60}, trust_env=False)
    assert moved.status_code == 400
    stats = httpx.get(f"{info['sts_endpoint']}/_localcloud/stats", trust_env=False)
    assert stats.status_code == 404 and stats.json()["Code"] == "InvalidAction.NotFound"
    key = httpx.get(f"{info['oss_endpoint']}/_localcloud/callback_pub_key_v1.pem", trust_env=False)
    assert key.status_code == 200 and b"BEGIN PUBLIC KEY" in key.content
    report = json.loads(_stack(["status", "--profile", "cloud"], cloud_env).stdout)
    assert report["running"] and report["localcloud"]["healthy"] and "appserver" not in report


def test_down_stops_it_and_forgets_the_account(tmp_path: Path) -> None:
    env = {**os.environ, "WORKBOOK_STATE_DIR": str(tmp_path)}
    up = json.loads(_stack(["up", "--profile", "cloud", "--json"], env).stdout)
    pid = json.loads(_stack(["status", "--profile", "cloud"], env).stdout)["localcloud"]["pid"]
    assert _stack(["down", "--profile", "cloud"], env).returncode == 0
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        if "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]:
            break
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
    assert _stack(["status", "--profile", "cloud"], env).returncode == 3
    assert not Path(up["root_credentials_file"]).exists() and not (tmp_path / "cloud").exists()
    with pytest.raises(httpx.HTTPError):
        httpx.get(up["oss_endpoint"] + "/", trust_env=False, timeout=2)
