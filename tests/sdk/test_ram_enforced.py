"""What RAM creates is what STS and OSS enforce: a user, key, role and policies made through the RAM
SDK, then AssumeRole through the STS SDK, then oss2 PutObject allowed or denied exactly as the
attached policies (∩ the session policy) say. Also: RAM's state survives a restart.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import oss2
import pytest
from alibabacloud_ram20150501 import models as m
from alibabacloud_ram20150501.client import Client as TeaRamClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as TeaStsClient
from alibabacloud_tea_openapi import utils_models as open_api_models

from helpers.localcloud.server import LocalCloudServer
from tests.sdk.ram_clients import REGION, Key, policy_doc, start_cloud, tea, tea_error, trust_root


@dataclass
class Account:
    cloud: LocalCloudServer
    root: Key
    ram: TeaRamClient
    bucket: str

    @property
    def account_id(self) -> str:
        return self.cloud.ctx.accounts.account_id

    def role_arn(self, name: str) -> str:
        return f"acs:ram::{self.account_id}:role/{name.lower()}"

    def user_with_key(self, name: str, *system_policies: str) -> Key:
        self.ram.create_user(m.CreateUserRequest(user_name=name))
        for policy in system_policies:
            self.ram.attach_policy_to_user(
                m.AttachPolicyToUserRequest(policy_type="System", policy_name=policy, user_name=name)
            )
        key = self.ram.create_access_key(m.CreateAccessKeyRequest(user_name=name)).body.access_key
        return Key(key.access_key_id, key.access_key_secret)

    def custom_policy(self, name: str, document: str) -> str:
        self.ram.create_policy(m.CreatePolicyRequest(policy_name=name, policy_document=document))
        return name

    def assume(self, key: Key, role: str, policy: str | None = None) -> oss2.StsAuth:
        c = self.assume_raw(key, role, policy)
        return oss2.StsAuth(c.access_key_id, c.access_key_secret, c.security_token)

    def assume_raw(self, key: Key, role: str, policy: str | None = None) -> Any:
        """AssumeRole through the tea STS SDK: its `Credentials` model."""
        cfg = open_api_models.Config(
            access_key_id=key.access_key_id,
            access_key_secret=key.access_key_secret,
            endpoint=urlsplit(self.cloud.sts_endpoint).netloc,
            protocol="http",
            region_id=REGION,
        )
        c = (
            TeaStsClient(cfg)
            .assume_role(
                sts_models.AssumeRoleRequest(
                    role_arn=self.role_arn(role), role_session_name="e2e", policy=policy
                )
            )
            .body.credentials
        )
        return c

    def put(self, auth: oss2.AuthBase, key: str) -> int:
        """oss2 PutObject: the HTTP status, 200 or the refusal's (AccessDenied is checked)."""
        try:
            return oss2.Bucket(auth, self.cloud.oss_endpoint, self.bucket).put_object(key, b"x").status
        except oss2.exceptions.AccessDenied as exc:
            return exc.status


