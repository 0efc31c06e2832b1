"""The user-prefix rule and the policies built on it (RAM policy grammar: reference ram-api.md).

An app user's temporary credentials, signed URLs and forms reach `users/<uid>/*` and nothing else;
the session policy of each scope grants the fewest actions that scope needs:

    upload   oss:PutObject (Put, Post, Initiate/UploadPart/Complete multipart),
             oss:AbortMultipartUpload, oss:ListParts
    download oss:GetObject (Get, Head)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

Scope = Literal["upload", "download"]
Policy = dict[str, Any]

USERS_ROOT = "users/"          # the folder holding every app user's folder
SCOPE_ACTIONS: dict[str, tuple[str, ...]] = {
    "upload": ("oss:PutObject", "oss:AbortMultipartUpload", "oss:ListParts"),
    "download": ("oss:GetObject",),
}
# What the developer's own key does with the role, beyond the app users' scopes: delete fixtures
# (`Book.delete_objects`, notebooks 07 and 08, the exercises) and list a folder (notebook 07's
# matrix, notebook 08's custom tokens). Listing is a bucket-level action (reference §11.2).
DEVELOPER_OBJECT_ACTIONS = ("oss:DeleteObject",)
DEVELOPER_BUCKET_ACTIONS = ("oss:ListObjects",)
LIST_ACTION = "oss:ListObjects"


def user_prefix(uid: str) -> str:
    """`users/<uid>/`: the only folder an app user's credentials and URLs can reach (`*`: every user)."""
    return f"{USERS_ROOT}{uid}/"


def oss_arn(bucket: str, path: str = "") -> str:
    """`acs:oss:*:*:<bucket>` or `acs:oss:*:*:<bucket>/<path>` (a RAM resource name)."""
    return f"acs:oss:*:*:{bucket}" + (f"/{path}" if path else "")


def session_policy(*, bucket: str, username: str, scope: Scope) -> Policy:
    """The RAM session policy of one (user, scope); intersected with the role's policy by STS."""
    return {"Version": "1", "Statement": [{
        "Effect": "Allow",
        "Action": list(SCOPE_ACTIONS[scope]),
        "Resource": [oss_arn(bucket, user_prefix(username) + "*")],
    }]}


def folder_policy(*, bucket: str, username: str, actions: Iterable[str]) -> Policy:
    """A session policy granting `actions` inside one user's folder: object actions on its objects,
    `oss:ListObjects` on the bucket limited by an `oss:Prefix` condition (listing is bucket-level)."""
    actions = tuple(actions)
    objects = [a for a in actions if a != LIST_ACTION]
    statements: list[dict[str, Any]] = []
    if objects:
        statements.append({"Effect": "Allow", "Action": objects,
                           "Resource": [oss_arn(bucket, user_prefix(username) + "*")]})
    if LIST_ACTION in actions:
        statements.append({"Effect": "Allow", "Action": [LIST_ACTION], "Resource": [oss_arn(bucket)],
                           "Condition": {"StringLike": {"oss:Prefix": [user_prefix(username) + "*"]}}})
    return {"Version": "1", "Statement": statements}


def role_permission_policy(bucket: str) -> Policy:
    """The role's permission policy: exactly what the app users' session policies and the notebooks'
    developer-key sessions can ask for, on every app user's folder of `bucket` and nothing else.

    Built from `session_policy` itself (with every user, `*`), so a new scope action can never be
    missing from the role: STS grants the intersection of the two, and each session narrows it to
    one user's folder. `python -m helpers.provision up` attaches this."""
    every_user = [session_policy(bucket=bucket, username="*", scope=scope)["Statement"][0]
                  for scope in ("upload", "download")]
    object_actions = sorted({a for st in every_user for a in st["Action"]} | set(DEVELOPER_OBJECT_ACTIONS))
    resources = sorted({r for st in every_user for r in st["Resource"]})
    return {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": object_actions, "Resource": resources},
        {"Effect": "Allow", "Action": list(DEVELOPER_BUCKET_ACTIONS), "Resource": [oss_arn(bucket)],
         "Condition": {"StringLike": {"oss:Prefix": [user_prefix("*")]}}},
    ]}


def other_bucket(bucket: str) -> str:
    """The second bucket of the matrix's "Put other bucket" column: `<bucket>-other`. Derived, since
    bucket names are global on Alibaba Cloud; `python -m helpers.provision up` creates it there, so
    OSS refuses for want of permission (AccessDenied) rather than for want of a bucket."""
    return f"{bucket}-other"
