"""Permission control (权限控制) made visible: session policies and a live policy × operation matrix.

    policies = permissions.example_policies(book.bucket, "alice")   # name -> session policy
    table = permissions.matrix(book, policies)                       # real AssumeRole + real requests
    table                                                            # ✓ / ✗ per (policy, operation)

Each row is one AssumeRole with the candidate session policy (the developer's view,
`book.assume_role`), then every operation is tried against OSS with those temporary credentials
through oss2: the answer (2xx, or 403 AccessDenied) is the cell. Nothing is predicted locally.
Fixtures (`users/<user>/photos/cat.jpg`, the sample photo, for each demo user) are written through
the users' own app clients, so no admin key is involved. Imports nothing from `helpers.localcloud`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import oss2

from helpers import sample_data
from helpers.protocol import scopes
from helpers.protocol.scopes import oss_arn as _arn
from helpers.protocol.scopes import other_bucket as other_bucket  # the lesson's second bucket
from helpers.protocol.scopes import user_prefix

if TYPE_CHECKING:
    from helpers.workbook import Book

Policy = dict[str, Any]
Operation = Callable[[oss2.Bucket, oss2.Bucket, str, str], object]

FIXTURE = "photos/cat.jpg"  # the sample photo of data/ (helpers.sample_data.PHOTO)
PROBE = "photos/matrix-probe.txt"


def upload_scope(bucket: str, user: str) -> Policy:
    """What the app server grants for scope=upload (`helpers.protocol.scopes.session_policy`)."""
    return scopes.session_policy(bucket=bucket, username=user, scope="upload")


def download_scope(bucket: str, user: str) -> Policy:
    """What the app server grants for scope=download (`helpers.protocol.scopes.session_policy`)."""
    return scopes.session_policy(bucket=bucket, username=user, scope="download")


def read_only_photos(bucket: str, user: str) -> Policy:
    """Read and list `users/<user>/photos/` only: GetObject on the objects, ListObjects on the bucket
    limited by the `oss:Prefix` condition (listing is a bucket-level action)."""
    return {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:GetObject"],
                "Resource": [_arn(bucket, user_prefix(user) + "photos/*")],
            },
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": [_arn(bucket)],
                "Condition": {"StringLike": {"oss:Prefix": [user_prefix(user) + "photos/*"]}},
            },
        ],
    }


def explicit_deny(bucket: str, user: str) -> Policy:
    """Everything in the user's folder except deleting: an explicit Deny beats any Allow."""
    return {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:*"],
                "Resource": [_arn(bucket, user_prefix(user) + "*"), _arn(bucket)],
            },
            {"Effect": "Deny", "Action": ["oss:DeleteObject"], "Resource": [_arn(bucket, "*")]},
        ],
    }


def example_policies(bucket: str, user: str) -> dict[str, Policy]:
    return {
        "upload scope": upload_scope(bucket, user),
        "download scope": download_scope(bucket, user),
        "read-only photos": read_only_photos(bucket, user),
        "allow all, deny delete": explicit_deny(bucket, user),
    }


def policy_json(policy: Mapping[str, Any]) -> str:
    """The policy as the JSON text AssumeRole receives (indented for reading)."""
    return json.dumps(policy, indent=2, ensure_ascii=False)


def show(policy: Mapping[str, Any]) -> None:
    print(policy_json(policy))


def least_privilege() -> list[dict[str, str]]:
    """What each app-server scope grants, and why not more (rows for `workbook.show_table`)."""
    return [
        {
            "task": "upload a file",
            "scope": "upload",
            "actions": "PutObject, AbortMultipartUpload, ListParts",
            "not granted": "GetObject, DeleteObject, ListObjects",
        },
        {
            "task": "download a file",
            "scope": "download",
            "actions": "GetObject",
            "not granted": "PutObject, DeleteObject, ListObjects",
        },
        {
            "task": "(both)",
            "scope": "-",
            "actions": "only users/<you>/*, 15 minutes",
            "not granted": "other users' folders, other buckets",
        },
    ]


def leaked_key_vs_token() -> list[dict[str, str]]:
    """What an attacker who unpacks the app gets, with the developer's AccessKey inside it versus
    a token the app was handed (rows for `workbook.show_table`)."""
    return [
        {
            "attacker holds": "AccessKey in the app binary",
            "reaches": "every app user's files (all the role allows)",
            "for how long": "until someone notices and rotates the key",
            "revoke": "rotate, ship a new app",
        },
        {
            "attacker holds": "an STS token from the app",
            "reaches": "users/<that user>/*, the scope's actions",
            "for how long": "at most 15 minutes",
            "revoke": "wait; stop issuing to that user",
        },
    ]


# ----------------------------------------------------------------------------------------- operations


def _list(b: oss2.Bucket, prefix: str) -> object:
    return b.list_objects(prefix=prefix, max_keys=10)


