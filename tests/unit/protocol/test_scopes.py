"""helpers.protocol.scopes: the user-prefix rule and the policies built on it."""

from __future__ import annotations

from helpers.protocol import scopes


def test_user_prefix() -> None:
    assert scopes.user_prefix("alice") == "users/alice/"
    assert scopes.user_prefix("*") == "users/*/"


def test_session_policy_reaches_only_the_users_folder() -> None:
    policy = scopes.session_policy(bucket="wb", username="alice", scope="upload")
    (statement,) = policy["Statement"]
    assert statement["Resource"] == ["acs:oss:*:*:wb/users/alice/*"]
    assert statement["Action"] == ["oss:PutObject", "oss:AbortMultipartUpload", "oss:ListParts"]
    download = scopes.session_policy(bucket="wb", username="alice", scope="download")
    assert download["Statement"][0]["Action"] == ["oss:GetObject"]


def test_folder_policy_lists_with_a_prefix_condition() -> None:
    policy = scopes.folder_policy(bucket="wb", username="bob", actions=("oss:GetObject", "oss:ListObjects"))
    objects, listing = policy["Statement"]
    assert objects == {"Effect": "Allow", "Action": ["oss:GetObject"],
                       "Resource": ["acs:oss:*:*:wb/users/bob/*"]}
    assert listing["Resource"] == ["acs:oss:*:*:wb"]
    assert listing["Condition"] == {"StringLike": {"oss:Prefix": ["users/bob/*"]}}
    assert scopes.folder_policy(bucket="wb", username="bob", actions=())["Statement"] == []


def test_role_policy_covers_every_scope_for_every_user() -> None:
    role = scopes.role_permission_policy("wb")
    objects, listing = role["Statement"]
    for actions in scopes.SCOPE_ACTIONS.values():
        assert set(actions) <= set(objects["Action"])
    assert set(scopes.DEVELOPER_OBJECT_ACTIONS) <= set(objects["Action"])
    assert objects["Resource"] == ["acs:oss:*:*:wb/users/*/*"]
    assert listing["Condition"] == {"StringLike": {"oss:Prefix": ["users/*/"]}}


def test_the_lessons_scopes_are_the_app_servers() -> None:
    """Notebook 05 prints `permissions.download_scope`: it must be exactly what the app server sends."""
    from helpers.lessons import permissions

    for scope, lesson in (("upload", permissions.upload_scope), ("download", permissions.download_scope)):
        assert lesson("wb", "alice") == scopes.session_policy(bucket="wb", username="alice", scope=scope)
