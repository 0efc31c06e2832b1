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

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import oss2
import pytest

from helpers import stack
from helpers.deploy_sequence import appserver, cloud_stack, free_port, owner_env, root_key, run_py, sourced
from helpers.protocol.callback_keys import LOCAL_KEY_PATH
from helpers.run import BUILD_DIR, KERNEL_ENV, compile_helpers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

ROOT = stack.PROJECT_ROOT
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _ok(done: Any) -> str:
    assert done.returncode == 0, f"{done.args} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return str(done.stdout)


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
    with cloud_stack(base) as info:
        key = root_key(info)
        before = _inventory(info, key)
        cloud_env = owner_env(base, info)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        provision = ["-m", "helpers.provision", "up", "--env-file", str(env_file), "--app-url", url,
                     "--public-url", url]
        try:
            _ok(run_py(provision, cloud_env))
            again = _ok(run_py(provision, cloud_env))
            changed = [line for line in again.splitlines() if not line.split() or "unchanged" not in line]
            assert not changed, f"the second `provision up` changed something:\n{again}"
            deployed = sourced(env_file, base)
            assert deployed["WORKBOOK_TARGET"] == "aliyun"
            # Loopback only, and written by provisioning: the local cloud signs callbacks with its own
            # key, served on its OSS port, so the app server must be allowed to fetch it.
            assert info["oss_endpoint"] + LOCAL_KEY_PATH in json.loads(
                deployed["WORKBOOK_CALLBACK_KEY_URL_PREFIXES"])
            deployed["WORKBOOK_DB_PATH"] = str(tmp_path / "appserver.sqlite3")
            with appserver(deployed, port, tmp_path / "appserver.log"):
                junit = tmp_path / "junit.xml"
                args = ["-m", "helpers.run", "--target", "aliyun", "--junit", str(junit)]
                run_env = {**deployed, "WORKBOOK_APPSERVER_URL": url}
                done = run_py(args, run_env, timeout=1200)
                table = done.stdout + done.stderr
                assert done.returncode == 0, f"the notebooks on aliyun:\n{table}"
                _check_junit(junit)
                # The lesson's central table says the same on both targets: 07's policy × operation matrix.
                executed = BUILD_DIR / "07_permission_control.ipynb"
                assert _matrix_rows(executed) == _matrix_rows(ROOT / "notebooks" / executed.name)
                # And every exercise's checker passes its reference solution there too.
                solved = run_py([*args[:4], "--solutions"], run_env, timeout=1200)
                table += solved.stdout + solved.stderr
                assert solved.returncode == 0, f"the notebooks on aliyun with --solutions:\n{table}"
            assert table.count(f"{len(NOTEBOOKS)} of {len(NOTEBOOKS)} notebooks passed") == 2, table
            for secret in (key[1], deployed["WORKBOOK_ACCESS_KEY_SECRET"]):
                assert secret not in table
        finally:
            down = run_py(["-m", "helpers.provision", "down", "--env-file", str(env_file)], cloud_env)
        _ok(down)
        assert not env_file.exists()
        assert _inventory(info, key) == before, "provision down left something behind"

