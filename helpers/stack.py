"""Start, stop and report the local stack: the local cloud (OSS + STS ports) and the app server,
each its own process, like separate machines in production.

    python -m helpers.stack up [--json]     start (or reuse) the stack; print the contract JSON
    python -m helpers.stack down            stop it
    python -m helpers.stack status          report what runs and whether it answers
    ... --profile cloud                     the same for a fresh cloud-shaped account (stack_cloud.py)

State lives in `.workbook/` (git-ignored): `stack.json` (ports, pids, log paths), the credentials
file (mode 0600), the local cloud's data and the app server's database. Nothing printed here
contains a secret. `up` also creates the workbook bucket and its CORS rule (browsers upload
straight to OSS), through the SDK with the account owner's key, as one would on real OSS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from helpers import http_clients
from helpers.localcloud.accounts import DEFAULT_BUCKET, DEFAULT_REGION
from helpers.processes import (
    PROJECT_ROOT as PROJECT_ROOT,  # re-exported: the notebooks and tests read it here
)
from helpers.processes import alive, spawn, state_dir, stop_pid


@dataclass
class StackInfo:
    """The contract JSON of `stack up` (design.md), plus process bookkeeping."""

    oss_endpoint: str
    sts_endpoint: str
    appserver_url: str | None
    bucket: str
    region: str
    role_arn: str
    credentials_file: str
    localcloud_pid: int
    localcloud_log: str
    appserver_pid: int | None = None
    appserver_log: str | None = None

    def public(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("localcloud_pid", "localcloud_log", "appserver_pid", "appserver_log"):
            d.pop(k)
        return d

    @property
    def pids(self) -> list[int]:
        return [p for p in (self.appserver_pid, self.localcloud_pid) if p]


def _answers(url: str, timeout: float = 2.0) -> bool:
    """True when a GET of `url` answers 200 within `timeout` seconds."""
    try:
        return http_clients.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _healthy(oss_endpoint: str) -> bool:
    return _answers(oss_endpoint + "/_localcloud/health")


def read_state(directory: Path | None = None) -> StackInfo | None:
    path = (directory or state_dir()) / "stack.json"
    if not path.exists():
        return None
    try:
        return StackInfo(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None


def _appserver_healthy(url: str | None) -> bool:
    return bool(url) and _answers(f"{url}/api/health")


def running(directory: Path | None = None) -> StackInfo | None:
    """The stack recorded in the state file, if all its processes live and answer."""
    info = read_state(directory)
    if (info and all(alive(p) for p in info.pids) and _healthy(info.oss_endpoint)
            and _appserver_healthy(info.appserver_url)):
        return info
    return None


def app_cors_rule(*origins: str) -> Any:
    """The workbook bucket's CORS rule (an oss2 CorsRule): browsers PUT/POST straight to OSS from the
    app server's page at `origins`. Used here and by `python -m helpers.provision up`. ali-oss's
    multipart upload reads each part's ETag, so ETag is exposed."""
    from oss2.models import CorsRule

    return CorsRule(allowed_origins=list(origins), allowed_methods=["GET", "PUT", "POST", "HEAD"],
                    allowed_headers=["*"],
                    expose_headers=["ETag", "x-oss-request-id", "x-oss-hash-crc64ecma"], max_age_seconds=600)


