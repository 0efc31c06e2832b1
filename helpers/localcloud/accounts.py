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

Identities themselves live in RAM's state (`ram.state.RamState`), which the RAM API changes and
OSS/STS authorize against. On a first start the local profile's state is seeded from this document
(the admin key becomes the owner's key; each user's and role's inline `policies` become Custom
policies named `<name>-policy[-N]`, attached to it). The cloud-shaped profile starts from the
owner's key alone (`new_root_credentials`). This module imports nothing from Starlette.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.localcloud.ram import state as ram

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


def new_root_credentials() -> dict[str, Any]:
    """The cloud-shaped profile's credentials document: the account and its owner's key, nothing else."""
    return {"account_id": "1" + _random(string.digits, 15), "access_key_id": new_access_key_id(),
            "access_key_secret": new_access_key_secret()}


def load_or_create(path: Path, *, bucket: str = DEFAULT_BUCKET, root_only: bool = False,
                   ) -> tuple[dict[str, Any], bool]:
    """Read the credentials file, creating it (mode 0600) when missing. Returns (document, created).
    `root_only` creates the cloud-shaped profile's document (`new_root_credentials`) instead."""
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8")), False
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = new_root_credentials() if root_only else new_credentials(bucket=bucket)
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


def _policy_name(owner: str, index: int) -> str:
    base = "".join(c if c.isalnum() or c == "-" else "-" for c in owner)[:110] + "-policy"
    return base if index == 0 else f"{base}-{index + 1}"


def _seed_policies(data: ram.RamData, owner: str, docs: list[dict[str, Any]], now: int,
                   ) -> list[ram.Attachment]:
    attached = []
    for i, doc in enumerate(docs):
        name = _policy_name(owner, i)
        data.policies[name.casefold()] = ram.Policy(
            name, ram.CUSTOM, f"Seeded from the credentials file for {owner}.", "v1", now, now,
            [ram.PolicyVersion("v1", json.dumps(doc), now)])
        attached.append(ram.Attachment(ram.CUSTOM, name, now))
    return attached


def seed_ram(doc: dict[str, Any], now: int) -> ram.RamData:
    """RAM data equivalent to a credentials document (either profile's shape); see the module doc."""
    if "admin" not in doc:   # cloud-shaped: the owner's key only
        owner = ram.AccessKey(doc["access_key_id"], doc["access_key_secret"], now)
        return ram.RamData(doc["account_id"], [owner])
    data = ram.RamData(doc["account_id"], [ram.AccessKey(doc["admin"]["access_key_id"],
                                                         doc["admin"]["access_key_secret"], now)])
    section = doc.get("ram", {})
    users = dict(section.get("users", {}))
    users.setdefault("appserver", {"policies": []})
    for name, user in users.items():
        if name == "appserver":
            key = doc["appserver"]
        elif "access_key_secret" in user:
            key = user
        else:
            continue
        data.users[name.casefold()] = ram.User(
            name, ram.new_digits("2", 16), now, now,
            access_keys=[ram.AccessKey(key["access_key_id"], key["access_key_secret"], now)],
            policies=_seed_policies(data, name, list(user.get("policies", [])), now))
    for name, role in section.get("roles", {}).items():
        data.roles[name.casefold()] = ram.Role(
            name, str(role["role_id"]), json.dumps(role["trust_policy"]),
            int(role.get("max_session_duration", 3600)), now, now,
            policies=_seed_policies(data, name, list(role.get("policies", [])), now))
    return data


def load_or_seed_ram(path: Path, doc: dict[str, Any], now: int) -> ram.RamState:
    """RAM's persisted state at `path`; seeded from `doc` (and saved) when missing or when it belongs
    to another account (the credentials file was recreated)."""
    if path.exists():
        state = ram.RamState.load(path)
        if state.account_id == doc["account_id"]:
            return state
    state = ram.RamState(seed_ram(doc, now), path)
    state.save()
    return state


class Accounts:
    """Look-ups over RAM's state: AccessKey → Identity, role ARN → Role, both with the policies
    attached at the moment of the call (RAM evaluates at request time)."""

    def __init__(self, doc: dict[str, Any] | None = None, *, state: ram.RamState | None = None) -> None:
        if state is None:
            if doc is None:
                raise ValueError("Accounts needs a credentials document or a RAM state")
            state = ram.RamState(seed_ram(doc, 0))
        self.ram = state
        self.account_id: str = state.account_id

    def identity(self, access_key_id: str) -> Identity | None:
        """The long-term identity owning this (Active) AccessKey ID, or None."""
        found = self.ram.key_owner(access_key_id)
        if found is None:
            return None
        user, key = found
        if user is None:
            return Identity("account", "root", self.account_id, f"acs:ram::{self.account_id}:root",
                            key.access_key_id, key.secret)
        return Identity("ram_user", user.name, self.account_id,
                        f"acs:ram::{self.account_id}:user/{user.name}",
                        key.access_key_id, key.secret, self.ram.documents(user.policies))

    def role_arn(self, name: str) -> str:
        return f"acs:ram::{self.account_id}:role/{name.lower()}"

    def _role(self, role: ram.Role) -> Role:
        return Role(role.name, self.role_arn(role.name), role.role_id, self.account_id,
                    role.max_session_duration, json.loads(role.trust_policy),
                    self.ram.documents(role.policies))

    def role(self, arn: str) -> Role | None:
        """The role with this ARN (role names are case-insensitive in RAM), or None."""
        prefix, sep, name = arn.partition(":role/")
        if not sep or prefix.casefold() != f"acs:ram::{self.account_id}" or "/" in name:
            return None
        with self.ram.lock:
            role = self.ram.data.roles.get(name.casefold())
            return self._role(role) if role else None

    @property
    def roles(self) -> dict[str, Role]:
        """Every role by lower-cased ARN (a snapshot)."""
        with self.ram.lock:
            return {self.role_arn(r.name).lower(): self._role(r) for r in self.ram.data.roles.values()}
