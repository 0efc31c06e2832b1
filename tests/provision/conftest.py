"""A cloud-shaped local cloud (owner key only, RAM on its own port) and a runner for the CLI.

`provision(*args, env=...)` runs `python -m helpers.provision ...` as a user would (a subprocess),
with the owner's key and the local endpoints in its environment, and returns (exit code, stdout,
stderr). `ram_client()` is the official RAM SDK with the owner's key, for checking state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import deploy_sequence
from helpers.localcloud.context import LocalCloudConfig
from helpers.localcloud.server import LocalCloudServer, build_context
from helpers.provision.clients import Target

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def cloud_profile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudServer]:
    ctx, _ = build_context(
        LocalCloudConfig(data_dir=tmp_path_factory.mktemp("cloudprofile"), profile="cloud")
    )
    server = LocalCloudServer(ctx).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def owner_env(cloud_profile: LocalCloudServer) -> dict[str, str]:
    """What `provision` reads, as `stack up --profile cloud --json` would describe this server."""
    return deploy_sequence.owner_env({}, {
        "root_credentials_file": str(cloud_profile.ctx.config.credentials_path),
        "oss_endpoint": cloud_profile.oss_endpoint, "sts_endpoint": cloud_profile.sts_endpoint,
        "ram_endpoint": cloud_profile.ram_endpoint, "region": cloud_profile.ctx.config.region})


@pytest.fixture(scope="module")
def account_id(cloud_profile: LocalCloudServer) -> str:
    return str(json.loads(Path(cloud_profile.ctx.config.credentials_path).read_text())["account_id"])


@pytest.fixture(scope="module")
def target(owner_env: dict[str, str]) -> Target:
    return Target.from_env(owner_env, owner_env["WORKBOOK_REGION"])


@pytest.fixture(scope="module")
def provision(owner_env: dict[str, str]) -> Run:
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> tuple[int, str, str]:
        base = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "HOME": os.environ.get("HOME", "/"),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "helpers.provision", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**base, **(owner_env if env is None else env)},
        )
        return proc.returncode, proc.stdout, proc.stderr

    return run


def closed_port_url() -> str:
    """An http URL on loopback where nothing listens."""
    return f"http://127.0.0.1:{deploy_sequence.free_port()}"


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text


def ram_state(client: Any) -> dict[str, Any]:
    """What RAM holds for the workbook's names, read back through the official SDK."""
    from alibabacloud_ram20150501 import models as ram
    from Tea.exceptions import TeaException

    def get(fn: Callable[[], Any]) -> Any:
        try:
            return fn().body.to_map()
        except TeaException as exc:
            return exc.code

    state = {
        "role": get(lambda: client.get_role(ram.GetRoleRequest(role_name="workbook-uploader"))),
        "user": get(lambda: client.get_user(ram.GetUserRequest(user_name="workbook-appserver"))),
        "keys": get(
            lambda: client.list_access_keys(ram.ListAccessKeysRequest(user_name="workbook-appserver"))
        ),
        "role_policies": get(
            lambda: client.list_policies_for_role(
                ram.ListPoliciesForRoleRequest(role_name="workbook-uploader")
            )
        ),
        "user_policies": get(
            lambda: client.list_policies_for_user(
                ram.ListPoliciesForUserRequest(user_name="workbook-appserver")
            )
        ),
        "role_policy": get(
            lambda: client.get_policy(
                ram.GetPolicyRequest(policy_name="workbook-uploader-oss", policy_type="Custom")
            )
        ),
        "user_policy": get(
            lambda: client.get_policy(
                ram.GetPolicyRequest(policy_name="workbook-appserver-assume-role", policy_type="Custom")
            )
        ),
    }
    for doc in state.values():  # request ids differ per call
        if isinstance(doc, dict):
            doc.pop("RequestId", None)
    return state
