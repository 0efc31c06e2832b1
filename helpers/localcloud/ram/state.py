"""RAM's state for one account: the owner's keys, users (with AccessKeys), roles, custom policies
and their attachments, plus the built-in System policy catalogue. OSS and STS authorize against it.

Persisted as one JSON file (mode 0600: it holds AccessKey secrets), rewritten atomically after each
change (`RamState.transaction()`), so it survives a restart. Names are unique case-insensitively
(entities are keyed by `casefold()` and keep their spelling) [unverified, ram-api.md §10].
Pure model code: imports nothing from Starlette or the wire layer.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import string
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SYSTEM = "System"
CUSTOM = "Custom"
SYSTEM_CREATE_DATE = 1420070400   # 2015-01-01T00:00:00Z: System policies predate every account


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


# A small catalogue of Alibaba-managed policies: the names provisioning commonly attaches (ram-api.md
# §4.3). Documents are simplified to the actions the local cloud knows [unverified: real documents
# list more services and actions].
SYSTEM_POLICIES: dict[str, tuple[str, str]] = {
    "AdministratorAccess": ("Provides full access to Alibaba Cloud services and resources.",
                            _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})),
    "AliyunOSSFullAccess": ("Provides full access to Object Storage Service (OSS) via Management Console.",
                            _doc({"Effect": "Allow", "Action": "oss:*", "Resource": "*"})),
    "AliyunOSSReadOnlyAccess": ("Provides read-only access to Object Storage Service (OSS) via Management "
                                "Console.",
                                _doc({"Effect": "Allow", "Action": ["oss:Get*", "oss:List*"],
                                      "Resource": "*"})),
    "AliyunSTSAssumeRoleAccess": ("Provides access to assume role via STS.",
                                  _doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})),
    "AliyunRAMFullAccess": ("Provides full access to Resource Access Management (RAM).",
                            _doc({"Effect": "Allow", "Action": "ram:*", "Resource": "*"})),
    "AliyunRAMReadOnlyAccess": ("Provides read-only access to Resource Access Management (RAM).",
                                _doc({"Effect": "Allow", "Action": ["ram:Get*", "ram:List*"],
                                      "Resource": "*"})),
}


def new_digits(first: str, n: int) -> str:
    """An ID of `n` digits starting with `first` (UserId / RoleId shape)."""
    return first + "".join(secrets.choice(string.digits) for _ in range(n - 1))


@dataclass
class AccessKey:
    access_key_id: str
    secret: str = field(repr=False)
    create_date: int
    status: str = "Active"


@dataclass
class Attachment:
    policy_type: str
    policy_name: str
    attach_date: int


@dataclass
class User:
    name: str
    user_id: str
    create_date: int
    update_date: int
    display_name: str = ""
    mobile_phone: str = ""
    email: str = ""
    comments: str = ""
    access_keys: list[AccessKey] = field(default_factory=list)
    policies: list[Attachment] = field(default_factory=list)


@dataclass
class Role:
    name: str
    role_id: str
    trust_policy: str                  # the document as text, as RAM returns it
    max_session_duration: int
    create_date: int
    update_date: int
    description: str = ""
    policies: list[Attachment] = field(default_factory=list)


@dataclass
class PolicyVersion:
    version_id: str
    document: str
    create_date: int


@dataclass
class Policy:
    name: str
    policy_type: str
    description: str
    default_version: str
    create_date: int
    update_date: int
    versions: list[PolicyVersion] = field(default_factory=list)
    next_version: int = 2

    def version(self, version_id: str) -> PolicyVersion | None:
        return next((v for v in self.versions if v.version_id == version_id), None)

    @property
    def document(self) -> str:
        """The default version's document."""
        v = self.version(self.default_version)
        return v.document if v else _doc()


@dataclass
class RamData:
    account_id: str
    root_keys: list[AccessKey] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)          # casefold(name) → User
    roles: dict[str, Role] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)     # Custom only

    def to_json(self) -> dict[str, Any]:
        return {"version": 1, **asdict(self)}

    @staticmethod
    def from_json(doc: dict[str, Any]) -> RamData:
        def keys(items: list[dict[str, Any]]) -> list[AccessKey]:
            return [AccessKey(**k) for k in items]

        def attached(items: list[dict[str, Any]]) -> list[Attachment]:
            return [Attachment(**a) for a in items]

        users = {k: User(**{**u, "access_keys": keys(u["access_keys"]), "policies": attached(u["policies"])})
                 for k, u in doc["users"].items()}
        roles = {k: Role(**{**r, "policies": attached(r["policies"])}) for k, r in doc["roles"].items()}
        policies = {k: Policy(**{**p, "versions": [PolicyVersion(**v) for v in p["versions"]]})
                    for k, p in doc["policies"].items()}
        return RamData(doc["account_id"], keys(doc["root_keys"]), users, roles, policies)


def system_policy(name: str) -> Policy | None:
    """The built-in System policy of this name (case-sensitive, as RAM's catalogue), or None."""
    entry = SYSTEM_POLICIES.get(name)
    if entry is None:
        return None
    return Policy(name, SYSTEM, entry[0], "v1", SYSTEM_CREATE_DATE, SYSTEM_CREATE_DATE,
                  [PolicyVersion("v1", entry[1], SYSTEM_CREATE_DATE)])


class RamState:
    """The account's RAM data behind one lock. Read with `data` under `lock`; change inside
    `transaction()`, which persists on success and rolls back (reloads) on an exception."""

    def __init__(self, data: RamData, path: Path | None = None) -> None:
        self.data = data
        self.path = path
        self.lock = threading.RLock()

    @property
    def account_id(self) -> str:
        return self.data.account_id

    @classmethod
    def load(cls, path: Path) -> RamState:
        return cls(RamData.from_json(json.loads(path.read_text(encoding="utf-8"))), path)

    def save(self) -> None:
        """Write the state atomically (tmp file, fsync, rename), mode 0600; no-op when in memory."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.data.to_json(), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[RamData]:
        """Yield the data for a change; persist it if the block succeeds, else undo it."""
        with self.lock:
            snapshot = json.dumps(self.data.to_json())
            try:
                yield self.data
                self.save()
            except BaseException:
                self.data = RamData.from_json(json.loads(snapshot))
                raise

    # ---- look-ups (callers hold no lock; each takes it briefly)

    def key_owner(self, access_key_id: str, *, active_only: bool = True,
                  ) -> tuple[User | None, AccessKey] | None:
        """(None, key) for an owner key, (user, key) for a RAM user's key, else None; with
        `active_only`, an Inactive key counts as absent."""
        with self.lock:
            for key in self.data.root_keys:
                if key.access_key_id == access_key_id and (key.status == "Active" or not active_only):
                    return None, key
            for user in self.data.users.values():
                for key in user.access_keys:
                    if key.access_key_id == access_key_id and (key.status == "Active" or not active_only):
                        return user, key
        return None

    def policy(self, policy_type: str, name: str) -> Policy | None:
        if policy_type == SYSTEM:
            return system_policy(name)
        with self.lock:
            return self.data.policies.get(name.casefold())

    def documents(self, attachments: list[Attachment]) -> tuple[dict[str, Any], ...]:
        """The default-version documents of attached policies (a vanished policy contributes nothing)."""
        docs = []
        for a in attachments:
            p = self.policy(a.policy_type, a.policy_name)
            if p is not None:
                docs.append(json.loads(p.document))
        return tuple(docs)
