"""The role's permission policy is derived from the session-policy builder and covers what the
notebooks do, nothing more (evaluated by the local cloud's RAM policy engine, reference §11.5)."""

from __future__ import annotations

import json

import pytest

from helpers.appserver.services.sts import SCOPE_ACTIONS, role_permission_policy, session_policy
from helpers.lessons import permissions
from helpers.localcloud.ram.policy import Decision, evaluate, parse_policy
from helpers.protocol import scopes
from helpers.widgets import ACTIONS as CONSOLE_ACTIONS

BUCKET = "workbook-1234567890123456-cn-hangzhou"


def _allowed(action: str, key: str | None, prefix: str | None = None, *, bucket: str = BUCKET,
             extra: list[dict] | None = None) -> bool:
    resource = f"acs:oss:cn-hangzhou:1234567890123456:{bucket}" + (f"/{key}" if key is not None else "")
    context = {"oss:Prefix": prefix} if prefix is not None else {}
    policies = [role_permission_policy(BUCKET), *(extra or [])]
    decisions = [evaluate([p], action=action, resource=resource, context=context) for p in policies]
    return all(d == Decision.ALLOW for d in decisions)


def test_it_is_a_valid_policy_under_the_length_limit() -> None:
    doc = role_permission_policy(BUCKET)
    parse_policy(doc)     # the grammar STS and RAM check
    assert len(json.dumps(doc, separators=(",", ":"))) <= 6144   # RAM's custom-policy limit (ram-api.md §4.3)


@pytest.mark.parametrize("scope", list(SCOPE_ACTIONS))
def test_every_session_policy_fits_inside_the_role(scope: str) -> None:
    """Each action a session grants is granted by the role on that user's folder (else STS's
    intersection would silently take it away)."""
    for statement in session_policy(bucket=BUCKET, username="carol", scope=scope)["Statement"]:  # type: ignore[arg-type]
        for action in statement["Action"]:
            assert _allowed(action, "users/carol/photos/x.jpg"), action


def test_the_notebooks_developer_sessions_fit_inside_the_role() -> None:
    """07's example policies and 08's console ask only for what the role has, in a user's folder."""
    for action in CONSOLE_ACTIONS:
        policy = scopes.folder_policy(bucket=BUCKET, username="alice", actions=(action,))
        st = policy["Statement"][0]
        if action == "oss:ListObjects":
            assert _allowed(action, None, "users/alice/", extra=[policy])
        else:
            assert _allowed(action, "users/alice/console/hello.txt", extra=[policy]), st
    read_only = permissions.read_only_photos(BUCKET, "alice")
    assert _allowed("oss:ListObjects", None, "users/alice/photos/", extra=[read_only])
    assert _allowed("oss:DeleteObject", "users/alice/photos/matrix-probe.txt")   # Book.delete_objects


@pytest.mark.parametrize(("action", "key", "prefix", "bucket"), [
    ("oss:PutObject", "index.html", None, BUCKET),                  # outside users/
    ("oss:GetObject", "users", None, BUCKET),
    ("oss:ListObjects", None, None, BUCKET),                         # a listing of the whole bucket
    ("oss:ListObjects", None, "", BUCKET),
    ("oss:PutObject", "users/alice/x", None, permissions.other_bucket(BUCKET)),   # notebook 07's ✗ column
    ("oss:PutBucketAcl", None, None, BUCKET),
    ("oss:DeleteBucket", None, None, BUCKET),
    ("oss:PutObjectAcl", "users/alice/x", None, BUCKET),
    ("oss:ListMultipartUploads", None, "users/alice/", BUCKET),
])
def test_nothing_more(action: str, key: str | None, prefix: str | None, bucket: str) -> None:
    assert not _allowed(action, key, prefix, bucket=bucket)


def test_the_second_bucket_is_derived_from_the_first() -> None:
    assert permissions.other_bucket(BUCKET) == BUCKET + "-other"
    assert permissions.other_bucket("workbook") == "workbook-other"   # the local cloud's, as before
