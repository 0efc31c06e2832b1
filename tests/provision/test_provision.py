"""`python -m helpers.provision up|down` against a cloud-shaped local cloud, through the official SDKs:
idempotence, the env file, the app server started from it, teardown, and bad input."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import oss2
import pytest

from helpers.lessons import permissions
from helpers.provision.envfile import read_env_file
from tests.provision.conftest import ROOT, Run, ram_state

REGION = "cn-hangzhou"


@pytest.fixture
def env_file(tmp_path: Path, provision: Run) -> Any:
    path = tmp_path / "aliyun.env"
    yield path
    provision("down", "--env-file", str(path))  # leave the account as we found it, whatever happened


def _bucket_state(target: Any, name: str) -> dict[str, Any]:
    b = target.oss_bucket(name)
    try:
        cors = [vars(r) for r in b.get_bucket_cors().rules]
    except oss2.exceptions.NoSuchCors:
        cors = []
    return {"acl": b.get_bucket_acl().acl, "cors": cors}


def test_up_twice_the_second_changes_nothing(
    provision: Run, env_file: Path, target: Any, account_id: str
) -> None:
    code, first, err = provision("up", "--env-file", str(env_file))
    assert code == 0, err
    bucket = f"workbook-{account_id}-{REGION}"
    assert f"created   bucket {bucket}\n" in first
    assert f"created   bucket {bucket}-other\n" in first
    for line in (
        "created   role workbook-uploader",
        "created   user workbook-appserver",
        "created   policy workbook-uploader-oss",
        "created   policy workbook-appserver-assume-role",
        "created   attachment workbook-uploader-oss -> role workbook-uploader",
        f"created   env-file {env_file}",
    ):
        assert line in first
    state = (ram_state(target.ram()), _bucket_state(target, bucket), env_file.read_bytes())

    code, second, err = provision("up", "--env-file", str(env_file))
    assert code == 0, err
    assert second.replace("unchanged", "created  ") == first
    assert all(line.startswith("unchanged ") for line in second.splitlines())
    assert (ram_state(target.ram()), _bucket_state(target, bucket), env_file.read_bytes()) == state
    assert len(state[0]["keys"]["AccessKeys"]["AccessKey"]) == 1


def test_the_env_file_holds_every_setting_and_no_secret_is_printed(
    provision: Run, env_file: Path, owner_env: dict[str, str], account_id: str
) -> None:
    code, out, err = provision("up", "--env-file", str(env_file), "--app-url", "http://127.0.0.1:8765")
    assert code == 0, err
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = read_env_file(env_file)
    assert values["WORKBOOK_TARGET"] == "aliyun"
    assert values["WORKBOOK_REGION"] == REGION
    assert values["WORKBOOK_BUCKET"] == f"workbook-{account_id}-{REGION}"
    assert values["WORKBOOK_ROLE_ARN"] == f"acs:ram::{account_id}:role/workbook-uploader"
    for name in ("OSS", "STS", "RAM"):
        assert values[f"WORKBOOK_{name}_ENDPOINT"] == owner_env[f"WORKBOOK_{name}_ENDPOINT"]
    assert values["WORKBOOK_APPSERVER_URL"] == "http://127.0.0.1:8765"
    assert set(json.loads(values["WORKBOOK_APP_USERS"])) == {"alice", "bob"}
    assert json.loads(values["WORKBOOK_CALLBACK_KEY_URL_PREFIXES"]) == [
        "http://gosspublic.alicdn.com/",
        "https://gosspublic.alicdn.com/",
        owner_env["WORKBOOK_OSS_ENDPOINT"] + "/_localcloud/callback_pub_key_v1.pem",
    ]  # loopback OSS only
    assert len(values["WORKBOOK_SESSION_SECRET"]) >= 32
    assert values["WORKBOOK_ACCESS_KEY_ID"] != owner_env["ALIBABA_CLOUD_ACCESS_KEY_ID"]
    secrets = [
        values["WORKBOOK_ACCESS_KEY_SECRET"],
        values["WORKBOOK_SESSION_SECRET"],
        owner_env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
        *json.loads(values["WORKBOOK_APP_USERS"]).values(),
    ]
    for secret in secrets:
        assert secret not in out + err
    assert values["WORKBOOK_ACCESS_KEY_ID"] not in out  # masked: only its first characters
    assert values["WORKBOOK_ACCESS_KEY_ID"][:8] in out

    # The session secret and the passwords are generated once and kept; the app URL can change.
    code, out, err = provision(
        "up",
        "--env-file",
        str(env_file),
        "--app-url",
        "http://127.0.0.1:9876",
        "--public-url",
        "https://app.example.com",
    )
    assert code == 0, err
    again = read_env_file(env_file)
    assert again["WORKBOOK_APPSERVER_PUBLIC_URL"] == "https://app.example.com"
    assert "updated   cors" in out and "updated   env-file" in out
    for name in ("WORKBOOK_SESSION_SECRET", "WORKBOOK_APP_USERS", "WORKBOOK_ACCESS_KEY_SECRET"):
        assert again[name] == values[name]


def _start_appserver(env_file: Path, tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    ready = tmp_path / "appserver.ready"
    script = 'set -a; . "$1"; set +a; shift; exec "$@"'
    proc = subprocess.Popen(
        [
            "sh",
            "-c",
            script,
            "sh",
            str(env_file),
            sys.executable,
            "-m",
            "helpers.appserver",
            "serve",
            "--port",
            "0",
            "--ready-file",
            str(ready),
            "--db",
            str(tmp_path / "app.sqlite3"),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the app server did not start"
        time.sleep(0.05)
    return proc, json.loads(ready.read_text())["appserver_url"]


def test_the_app_server_runs_from_the_env_file(provision: Run, env_file: Path, tmp_path: Path) -> None:
    code, _, err = provision("up", "--env-file", str(env_file))
    assert code == 0, err
    values = read_env_file(env_file)
    password = json.loads(values["WORKBOOK_APP_USERS"])["alice"]
    proc, url = _start_appserver(env_file, tmp_path)
    try:
        token = httpx.post(f"{url}/api/login", json={"username": "alice", "password": password}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        sts = httpx.get(f"{url}/api/sts", params={"scope": "upload"}, headers=headers)
        assert sts.status_code == 200, sts.text
        c = sts.json()
        auth = oss2.StsAuth(c["AccessKeyId"], c["AccessKeySecret"], c["SecurityToken"], auth_version="v4")
        bucket = oss2.Bucket(auth, values["WORKBOOK_OSS_ENDPOINT"], values["WORKBOOK_BUCKET"], region=REGION)
        assert bucket.put_object("users/alice/hello.txt", b"hello").status == 200
        with pytest.raises(oss2.exceptions.AccessDenied):  # the session narrows the role
            bucket.put_object("users/bob/hello.txt", b"hello")
        # The app server's own key can do nothing but assume the role (notebook 00's exercise).
        own = oss2.Bucket(
            oss2.Auth(values["WORKBOOK_ACCESS_KEY_ID"], values["WORKBOOK_ACCESS_KEY_SECRET"]),
            values["WORKBOOK_OSS_ENDPOINT"],
            values["WORKBOOK_BUCKET"],
        )
        with pytest.raises(oss2.exceptions.AccessDenied):
            own.list_objects(max_keys=1)
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_role_policy_gives_notebook_07_its_matrix(provision: Run, env_file: Path, tmp_path: Path) -> None:
    """Notebook 07's live matrix on the provisioned account: the role alone reaches every user's folder
    and nothing else, and each session policy narrows it as the committed notebook shows."""
    from helpers.workbook import Book

    code, _, err = provision("up", "--env-file", str(env_file))
    assert code == 0, err
    v = read_env_file(env_file)
    proc, url = _start_appserver(env_file, tmp_path)
    try:
        book = Book(
            "aliyun",
            v["WORKBOOK_OSS_ENDPOINT"],
            v["WORKBOOK_STS_ENDPOINT"],
            url,
            v["WORKBOOK_BUCKET"],
            v["WORKBOOK_REGION"],
            v["WORKBOOK_ROLE_ARN"],
            json.loads(v["WORKBOOK_APP_USERS"]),
            (v["WORKBOOK_ACCESS_KEY_ID"], v["WORKBOOK_ACCESS_KEY_SECRET"]),
        )
        policies: dict[str, Any] = dict(permissions.example_policies(book.bucket, "alice"))
        policies["role only"] = None
        table = permissions.matrix(book, policies)
        assert table.allowed("upload scope") == {"Put own"}
        assert table.allowed("download scope") == {"Get own"}
        assert table.allowed("read-only photos") == {"Get own", "List own"}
        assert table.allowed("allow all, deny delete") == {"Put own", "Get own", "List own"}
        assert table.allowed("role only") == set(permissions.OPERATIONS) - {"Put other bucket"}
        assert (
            table.rows["role only"]["Put other bucket"].code == "AccessDenied"
        )  # it exists: not NoSuchBucket
        permissions.cleanup(book)
        book.close()
    finally:
        proc.terminate()
        proc.wait(10)
