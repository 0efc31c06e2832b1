"""`up` and `down`: the steps in order, the env file before and after.

    up(env_file, environ, bucket=None, region=None, app_url=..., public_url=None) -> Report
    down(env_file, environ, region=None) -> Report

Both raise StepFailed (with `.report` attached: what this run had already done) on the first refusal.
`up` writes the env file even then, if it created anything, so a new AccessKey's secret is never lost
and `down` can find what to remove. What `down` removes: the RAM entities by their deterministic names
(helpers/provision/names.py), the buckets listed in the env file's WORKBOOK_PROVISIONED_BUCKETS (those
`up` created, or named by the default rule), and the env file itself once everything is gone.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import string
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from helpers.protocol.callback_keys import allowed_key_urls
from helpers.protocol.scopes import role_permission_policy
from helpers.provision import buckets, ram_entities
from helpers.provision.clients import Target, account_id
from helpers.provision.envfile import read_env_file, write_env_file
from helpers.provision.names import APP_USERS, REGION_RE, Names
from helpers.provision.report import Report, StepFailed

DEFAULT_REGION = "cn-hangzhou"
DEFAULT_APP_URL = "http://127.0.0.1:8000"
PROVISIONED = "WORKBOOK_PROVISIONED_BUCKETS"   # bookkeeping for `down` (Settings ignores it)
_ALNUM = string.ascii_letters + string.digits


def _region(cli: str | None, environ: Mapping[str, str], recorded: Mapping[str, str]) -> str:
    region = cli or environ.get("WORKBOOK_REGION") or recorded.get("WORKBOOK_REGION") or DEFAULT_REGION
    if not REGION_RE.match(region):
        raise StepFailed("check the region", code="InvalidRegionId",
                         hint=f"{region!r} is not a region ID like cn-hangzhou or ap-southeast-1")
    return region


def _origin(flag: str, url: str) -> str:
    """`url` as an origin (scheme://host[:port]), or StepFailed: it becomes a CORS rule and a setting."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/") or parts.query:
        raise StepFailed(f"check {flag}", code="InvalidUrl",
                         hint=f"{url!r} is not an http(s)://host[:port] URL")
    return f"{parts.scheme}://{parts.netloc}"


def _check_bucket_name(name: str | None) -> None:
    import oss2

    # The SDK's own rule (3-63 of a-z 0-9 -, not starting or ending with -); OSS says InvalidBucketName.
    if name is not None and not oss2.utils.is_valid_bucket_name(name):
        raise StepFailed("check the bucket name", code="InvalidBucketName",
                         hint=f"{name!r}: 3-63 of a-z, 0-9 and -, starting and ending alphanumeric")


def _account(target: Target) -> str:
    try:
        return account_id(target)
    except Exception as exc:  # any SDK error: reported with the service's code
        raise StepFailed("identify the account (STS GetCallerIdentity)", exc) from None


def _app_users(recorded: Mapping[str, str]) -> str:
    """The demo users as JSON: the recorded ones, else alice and bob with random passwords."""
    try:
        users = json.loads(recorded.get("WORKBOOK_APP_USERS", ""))
        if isinstance(users, dict) and users:
            return recorded["WORKBOOK_APP_USERS"]
    except ValueError:
        pass
    return json.dumps({u: "".join(secrets.choice(_ALNUM) for _ in range(20)) for u in APP_USERS})


def _key_url_prefixes(oss_endpoint: str) -> list[str]:
    """Where the app server may fetch callback-signing keys: Alibaba's host, plus, only when OSS is on
    loopback (the cloud-shaped local cloud), that server's own key URL, since a callback sent over
    loopback cannot be signed with the key Alibaba publishes."""
    host = urlsplit(oss_endpoint).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return list(allowed_key_urls(oss_endpoint, local=loopback))


def _env_values(target: Target, names: Names, recorded: Mapping[str, str], *, role_arn: str,
                key: tuple[str, str], app_url: str, public_url: str | None,
                provisioned: list[str]) -> dict[str, str]:
    values = {
        "WORKBOOK_TARGET": "aliyun",
        "WORKBOOK_REGION": target.region,
        "WORKBOOK_OSS_ENDPOINT": target.oss_endpoint,
        "WORKBOOK_STS_ENDPOINT": target.sts_endpoint,
        "WORKBOOK_RAM_ENDPOINT": target.ram_endpoint,
        "WORKBOOK_BUCKET": names.bucket,
        "WORKBOOK_ROLE_ARN": role_arn,
        "WORKBOOK_ACCESS_KEY_ID": key[0],
        "WORKBOOK_ACCESS_KEY_SECRET": key[1],
        "WORKBOOK_SESSION_SECRET": recorded.get("WORKBOOK_SESSION_SECRET") or secrets.token_urlsafe(32),
        "WORKBOOK_APP_USERS": _app_users(recorded),
        "WORKBOOK_APPSERVER_URL": app_url,
        "WORKBOOK_CALLBACK_KEY_URL_PREFIXES": json.dumps(_key_url_prefixes(target.oss_endpoint)),
        PROVISIONED: " ".join(provisioned),
    }
    public = public_url or recorded.get("WORKBOOK_APPSERVER_PUBLIC_URL")
    if public:
        values["WORKBOOK_APPSERVER_PUBLIC_URL"] = public
    return values


def _save(path: Path, values: dict[str, str], recorded: Mapping[str, str], report: Report) -> None:
    if dict(recorded) == values:
        report.unchanged("env-file", str(path))
        return
    write_env_file(path, values)
    (report.updated if recorded else report.created)("env-file", str(path))


def up(env_file: Path, environ: Mapping[str, str], *, bucket: str | None = None, region: str | None = None,
       app_url: str = DEFAULT_APP_URL, public_url: str | None = None, report: Report | None = None) -> Report:
    """Create or update everything the workbook needs on Alibaba Cloud and write `env_file`."""
    report = report or Report()
    _check_bucket_name(bucket)
    app_url = _origin("--app-url", app_url)
    public_url = _origin("--public-url", public_url) if public_url else None
    recorded = read_env_file(env_file)
    target = Target.from_env({**recorded, **environ}, _region(region, environ, recorded))
    account = _account(target)
    names = Names.of(account, target.region, bucket or recorded.get("WORKBOOK_BUCKET"))
    default = Names.of(account, target.region)
    provisioned = recorded.get(PROVISIONED, "").split()
    key = (recorded.get("WORKBOOK_ACCESS_KEY_ID", ""), recorded.get("WORKBOOK_ACCESS_KEY_SECRET", ""))
    role_arn = recorded.get("WORKBOOK_ROLE_ARN", "")
    try:
        for name, origin in ((names.bucket, app_url), (names.other_bucket, None)):
            buckets.ensure_bucket(target, name, report, account_id=account, cors_origin=origin)
            # Ours to remove later: created by up, or named by the default rule (the account ID is in it).
            ours = f"bucket {name}" in report.made or name in (default.bucket, default.other_bucket)
            if ours and name not in provisioned:
                provisioned.append(name)
        client = target.ram()
        role_arn = ram_entities.ensure_role(client, account, role_permission_policy(names.bucket), report)
        ram_entities.ensure_user(client, role_arn, report)
        key = ram_entities.ensure_access_key(client, key if key[0] and key[1] else None, report)
    except StepFailed as failure:
        if report.made:   # keep what exists findable (and a new key's secret) for the next up or down
            partial = _env_values(target, names, recorded, role_arn=role_arn, key=key, app_url=app_url,
                                  public_url=public_url, provisioned=provisioned)
            write_env_file(env_file, partial)
        failure.report = report
        raise
    _save(env_file, _env_values(target, names, recorded, role_arn=role_arn, key=key, app_url=app_url,
                                public_url=public_url, provisioned=provisioned), recorded, report)
    return report


def down(env_file: Path, environ: Mapping[str, str], *, region: str | None = None,
         report: Report | None = None) -> Report:
    """Remove what `up` created: the RAM user (and its keys), role, the two policies, the recorded
    buckets (emptied of what the notebooks wrote), then `env_file`. Absent things are reported as such."""
    report = report or Report()
    recorded = read_env_file(env_file)
    try:
        target = Target.from_env({**recorded, **environ}, _region(region, environ, recorded))
        if PROVISIONED in recorded:
            names = recorded[PROVISIONED].split()
        else:   # no env file: the buckets of the default rule
            default = Names.of(_account(target), target.region)
            names = [default.bucket, default.other_bucket]
        ram_entities.remove_all(target.ram(), report)
        for name in names:
            buckets.remove_bucket(target, name, report)
    except StepFailed as failure:
        failure.report = report
        raise
    if env_file.exists():
        env_file.unlink()
        report.deleted("env-file", str(env_file))
    return report
