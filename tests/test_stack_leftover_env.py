"""`python -m helpers.stack up` with variables left over from an Alibaba Cloud session in the environment:
the local stack's app server ignores them and is configured from its own local cloud (issue 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import oss2
import pytest

LEFTOVERS = {
    "WORKBOOK_TARGET": "aliyun",
    "WORKBOOK_OSS_ENDPOINT": "https://oss-cn-shanghai.aliyuncs.com",
    "WORKBOOK_STS_ENDPOINT": "sts.cn-shanghai.aliyuncs.com",
    "WORKBOOK_REGION": "cn-shanghai",
    "WORKBOOK_BUCKET": "my-real-bucket-not-on-the-local-cloud",
    "WORKBOOK_ROLE_ARN": "acs:ram::1234567890123456:role/workbook-uploader",
    "WORKBOOK_ACCESS_KEY_ID": "LTAI5tLeftoverKeyId",
    "WORKBOOK_ACCESS_KEY_SECRET": "LeftoverSecretThatMustNotBeUsedOrShown0",
    "WORKBOOK_APP_USERS": '{"carol": "carols-password"}',
    "WORKBOOK_SESSION_SECRET": "leftover-session-secret-0123456789abcdef",
}


def _stack(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "helpers.stack", *args], env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def leftover_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_")}
    env.update(LEFTOVERS, WORKBOOK_STATE_DIR=str(tmp_path / "state"))
    yield env
    _stack(["down"], env)


def test_stack_up_ignores_aliyun_variables_and_serves_its_own_bucket(leftover_env: dict[str, str]) -> None:
    r = _stack(["up", "--json"], leftover_env)
    assert r.returncode == 0, r.stderr
    assert "ignores WORKBOOK_ACCESS_KEY_ID, WORKBOOK_ACCESS_KEY_SECRET" in r.stderr
    assert LEFTOVERS["WORKBOOK_ACCESS_KEY_SECRET"] not in r.stdout + r.stderr
    info = json.loads(r.stdout)
    assert (info["bucket"], info["region"]) == ("workbook", "cn-hangzhou")
    creds = json.loads(Path(info["credentials_file"]).read_text())
    alice = next(u for u in creds["app_users"] if u["username"] == "alice")
    with httpx.Client(base_url=info["appserver_url"], trust_env=False) as app:
        login = app.post("/api/login", json=alice)
        assert login.status_code == 200, login.text
        sts = app.get("/api/sts?scope=upload",
                      headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert sts.status_code == 200, sts.text
    body = sts.json()
    assert (body["Bucket"], body["Region"]) == (info["bucket"], info["region"])
    auth = oss2.StsAuth(body["AccessKeyId"], body["AccessKeySecret"], body["SecurityToken"])
    bucket = oss2.Bucket(auth, info["oss_endpoint"], info["bucket"])
    assert bucket.put_object("users/alice/leftover-check.txt", b"local").status == 200
    status = json.loads(_stack(["status"], leftover_env).stdout)
    assert status["appserver"]["healthy"]
