"""The local cloud's identities, read from (and on first start written to) the credentials file.

The file is the contract in design.md, plus a `ram` section the local cloud needs to act like RAM:

    {"account_id": "1234567890123456",
     "admin":     {"access_key_id": "LTAI…", "access_key_secret": "…"},   account owner, full rights
     "appserver": {"access_key_id": "LTAI…", "access_key_secret": "…"},   RAM user, only sts:AssumeRole
     "role_arn":  "acs:ram::1234567890123456:role/workbook-uploader",
     "app_users": [{"username": "alice", "password": "…"}, {"username": "bob", …}],
     "ram": {"users": {"appserver": {"access_key_id": "LTAI…", "policies": [<policy doc>]}},
             "roles": {"workbook-uploader": {"role_id": "3…", "max_session_duration": 3600,
                                              "trust_policy": <doc>, "policies": [<doc>]}}}}

Secrets appear only in `admin`, `appserver` and `app_users`. The file is created with mode 0600.
This module imports nothing from Starlette.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_BUCKET = "workbook"
DEFAULT_REGION = "cn-hangzhou"
ROLE_NAME = "workbook-uploader"
_ALNUM = string.ascii_letters + string.digits


def _random(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def new_access_key_id() -> str:
    """A long-term AccessKey ID in Alibaba's shape (`LTAI` + 20 alphanumerics)."""
    return "LTAI5t" + _random(_ALNUM, 18)


def new_access_key_secret() -> str:
    return _random(_ALNUM, 30)


def role_policy_for_bucket(bucket: str) -> dict[str, Any]:
    """The role's permission policy: full OSS access to the workbook bucket and its objects only."""
    return {"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": "oss:*",
        "Resource": [f"acs:oss:*:*:{bucket}", f"acs:oss:*:*:{bucket}/*"]}]}


def new_credentials(*, bucket: str = DEFAULT_BUCKET) -> dict[str, Any]:
    """A fresh credentials document of the contract's shape, with random keys and passwords."""
    account_id = "1" + _random(string.digits, 15)
    role_arn = f"acs:ram::{account_id}:role/{ROLE_NAME}"
    appserver_ak = new_access_key_id()
    return {
        "account_id": account_id,
        "admin": {"access_key_id": new_access_key_id(), "access_key_secret": new_access_key_secret()},
        "appserver": {"access_key_id": appserver_ak, "access_key_secret": new_access_key_secret()},
        "role_arn": role_arn,
        "app_users": [{"username": name, "password": _random(_ALNUM, 16)} for name in ("alice", "bob")],
        "ram": {
            "users": {"appserver": {"access_key_id": appserver_ak, "policies": [{
                "Version": "1",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}]}]}},
            "roles": {ROLE_NAME: {
                "role_id": "3" + _random(string.digits, 17),
                "max_session_duration": 3600,
                "trust_policy": {"Version": "1", "Statement": [{
                    "Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"RAM": [f"acs:ram::{account_id}:root"]}}]},
                "policies": [role_policy_for_bucket(bucket)]}},
        },
    }


def load_or_create(path: Path, *, bucket: str = DEFAULT_BUCKET) -> tuple[dict[str, Any], bool]:
    """Read the credentials file, creating it (mode 0600) when missing. Returns (document, created)."""
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8")), False
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = new_credentials(bucket=bucket)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return doc, True


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a long-term AccessKey belongs to. `kind` is `account` (root) or `ram_user`."""

    kind: str
    name: str
    account_id: str
    arn: str
    access_key_id: str
    secret: str = field(repr=False)
    policies: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    arn: str
    role_id: str
    account_id: str
    max_session_duration: int
    trust_policy: dict[str, Any]
    policies: tuple[dict[str, Any], ...]


class Accounts:
    """Look-ups over a loaded credentials document: AccessKey → Identity, role ARN → Role."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.account_id: str = doc["account_id"]
        self._by_ak: dict[str, Identity] = {}
        admin = doc["admin"]
        self._add(Identity("account", "root", self.account_id, f"acs:ram::{self.account_id}:root",
                           admin["access_key_id"], admin["access_key_secret"]))
        ram = doc.get("ram", {})
        users = ram.get("users", {})
        appserver = doc["appserver"]
        app_policies = tuple(users.get("appserver", {}).get("policies", []))
        self._add(Identity("ram_user", "appserver", self.account_id,
                           f"acs:ram::{self.account_id}:user/appserver",
                           appserver["access_key_id"], appserver["access_key_secret"], app_policies))
        for name, user in users.items():
            if name == "appserver" or "access_key_secret" not in user:
                continue
            self._add(Identity("ram_user", name, self.account_id, f"acs:ram::{self.account_id}:user/{name}",
                               user["access_key_id"], user["access_key_secret"],
                               tuple(user.get("policies", []))))
        self.roles: dict[str, Role] = {}
        for name, role in ram.get("roles", {}).items():
            arn = f"acs:ram::{self.account_id}:role/{name}"
            self.roles[arn.lower()] = Role(name, arn, str(role["role_id"]), self.account_id,
                                           int(role.get("max_session_duration", 3600)),
                                           role["trust_policy"], tuple(role.get("policies", [])))

    def _add(self, ident: Identity) -> None:
        self._by_ak[ident.access_key_id] = ident

    def identity(self, access_key_id: str) -> Identity | None:
        """The long-term identity owning this AccessKey ID, or None."""
        return self._by_ak.get(access_key_id)

    def role(self, arn: str) -> Role | None:
        """The role with this ARN (role names are case-insensitive in RAM), or None."""
        return self.roles.get(arn.lower())
