"""design.md's (contract) sequence, literally: `stack up --profile cloud --json`, then provisioning with
the owner's key from its root credentials file, up twice, down, and the account is as it started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.provision.clients import Target
from tests.provision.conftest import ROOT, ram_state


def _run(module: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def stack_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKBOOK_STATE_DIR": str(tmp_path_factory.mktemp("state"))}
    yield env
    _run("helpers.stack", "down", "--profile", "cloud", env=env)


def test_the_contract_sequence(stack_env: dict[str, str], tmp_path: Path) -> None:
    started = _run("helpers.stack", "up", "--profile", "cloud", "--json", env=stack_env)
    assert started.returncode == 0, started.stderr
    info: dict[str, Any] = json.loads(started.stdout)
    owner = json.loads(Path(info["root_credentials_file"]).read_text(encoding="utf-8"))
    env = {**stack_env, "ALIBABA_CLOUD_ACCESS_KEY_ID": owner["access_key_id"],
           "ALIBABA_CLOUD_ACCESS_KEY_SECRET": owner["access_key_secret"],
           "WORKBOOK_OSS_ENDPOINT": info["oss_endpoint"], "WORKBOOK_STS_ENDPOINT": info["sts_endpoint"],
           "WORKBOOK_RAM_ENDPOINT": info["ram_endpoint"], "WORKBOOK_REGION": info["region"]}
    target = Target.from_env(env, info["region"])
    before = ram_state(target.ram())
    env_file = tmp_path / "aliyun.env"

    first = _run("helpers.provision", "up", "--env-file", str(env_file), env=env)
    assert first.returncode == 0, first.stderr
    assert f"created   bucket workbook-{info['account_id']}-{info['region']}\n" in first.stdout
    second = _run("helpers.provision", "up", "--env-file", str(env_file), env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout.replace("created  ", "unchanged")
    assert owner["access_key_secret"] not in first.stdout + first.stderr + second.stdout + second.stderr

    gone = _run("helpers.provision", "down", "--env-file", str(env_file), env=env)
    assert gone.returncode == 0, gone.stderr
    assert ram_state(target.ram()) == before
    assert not env_file.exists()
