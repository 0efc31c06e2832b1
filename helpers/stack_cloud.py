"""The cloud-shaped profile of the stack (design.md "Targets"): a local cloud that behaves like a
fresh real account, to prove the `aliyun` path offline.

    python -m helpers.stack up --profile cloud [--json]   # oss/sts/ram endpoints, region, account_id,
                                                          # root_credentials_file (owner's key only)
    python -m helpers.stack status --profile cloud
    python -m helpers.stack down --profile cloud          # stops it and forgets the account

Nothing is pre-created: no bucket, no RAM user or role, no app users, and no app server runs.
No `/_localcloud/*` route answers, with one loopback-forced difference: the OSS port still serves
the callback public key at `/_localcloud/callback_pub_key_v1.pem`, because a callback sent over
loopback cannot be verified with the key real OSS publishes at gosspublic.alicdn.com.
Its state lives in `<state dir>/cloud/` (`$WORKBOOK_CLOUD_STATE_DIR` overrides), apart from the
default local stack's files. Nothing printed here contains a secret.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from helpers import http_clients
from helpers.localcloud.accounts import DEFAULT_REGION
from helpers.processes import alive, spawn, state_dir, stop_pid

_FILES = ("stack.json", "stack.json.tmp", "root-credentials.json", "localcloud.log", "localcloud.ready")


def cloud_state_dir() -> Path:
    """`$WORKBOOK_CLOUD_STATE_DIR`, else `cloud/` inside the local stack's state directory."""
    return Path(os.environ.get("WORKBOOK_CLOUD_STATE_DIR") or state_dir() / "cloud").resolve()


@dataclass
class CloudStackInfo:
    """The contract JSON of `stack up --profile cloud`, plus process bookkeeping."""

    oss_endpoint: str
    sts_endpoint: str
    ram_endpoint: str
    region: str
    account_id: str
    root_credentials_file: str
    localcloud_pid: int
    localcloud_log: str

    def public(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("localcloud_pid")
        d.pop("localcloud_log")
        return d


def _answers_as_cloud(info: CloudStackInfo) -> bool:
    """Health without local-only routes: the OSS port answers as OSS, the RAM port as a POP API."""
    try:
        oss = http_clients.get(info.oss_endpoint + "/", timeout=2.0)
        ram = http_clients.get(info.ram_endpoint + "/", timeout=2.0)
    except httpx.HTTPError:
        return False
    return "x-oss-request-id" in oss.headers and "x-acs-request-id" in ram.headers


def read_state(directory: Path | None = None) -> CloudStackInfo | None:
    path = (directory or cloud_state_dir()) / "stack.json"
    if not path.exists():
        return None
    try:
        return CloudStackInfo(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None


def running(directory: Path | None = None) -> CloudStackInfo | None:
    info = read_state(directory)
    if info and alive(info.localcloud_pid) and _answers_as_cloud(info):
        return info
    return None


def up(directory: Path | None = None, *, region: str = DEFAULT_REGION, timeout: float = 30.0,
       ) -> CloudStackInfo:
    """Start the cloud-shaped local cloud (or return the running one); nothing else is created."""
    directory = directory or cloud_state_dir()
    existing = running(directory)
    if existing:
        return existing
    down(directory, forget=False)   # a half-alive one from before: stop what is left of it
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "localcloud.log"
    args = ["helpers.localcloud", "serve", "--profile", "cloud", "--data", str(directory / "data"),
            "--region", region, "--credentials", str(directory / "root-credentials.json")]
    proc, started = spawn(args, log, directory / "localcloud.ready", timeout)
    info = CloudStackInfo(oss_endpoint=started["oss_endpoint"], sts_endpoint=started["sts_endpoint"],
                          ram_endpoint=started["ram_endpoint"], region=region,
                          account_id=started["account_id"], root_credentials_file=started["credentials_file"],
                          localcloud_pid=proc.pid, localcloud_log=str(log))
    tmp = directory / "stack.json.tmp"
    tmp.write_text(json.dumps(asdict(info), indent=2), encoding="utf-8")
    os.replace(tmp, directory / "stack.json")
    return info


def down(directory: Path | None = None, timeout: float = 10.0, *, forget: bool = True) -> bool:
    """Stop it. With `forget` (the CLI's `down`), also delete what it kept (data, root credentials,
    log), so the next `up` is a fresh account again. True if something was running."""
    directory = directory or cloud_state_dir()
    info = read_state(directory)
    was_running = info is not None and alive(info.localcloud_pid)
    if info is not None:
        stop_pid(info.localcloud_pid, timeout)
        (directory / "stack.json").unlink(missing_ok=True)
    if forget:
        # Only the files `up` made: the directory may be one the user named.
        shutil.rmtree(directory / "data", ignore_errors=True)
        for name in _FILES:
            (directory / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            directory.rmdir()
    return was_running


def status(directory: Path | None = None) -> dict[str, Any]:
    info = read_state(directory)
    if info is None:
        return {"running": False, "profile": "cloud"}
    running = alive(info.localcloud_pid)
    healthy = running and _answers_as_cloud(info)
    return {"running": healthy, "profile": "cloud",
            "localcloud": {"pid": info.localcloud_pid, "alive": running, "healthy": healthy,
                           "log": info.localcloud_log},
            **info.public()}