OPERATIONS: dict[str, Operation] = {
    "Put own": lambda b, other, me, them: b.put_object(user_prefix(me) + PROBE, b"probe"),
    "Get own": lambda b, other, me, them: b.get_object(user_prefix(me) + FIXTURE).read(),
    "List own": lambda b, other, me, them: _list(b, user_prefix(me) + "photos/"),
    "Delete own": lambda b, other, me, them: b.delete_object(user_prefix(me) + PROBE),
    "Get other's": lambda b, other, me, them: b.get_object(user_prefix(them) + FIXTURE).read(),
    "Put other's": lambda b, other, me, them: b.put_object(user_prefix(them) + PROBE, b"probe"),
    "Put other bucket": lambda b, other, me, them: other.put_object(user_prefix(me) + PROBE, b"probe"),
}


@dataclass(frozen=True)
class Outcome:
    allowed: bool
    code: str = ""  # the OSS error code when refused

    @property
    def mark(self) -> str:
        return "✓" if self.allowed else "✗"


@dataclass
class Matrix:
    """Rows are policies, columns operations; `repr` is the ✓/✗ table the notebook shows."""

    user: str
    other: str
    operations: list[str]
    rows: dict[str, dict[str, Outcome]] = field(default_factory=dict)

    def allowed(self, policy: str) -> set[str]:
        return {op for op, o in self.rows[policy].items() if o.allowed}

    def __repr__(self) -> str:
        width = max([len(p) for p in self.rows] + [6])
        head = " | ".join(op for op in self.operations)
        lines = [f"{'policy':<{width}} | {head}", "-" * (width + 3 + len(head))]
        for policy, cells in self.rows.items():
            marks = " | ".join(f"{cells[op].mark:^{len(op)}}" for op in self.operations)
            lines.append(f"{policy:<{width}} | {marks}")
        codes = sorted({o.code for cells in self.rows.values() for o in cells.values() if o.code})
        lines.append(f"(user {self.user}, other user {self.other}; ✗ answers: {', '.join(codes) or 'none'})")
        return "\n".join(lines)


def seed_fixtures(book: Book, users: tuple[str, ...] = ("alice", "bob")) -> None:
    """Write `users/<u>/photos/cat.jpg` (the sample photo) for each user through that user's own app
    client."""
    for user in users:
        book.client(user).upload(FIXTURE, sample_data.PHOTO, content_type="image/jpeg")


def sts_buckets(book: Book, creds: Mapping[str, str]) -> tuple[oss2.Bucket, oss2.Bucket]:
    """The workbook bucket and the other bucket, through oss2 with these temporary credentials (V4),
    recorded for the diagrams."""
    auth = oss2.StsAuth(
        creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"], auth_version="v4"
    )
    session = oss2.Session()
    book.recorder.install_requests(session.session, "OSS")  # so diagrams show what OSS answered
    bucket = oss2.Bucket(auth, book.oss_endpoint, book.bucket, region=book.region, session=session)
    second = oss2.Bucket(auth, book.oss_endpoint, other_bucket(book.bucket), region=book.region,
                         session=session)
    return bucket, second


def try_operations(
    book: Book,
    creds: Mapping[str, str],
    user: str,
    other: str,
    operations: Mapping[str, Operation] | None = None,
) -> dict[str, Outcome]:
    """Run each operation with the temporary credentials; OSS's answer decides ✓ or ✗."""
    bucket, second = sts_buckets(book, creds)
    out: dict[str, Outcome] = {}
    for name, op in (operations or OPERATIONS).items():
        try:
            op(bucket, second, user, other)
            out[name] = Outcome(True)
        except oss2.exceptions.ServerError as exc:
            out[name] = Outcome(False, str(exc.code))
    return out


def matrix(
    book: Book, policies: Mapping[str, Mapping[str, Any] | None], *, user: str = "alice", other: str = "bob"
) -> Matrix:
    """AssumeRole once per policy (session name `<user>-matrix`) and try every operation. A policy of
    None means no session policy: the credentials get the role's whole permission."""
    seed_fixtures(book, (user, other))
    table = Matrix(user, other, list(OPERATIONS))
    for name, policy in policies.items():
        creds = book.assume_role(None if policy is None else dict(policy), session_name=f"{user}-matrix")
        table.rows[name] = try_operations(book, creds, user, other)
    return table


def cleanup(book: Book, users: tuple[str, ...] = ("alice", "bob"), extra: list[str] | None = None) -> None:
    """Delete the fixtures and probes, and `extra` keys (e.g. an exercise's `created_keys()`), in one
    call (the developer's view: `book.delete_objects`)."""
    book.delete_objects([user_prefix(u) + rel for u in users for rel in (FIXTURE, PROBE)] + list(extra or []))