@pytest.fixture(scope="module")
def acct(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    server, root = start_cloud(tmp_path_factory.mktemp("ram-e2e"))
    try:
        bucket = "e2e-bucket"
        oss2.Bucket(
            oss2.Auth(root.access_key_id, root.access_key_secret), server.oss_endpoint, bucket
        ).create_bucket()
        yield Account(server, root, tea(server.ram_endpoint, root), bucket)
    finally:
        server.stop()


def _role(acct: Account, name: str, *policies: str, trust: str | None = None) -> str:
    acct.ram.create_role(
        m.CreateRoleRequest(role_name=name, assume_role_policy_document=trust or trust_root(acct.account_id))
    )
    for policy in policies:
        acct.ram.attach_policy_to_role(
            m.AttachPolicyToRoleRequest(policy_type="Custom", policy_name=policy, role_name=name)
        )
    return name


def _writer_policy(acct: Account, name: str, prefix: str) -> str:
    return acct.custom_policy(
        name,
        policy_doc(
            {"Effect": "Allow", "Action": "oss:PutObject", "Resource": f"acs:oss:*:*:{acct.bucket}/{prefix}*"}
        ),
    )


def test_ram_made_identities_are_enforced_by_sts_and_oss(acct: Account, unique: Callable[[str], str]) -> None:
    role = _role(acct, unique("writer"), _writer_policy(acct, unique("w"), "allowed/"))
    assume = acct.custom_policy(
        unique("a"),
        policy_doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": acct.role_arn(role)}),
    )
    user = unique("app")
    key = acct.user_with_key(user)
    acct.ram.attach_policy_to_user(
        m.AttachPolicyToUserRequest(policy_type="Custom", policy_name=assume, user_name=user)
    )
    auth = acct.assume(key, role)
    assert acct.put(auth, "allowed/a.txt") == 200
    assert acct.put(auth, "other/a.txt") == 403
    # The session policy can only narrow: role policies ∩ session policy.
    narrowed = acct.assume(
        key,
        role,
        policy_doc(
            {
                "Effect": "Allow",
                "Action": "oss:PutObject",
                "Resource": f"acs:oss:*:*:{acct.bucket}/allowed/a/*",
            }
        ),
    )
    assert acct.put(narrowed, "allowed/a/x.txt") == 200
    assert acct.put(narrowed, "allowed/b/x.txt") == 403
    # Policies are evaluated at request time: detaching the role's policy closes existing sessions.
    acct.ram.detach_policy_from_role(
        m.DetachPolicyFromRoleRequest(
            policy_type="Custom",
            policy_name=acct.ram.list_policies_for_role(m.ListPoliciesForRoleRequest(role_name=role))
            .body.policies.policy[0]
            .policy_name,
            role_name=role,
        )
    )
    assert acct.put(auth, "allowed/a.txt") == 403


def test_assume_role_needs_the_users_permission_and_the_roles_trust(
    acct: Account, unique: Callable[[str], str]
) -> None:
    role = _role(acct, unique("writer"), _writer_policy(acct, unique("w"), ""))
    no_assume = acct.user_with_key(unique("plain"))
    with pytest.raises(Exception) as info:
        acct.assume(no_assume, role)
    assert tea_error(info.value) == (403, "NoPermission")
    may_assume = acct.user_with_key(unique("assumer"), "AliyunSTSAssumeRoleAccess")
    assert acct.put(acct.assume(may_assume, role), "any.txt") == 200
    # A trust policy naming another user shuts this one out.
    acct.ram.update_role(
        m.UpdateRoleRequest(
            role_name=role,
            new_assume_role_policy_document=trust_root(acct.account_id).replace(
                ":root", ":user/someone-else"
            ),
        )
    )
    with pytest.raises(Exception) as info:
        acct.assume(may_assume, role)
    assert tea_error(info.value) == (403, "NoPermission")


def test_ram_user_keys_sign_oss_with_their_own_policies(acct: Account, unique: Callable[[str], str]) -> None:
    user = unique("direct")
    key = acct.user_with_key(user)
    auth = oss2.Auth(key.access_key_id, key.access_key_secret)
    assert acct.put(auth, "direct.txt") == 403
    acct.ram.attach_policy_to_user(
        m.AttachPolicyToUserRequest(policy_type="System", policy_name="AliyunOSSFullAccess", user_name=user)
    )
    assert acct.put(auth, "direct.txt") == 200
    keys = acct.ram.list_access_keys(m.ListAccessKeysRequest(user_name=user)).body.access_keys.access_key
    acct.ram.delete_access_key(
        m.DeleteAccessKeyRequest(user_name=user, user_access_key_id=keys[0].access_key_id)
    )
    with pytest.raises(oss2.exceptions.ServerError) as info:
        oss2.Bucket(auth, acct.cloud.oss_endpoint, acct.bucket).put_object("direct.txt", b"x")
    assert info.value.code == "InvalidAccessKeyId"


def test_a_role_session_calls_ram_with_the_roles_ram_permissions(
    acct: Account, unique: Callable[[str], str]
) -> None:
    role = _role(acct, unique("ram-reader"))
    acct.ram.attach_policy_to_role(
        m.AttachPolicyToRoleRequest(
            policy_type="System", policy_name="AliyunRAMReadOnlyAccess", role_name=role
        )
    )
    sts = acct.assume_raw(acct.user_with_key(unique("assumer"), "AliyunSTSAssumeRoleAccess"), role)
    cfg = open_api_models.Config(
        access_key_id=sts.access_key_id,
        access_key_secret=sts.access_key_secret,
        security_token=sts.security_token,
        endpoint=urlsplit(acct.cloud.ram_endpoint).netloc,
        protocol="http",
        region_id=REGION,
    )
    session = TeaRamClient(cfg)
    assert role in {r.role_name for r in session.list_roles(m.ListRolesRequest()).body.roles.role}
    with pytest.raises(Exception) as info:
        session.create_user(m.CreateUserRequest(user_name=unique("x")))
    assert tea_error(info.value) == (403, "NoPermission")


def test_ram_state_survives_a_restart(tmp_path: Path) -> None:
    server, root = start_cloud(tmp_path)
    try:
        ram = tea(server.ram_endpoint, root)
        ram.create_user(m.CreateUserRequest(user_name="kept"))
        ram.attach_policy_to_user(
            m.AttachPolicyToUserRequest(
                policy_type="System", policy_name="AliyunRAMReadOnlyAccess", user_name="kept"
            )
        )
        raw = ram.create_access_key(m.CreateAccessKeyRequest(user_name="kept")).body.access_key
        ram.create_role(
            m.CreateRoleRequest(
                role_name="kept-role", assume_role_policy_document=trust_root(server.ctx.accounts.account_id)
            )
        )
    finally:
        server.stop()
    state_file = tmp_path / "ram.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert raw.access_key_secret in state_file.read_text()  # secrets live only in this 0600 file
    again, root_again = start_cloud(tmp_path)
    try:
        assert root_again == root
        user = tea(again.ram_endpoint, Key(raw.access_key_id, raw.access_key_secret))
        assert [u.user_name for u in user.list_users(m.ListUsersRequest()).body.users.user] == ["kept"]
        assert user.get_role(m.GetRoleRequest(role_name="kept-role")).body.role.role_name == "kept-role"
        assert json.loads(state_file.read_text())["account_id"] == again.ctx.accounts.account_id
    finally:
        again.stop()