def _ensure_bucket(info: StackInfo, creds: dict[str, Any]) -> None:
    """Create the workbook bucket and its CORS rule with the account owner's key, through the SDK."""
    import oss2
    from oss2.models import BucketCors

    auth = oss2.Auth(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"])
    bucket = oss2.Bucket(auth, info.oss_endpoint, info.bucket)
    try:
        bucket.get_bucket_info()
    except oss2.exceptions.NoSuchBucket:
        bucket.create_bucket(oss2.BUCKET_ACL_PRIVATE)
    # Browsers PUT/POST straight to OSS from the app server's page: allow that origin, also as
    # http://localhost:PORT (the same loopback server under the name browsers also use).
    origins = [info.appserver_url] if info.appserver_url else ["*"]
    if info.appserver_url and urlsplit(info.appserver_url).hostname == "127.0.0.1":
        origins.append(info.appserver_url.replace("://127.0.0.1:", "://localhost:", 1))
    bucket.put_bucket_cors(BucketCors([app_cors_rule(*origins)]))
    # The permission lesson probes a bucket the role is not granted. It must exist: OSS answers a missing
    # bucket with NoSuchBucket before it looks at credentials or policies (oss-behaviours.md §1).
    from helpers.protocol.scopes import other_bucket

    other = oss2.Bucket(auth, info.oss_endpoint, other_bucket(info.bucket))
    try:
        other.get_bucket_info()
    except oss2.exceptions.NoSuchBucket:
        other.create_bucket(oss2.BUCKET_ACL_PRIVATE)


def ignored_settings_variables() -> list[str]:
    """The app server's `WORKBOOK_*` variables set in this environment, which the local stack ignores."""
    from helpers.settings import settings_variables  # pydantic-settings: not for every notebook's import

    return sorted(name for name in settings_variables() if name in os.environ)


def _appserver_env(bucket: str, region: str) -> dict[str, str]:
    """The local app server's environment: without the variables meant for an app server on Alibaba
    Cloud (a leftover WORKBOOK_TARGET=aliyun or WORKBOOK_BUCKET would point it at a bucket the local
    cloud does not have, and every login would fail), with the stack's own bucket and region."""
    ignored = set(ignored_settings_variables())
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    return {**env, "WORKBOOK_BUCKET": bucket, "WORKBOOK_REGION": region}


def up(directory: Path | None = None, *, bucket: str = DEFAULT_BUCKET, region: str = DEFAULT_REGION,
       timeout: float = 30.0) -> StackInfo:
    """Start the stack (or return the running one) and wait until every part answers."""
    directory = directory or state_dir()
    existing = running(directory)
    if existing:
        return existing
    down(directory)  # a half-alive stack from before: stop what is left of it
    directory.mkdir(parents=True, exist_ok=True)
    cloud_log = directory / "localcloud.log"
    cloud, started = spawn(["helpers.localcloud", "serve", "--data", str(directory), "--region", region,
                             "--bucket", bucket], cloud_log, directory / "localcloud.ready", timeout)
    creds_path = Path(started["credentials_file"])
    creds = json.loads(creds_path.read_text(encoding="utf-8"))
    app_log = directory / "appserver.log"
    try:
        app, app_started = spawn(
            ["helpers.appserver", "serve", "--credentials", str(creds_path), "--oss-endpoint",
             started["oss_endpoint"], "--sts-endpoint", started["sts_endpoint"], "--db",
             str(directory / "appserver.sqlite3"),
             # Time moves for the app server when the local cloud's clock moves (local-only).
             "--follow-clock", started["oss_endpoint"] + "/_localcloud/clock"],
            app_log, directory / "appserver.ready", timeout, env=_appserver_env(bucket, region))
    except RuntimeError:
        stop_pid(cloud.pid, 5.0)
        raise
    info = StackInfo(oss_endpoint=started["oss_endpoint"], sts_endpoint=started["sts_endpoint"],
                     appserver_url=app_started["appserver_url"], bucket=bucket, region=region,
                     role_arn=creds["role_arn"], credentials_file=str(creds_path), localcloud_pid=cloud.pid,
                     localcloud_log=str(cloud_log), appserver_pid=app.pid, appserver_log=str(app_log))
    _ensure_bucket(info, creds)
    tmp = directory / "stack.json.tmp"
    tmp.write_text(json.dumps(asdict(info), indent=2), encoding="utf-8")
    os.replace(tmp, directory / "stack.json")
    return info


def down(directory: Path | None = None, timeout: float = 10.0) -> bool:
    """Stop the recorded stack. True if something was running."""
    directory = directory or state_dir()
    info = read_state(directory)
    if info is None:
        return False
    was_running = any(alive(p) for p in info.pids)
    for pid in info.pids:
        stop_pid(pid, timeout)
    (directory / "stack.json").unlink(missing_ok=True)
    return was_running


def status(directory: Path | None = None) -> dict[str, Any]:
    info = read_state(directory)
    if info is None:
        return {"running": False}
    cloud_alive = alive(info.localcloud_pid)
    app_alive = bool(info.appserver_pid) and alive(info.appserver_pid or 0)
    return {"running": cloud_alive and app_alive,
            "localcloud": {"pid": info.localcloud_pid, "alive": cloud_alive,
                           "healthy": cloud_alive and _healthy(info.oss_endpoint),
                           "log": info.localcloud_log},
            "appserver": {"pid": info.appserver_pid, "alive": app_alive,
                          "healthy": app_alive and _appserver_healthy(info.appserver_url),
                          "log": info.appserver_log},
            **info.public()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.stack", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    u = sub.add_parser("up", help="start (or reuse) the stack")
    u.add_argument("--json", action="store_true", help="print only the contract JSON")
    d = sub.add_parser("down", help="stop the stack")
    s = sub.add_parser("status", help="report the stack")
    for parser in (u, d, s):
        parser.add_argument("--profile", choices=("local", "cloud"), default="local",
                            help="local: the workbook's stack; cloud: a fresh cloud-shaped account "
                                 "(helpers/stack_cloud.py)")
    args = p.parse_args(argv)
    if args.profile == "cloud":
        from helpers import stack_cloud as impl
    else:
        impl = sys.modules[__name__]
    if args.command == "up":
        ignored = ignored_settings_variables()
        if ignored:
            print(f"note: the local stack ignores {', '.join(ignored)} (meant for an app server on Alibaba "
                  "Cloud); its app server is configured from the local cloud", file=sys.stderr)
        try:
            public = impl.up().public()
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(public))
        else:
            print("stack is up" + (" (cloud-shaped profile)" if args.profile == "cloud" else ""))
            for k, v in public.items():
                print(f"  {k}: {v}")
        return 0
    if args.command == "down":
        print("stack stopped" if impl.down() else "stack was not running")
        return 0
    report = impl.status()
    print(json.dumps(report, indent=2))
    return 0 if report.get("running") else 3


if __name__ == "__main__":
    raise SystemExit(main())
