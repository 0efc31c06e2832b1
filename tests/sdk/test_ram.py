"""RAM API conformance: the official RAM SDKs, unmodified, against a fresh cloud-shaped local cloud
(owner key only) on real loopback ports — the create/get/list/attach/detach/delete cycle, error codes
and statuses of ram-api.md §6, signatures, and who may call RAM at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from alibabacloud_ram20150501 import models as m
from alibabacloud_ram20150501.client import Client as TeaRamClient
from aliyunsdkram.request.v20150501.CreateUserRequest import CreateUserRequest
from aliyunsdkram.request.v20150501.GetUserRequest import GetUserRequest
from aliyunsdkram.request.v20150501.ListUsersRequest import ListUsersRequest

from helpers.localcloud.server import LocalCloudServer
from tests.sdk.ram_clients import (
    Key,
    core_call,
    core_error,
    policy_doc,
    start_cloud,
    tea,
    tea_error,
    trust_root,
)

OSS_WRITE = policy_doc({"Effect": "Allow", "Action": "oss:PutObject", "Resource": "acs:oss:*:*:b/*"})


@pytest.fixture(scope="module")
def fresh_and_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloudServer, Key]]:
    server, key = start_cloud(tmp_path_factory.mktemp("ram"))
    try:
        yield server, key
    finally:
        server.stop()


@pytest.fixture(scope="module")
def fresh(fresh_and_root: tuple[LocalCloudServer, Key]) -> LocalCloudServer:
    return fresh_and_root[0]


@pytest.fixture(scope="module")
def root(fresh_and_root: tuple[LocalCloudServer, Key]) -> Key:
    return fresh_and_root[1]


@pytest.fixture(scope="module")
def ram(fresh: LocalCloudServer, root: Key) -> TeaRamClient:
    return tea(fresh.ram_endpoint, root)


def refused(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(Exception) as info:
        call()
    return tea_error(info.value)


def test_fresh_account_has_no_users_roles_or_custom_policies(ram: TeaRamClient) -> None:
    assert ram.list_users(m.ListUsersRequest()).body.users.user == []
    assert ram.list_roles(m.ListRolesRequest()).body.roles.role == []
    assert ram.list_policies(m.ListPoliciesRequest(policy_type="Custom")).body.policies.policy == []
    system = ram.list_policies(m.ListPoliciesRequest(policy_type="System")).body.policies.policy
    assert {"AliyunSTSAssumeRoleAccess", "AliyunOSSFullAccess"} <= {p.policy_name for p in system}


def test_user_key_policy_cycle(ram: TeaRamClient, unique: Callable[[str], str]) -> None:
    name, pol = unique("u"), unique("p")
    created = ram.create_user(
        m.CreateUserRequest(user_name=name, display_name="Demo", comments="c")
    ).body.user
    assert created.user_name == name and created.user_id.isdigit() and created.create_date.endswith("Z")
    assert ram.get_user(m.GetUserRequest(user_name=name)).body.user.display_name == "Demo"
    assert name in {u.user_name for u in ram.list_users(m.ListUsersRequest()).body.users.user}
    assert refused(lambda: ram.create_user(m.CreateUserRequest(user_name=name))) == (
        409,
        "EntityAlreadyExists.User",
    )

    key = ram.create_access_key(m.CreateAccessKeyRequest(user_name=name)).body.access_key
    assert key.status == "Active" and len(key.access_key_secret) == 30
    listed = ram.list_access_keys(m.ListAccessKeysRequest(user_name=name)).body.access_keys.access_key
    assert [k.access_key_id for k in listed] == [key.access_key_id]
    assert "AccessKeySecret" not in listed[0].to_map()

    ram.create_policy(m.CreatePolicyRequest(policy_name=pol, policy_document=OSS_WRITE, description="d"))
    assert refused(
        lambda: ram.create_policy(m.CreatePolicyRequest(policy_name=pol, policy_document=OSS_WRITE))
    ) == (409, "EntityAlreadyExists.Policy")
    attach = m.AttachPolicyToUserRequest(policy_type="Custom", policy_name=pol, user_name=name)
    ram.attach_policy_to_user(attach)
    assert refused(lambda: ram.attach_policy_to_user(attach)) == (409, "EntityAlreadyExists.User.Policy")
    ram.attach_policy_to_user(
        m.AttachPolicyToUserRequest(
            policy_type="System", policy_name="AliyunSTSAssumeRoleAccess", user_name=name
        )
    )
    attached = ram.list_policies_for_user(m.ListPoliciesForUserRequest(user_name=name)).body.policies.policy
    assert {(p.policy_type, p.policy_name) for p in attached} == {
        ("Custom", pol),
        ("System", "AliyunSTSAssumeRoleAccess"),
    }
    entities = ram.list_entities_for_policy(
        m.ListEntitiesForPolicyRequest(policy_type="Custom", policy_name=pol)
    )
    assert [u.user_name for u in entities.body.users.user] == [name]
    got = ram.get_policy(m.GetPolicyRequest(policy_type="Custom", policy_name=pol)).body
    assert got.policy.attachment_count == 1 and json.loads(got.default_policy_version.policy_document)

    # Deleting a user that still has keys or policies is a conflict (ram-api.md §6).
    assert refused(lambda: ram.delete_user(m.DeleteUserRequest(user_name=name))) == (
        409,
        "DeleteConflict.User.AccessKey",
    )
    assert refused(lambda: ram.delete_policy(m.DeletePolicyRequest(policy_name=pol))) == (
        409,
        "DeleteConflict.Policy.User",
    )
    ram.delete_access_key(m.DeleteAccessKeyRequest(user_name=name, user_access_key_id=key.access_key_id))
    assert refused(
        lambda: ram.delete_access_key(
            m.DeleteAccessKeyRequest(user_name=name, user_access_key_id=key.access_key_id)
        )
    ) == (404, "EntityNotExist.User.AccessKey")
    assert refused(lambda: ram.delete_user(m.DeleteUserRequest(user_name=name))) == (
        409,
        "DeleteConflict.User.Policy",
    )
    ram.detach_policy_from_user(
        m.DetachPolicyFromUserRequest(policy_type="Custom", policy_name=pol, user_name=name)
    )
    ram.detach_policy_from_user(
        m.DetachPolicyFromUserRequest(
            policy_type="System", policy_name="AliyunSTSAssumeRoleAccess", user_name=name
        )
    )
    assert refused(
        lambda: ram.detach_policy_from_user(
            m.DetachPolicyFromUserRequest(policy_type="Custom", policy_name=pol, user_name=name)
        )
    ) == (404, "EntityNotExist.User.Policy")
    ram.delete_user(m.DeleteUserRequest(user_name=name))
    ram.delete_policy(m.DeletePolicyRequest(policy_name=pol))
    assert refused(lambda: ram.get_user(m.GetUserRequest(user_name=name))) == (404, "EntityNotExist.User")
    assert refused(lambda: ram.get_policy(m.GetPolicyRequest(policy_type="Custom", policy_name=pol))) == (
        404,
        "EntityNotExist.Policy",
    )


def test_role_cycle_with_trust_policy_update(
    ram: TeaRamClient, fresh: LocalCloudServer, unique: Callable[[str], str]
) -> None:
    name, pol = unique("Role"), unique("p")
    account = fresh.ctx.accounts.account_id
    trust = trust_root(account)
    role = ram.create_role(
        m.CreateRoleRequest(
            role_name=name,
            assume_role_policy_document=trust,
            description="demo role",
            max_session_duration=7200,
        )
    ).body.role
    assert role.arn == f"acs:ram::{account}:role/{name.lower()}" and role.max_session_duration == 7200
    assert role.assume_role_policy_document == trust
    assert refused(
        lambda: ram.create_role(m.CreateRoleRequest(role_name=name, assume_role_policy_document=trust))
    ) == (409, "EntityAlreadyExists.Role")
    narrowed = trust.replace(":root", f":user/{name}")
    updated = ram.update_role(m.UpdateRoleRequest(role_name=name, new_assume_role_policy_document=narrowed))
    assert updated.body.role.assume_role_policy_document == narrowed
    assert ram.get_role(m.GetRoleRequest(role_name=name)).body.role.assume_role_policy_document == narrowed
    listed = {r.role_name: r for r in ram.list_roles(m.ListRolesRequest()).body.roles.role}
    assert "AssumeRolePolicyDocument" not in listed[name].to_map()  # not in list items (ram-api.md §4.2)

    ram.create_policy(m.CreatePolicyRequest(policy_name=pol, policy_document=OSS_WRITE))
    ram.attach_policy_to_role(
        m.AttachPolicyToRoleRequest(policy_type="Custom", policy_name=pol, role_name=name)
    )
    for_role = ram.list_policies_for_role(m.ListPoliciesForRoleRequest(role_name=name)).body.policies.policy
    assert [p.policy_name for p in for_role] == [pol]
    assert refused(lambda: ram.delete_role(m.DeleteRoleRequest(role_name=name))) == (
        409,
        "DeleteConflict.Role.Policy",
    )
    assert refused(lambda: ram.delete_policy(m.DeletePolicyRequest(policy_name=pol))) == (
        409,
        "DeleteConflict.Policy.Role",
    )
    ram.detach_policy_from_role(
        m.DetachPolicyFromRoleRequest(policy_type="Custom", policy_name=pol, role_name=name)
    )
    assert refused(
        lambda: ram.detach_policy_from_role(
            m.DetachPolicyFromRoleRequest(policy_type="Custom", policy_name=pol, role_name=name)
        )
    ) == (404, "EntityNotExist.Role.Policy")
    ram.delete_role(m.DeleteRoleRequest(role_name=name))
    ram.delete_policy(m.DeletePolicyRequest(policy_name=pol))
    assert refused(lambda: ram.get_role(m.GetRoleRequest(role_name=name))) == (404, "EntityNotExist.Role")
    assert refused(lambda: ram.delete_role(m.DeleteRoleRequest(role_name=name))) == (
        404,
        "EntityNotExist.Role",
    )


def test_policy_versions(ram: TeaRamClient, unique: Callable[[str], str]) -> None:
    pol = unique("p")
    ram.create_policy(m.CreatePolicyRequest(policy_name=pol, policy_document=OSS_WRITE))
    v2 = ram.create_policy_version(
        m.CreatePolicyVersionRequest(
            policy_name=pol, policy_document=OSS_WRITE.replace("PutObject", "GetObject"), set_as_default=True
        )
    )
    assert v2.body.policy_version.version_id == "v2" and v2.body.policy_version.is_default_version is True
    versions = ram.list_policy_versions(m.ListPolicyVersionsRequest(policy_type="Custom", policy_name=pol))
    assert [(v.version_id, v.is_default_version) for v in versions.body.policy_versions.policy_version] == [
        ("v1", False),
        ("v2", True),
    ]
    assert (
        "GetObject"
        in ram.get_policy(
            m.GetPolicyRequest(policy_type="Custom", policy_name=pol)
        ).body.policy.policy_document
    )
    assert refused(
        lambda: ram.delete_policy_version(m.DeletePolicyVersionRequest(policy_name=pol, version_id="v2"))
    ) == (409, "DeleteConflict.Policy.Version.Default")
    assert refused(lambda: ram.delete_policy(m.DeletePolicyRequest(policy_name=pol))) == (
        409,
        "DeleteConflict.Policy.Version",
    )
    ram.delete_policy_version(m.DeletePolicyVersionRequest(policy_name=pol, version_id="v1"))
    assert refused(
        lambda: ram.delete_policy_version(m.DeletePolicyVersionRequest(policy_name=pol, version_id="v1"))
    ) == (404, "EntityNotExist.Policy.Version")
    ram.create_policy_version(m.CreatePolicyVersionRequest(policy_name=pol, policy_document=OSS_WRITE))
    ram.delete_policy(m.DeletePolicyRequest(policy_name=pol, cascading_delete=True))
    assert refused(
        lambda: ram.list_policy_versions(m.ListPolicyVersionsRequest(policy_type="Custom", policy_name=pol))
    ) == (404, "EntityNotExist.Policy")


def test_invalid_parameters_are_400(ram: TeaRamClient, unique: Callable[[str], str]) -> None:
    assert refused(lambda: ram.create_user(m.CreateUserRequest(user_name="bad name!"))) == (
        400,
        "InvalidParameter.UserName.InvalidChars",
    )
    assert refused(lambda: ram.create_user(m.CreateUserRequest(user_name="u" * 65))) == (
        400,
        "InvalidParameter.UserName.Length",
    )
    assert refused(
        lambda: ram.create_policy(
            m.CreatePolicyRequest(policy_name=unique("p"), policy_document='{"Version":"1"}')
        )
    ) == (400, "MalformedPolicyDocument")
    assert refused(
        lambda: ram.attach_policy_to_user(
            m.AttachPolicyToUserRequest(policy_type="Other", policy_name="x", user_name="x")
        )
    ) == (400, "InvalidParameter.PolicyType")
    assert refused(
        lambda: ram.create_role(
            m.CreateRoleRequest(
                role_name=unique("r"), assume_role_policy_document=trust_root("1"), max_session_duration=60
            )
        )
    ) == (400, "InvalidParameter.MaxSessionDuration")


def test_core_sdk_and_tea_v2_signatures(
    fresh: LocalCloudServer, root: Key, unique: Callable[[str], str]
) -> None:
    name = unique("core")
    req = CreateUserRequest()
    req.set_UserName(name)
    assert core_call(fresh.ram_endpoint, root, req)["User"]["UserName"] == name
    again = CreateUserRequest()
    again.set_UserName(name)
    with pytest.raises(Exception) as info:
        core_call(fresh.ram_endpoint, root, again)
    assert core_error(info.value) == (409, "EntityAlreadyExists.User")
    missing = GetUserRequest()
    missing.set_UserName(unique("nobody"))
    with pytest.raises(Exception) as info:
        core_call(fresh.ram_endpoint, root, missing)
    assert core_error(info.value) == (404, "EntityNotExist.User")
    v2 = tea(fresh.ram_endpoint, root, v2=True)
    assert v2.get_user(m.GetUserRequest(user_name=name)).body.user.user_name == name


def test_bad_signature_and_unknown_key(fresh: LocalCloudServer, root: Key) -> None:
    wrong = Key(root.access_key_id, "x" * 30)
    assert refused(lambda: tea(fresh.ram_endpoint, wrong).list_users(m.ListUsersRequest())) == (
        400,
        "SignatureDoesNotMatch",
    )
    with pytest.raises(Exception) as info:
        core_call(fresh.ram_endpoint, wrong, ListUsersRequest())
    # core compares our string to sign with its own; equal means "wrong secret" (ram-api.md §2).
    assert core_error(info.value) == (400, "InvalidAccessKeySecret")
    # The tea client's RPC variant surfaces the server's code unchanged.
    assert refused(lambda: tea(fresh.ram_endpoint, wrong, v2=True).list_users(m.ListUsersRequest())) == (
        400,
        "SignatureDoesNotMatch",
    )
    unknown = Key("LTAI5tUnknownKey00000000", "x" * 30)
    assert refused(lambda: tea(fresh.ram_endpoint, unknown).list_users(m.ListUsersRequest())) == (
        404,
        "InvalidAccessKeyId.NotFound",
    )


def test_only_ram_permissions_open_the_ram_api(
    ram: TeaRamClient, fresh: LocalCloudServer, unique: Callable[[str], str]
) -> None:
    name = unique("reader")
    ram.create_user(m.CreateUserRequest(user_name=name))
    raw = ram.create_access_key(m.CreateAccessKeyRequest(user_name=name)).body.access_key
    user = tea(fresh.ram_endpoint, Key(raw.access_key_id, raw.access_key_secret))
    assert refused(lambda: user.list_users(m.ListUsersRequest())) == (403, "NoPermission")
    ram.attach_policy_to_user(
        m.AttachPolicyToUserRequest(
            policy_type="System", policy_name="AliyunRAMReadOnlyAccess", user_name=name
        )
    )
    assert name in {u.user_name for u in user.list_users(m.ListUsersRequest()).body.users.user}
    assert refused(lambda: user.create_user(m.CreateUserRequest(user_name=unique("x")))) == (
        403,
        "NoPermission",
    )
    # Without UserName, key actions act on the calling user (ram-api.md §4.1).
    assert [
        k.access_key_id for k in user.list_access_keys(m.ListAccessKeysRequest()).body.access_keys.access_key
    ] == [raw.access_key_id]


def test_list_users_pages_with_marker(ram: TeaRamClient, unique: Callable[[str], str]) -> None:
    prefix = unique("page")
    for i in range(3):
        ram.create_user(m.CreateUserRequest(user_name=f"{prefix}-{i}"))
    seen: list[str] = []
    marker = None
    while True:
        body = ram.list_users(m.ListUsersRequest(max_items=2, marker=marker)).body
        seen += [u.user_name for u in body.users.user]
        if not body.is_truncated:
            break
        marker = body.marker
    assert [f"{prefix}-{i}" for i in range(3)] == [n for n in seen if n.startswith(prefix)]
    assert len(seen) == len(set(seen))


def test_local_profile_seeds_its_identities_into_ram(cloud: LocalCloudServer, creds: dict[str, Any]) -> None:
    admin = tea(cloud.ram_endpoint, Key(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"]))
    assert "appserver" in {u.user_name for u in admin.list_users(m.ListUsersRequest()).body.users.user}
    role = admin.get_role(m.GetRoleRequest(role_name="workbook-uploader")).body.role
    assert role.arn == creds["role_arn"]
    keys = admin.list_access_keys(m.ListAccessKeysRequest(user_name="appserver")).body.access_keys.access_key
    assert [k.access_key_id for k in keys] == [creds["appserver"]["access_key_id"]]
    # The app server's key may only assume the role: RAM itself refuses it.
    app = tea(
        cloud.ram_endpoint, Key(creds["appserver"]["access_key_id"], creds["appserver"]["access_key_secret"])
    )
    assert refused(lambda: app.list_users(m.ListUsersRequest())) == (403, "NoPermission")


def test_concurrent_creates_of_one_name_make_one_user(
    ram: TeaRamClient, unique: Callable[[str], str]
) -> None:
    name = unique("race")

    def create(_: int) -> tuple[int, str] | str:
        try:
            return ram.create_user(m.CreateUserRequest(user_name=name)).body.user.user_name
        except Exception as exc:  # noqa: BLE001 - the refusal is the result
            return tea_error(exc)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(create, range(6)))
    assert results.count(name) == 1
    assert [r for r in results if r != name] == [(409, "EntityAlreadyExists.User")] * 5


def test_bad_input_gets_a_ram_json_error_never_a_500(fresh: LocalCloudServer) -> None:
    cases = [
        httpx.post(fresh.ram_endpoint + "/?Action=ListUsers&Version=2015-05-01&%FF=1", trust_env=False),
        httpx.post(fresh.ram_endpoint + "/?Action=Nope&Version=2015-05-01", trust_env=False),
        httpx.post(fresh.ram_endpoint + "/?Action=ListUsers&Version=2015-05-01", trust_env=False),
        httpx.get(fresh.ram_endpoint + "/_localcloud/stats", trust_env=False),
        httpx.put(fresh.ram_endpoint + "/", trust_env=False),
    ]
    codes = [(r.status_code, r.json()["Code"]) for r in cases]
    assert codes == [
        (400, "InvalidParameter"),
        (404, "InvalidAction.NotFound"),
        (400, "MissingAccessKeyId"),
        (404, "InvalidAction.NotFound"),
        (405, "UnsupportedHTTPMethod"),
    ]
    assert all("product=Ram" in r.json()["Recommend"] for r in cases)
