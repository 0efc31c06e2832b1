"""RAM actions on policies, their versions, and their attachments to users and roles (ram-api.md
§4.3, §6, §7). Same contract as `identities`. Pure model code: imports nothing from Starlette.
"""

from __future__ import annotations

import re
from typing import Any

from helpers.localcloud.ram.params import (
    RamCall,
    already_exists,
    delete_conflict,
    invalid,
    iso,
    limit_exceeded,
    not_exist,
    page,
)
from helpers.localcloud.ram.state import (
    CUSTOM,
    SYSTEM,
    SYSTEM_POLICIES,
    Attachment,
    Policy,
    PolicyVersion,
    Role,
    User,
)
from helpers.localcloud.ram.state import system_policy as _system_policy

MAX_POLICIES = 1500              # [unverified] custom policies per account (ram-api.md §5)
MAX_VERSIONS = 5
MAX_CUSTOM_PER_ENTITY = 5        # 2021 numbers (ram-api.md §5)
MAX_SYSTEM_PER_ENTITY = 20
_ANY = re.compile(r"^.{1,1024}$", re.S)
ROTATE = "DeleteOldestNonDefaultVersionWhenLimitExceeded"


def _policy(call: RamCall, policy_type: str | None = None) -> Policy:
    """The policy named by PolicyName (and PolicyType, when given or required by the caller)."""
    name = call.params.policy_name()
    kind = policy_type or call.params.policy_type(required=False) or CUSTOM
    found = _system_policy(name) if kind == SYSTEM else call.data.policies.get(name.casefold())
    if found is None:
        raise not_exist("Policy")
    return found


def _attachments(call: RamCall, policy: Policy,
                 ) -> tuple[list[tuple[User, Attachment]], list[tuple[Role, Attachment]]]:
    def mine(a: Attachment) -> bool:
        return a.policy_type == policy.policy_type and a.policy_name.casefold() == policy.name.casefold()

    users = [(u, a) for u in call.data.users.values() for a in u.policies if mine(a)]
    roles = [(r, a) for r in call.data.roles.values() for a in r.policies if mine(a)]
    return users, roles


def _version_doc(policy: Policy, v: PolicyVersion) -> dict[str, Any]:
    return {"VersionId": v.version_id, "IsDefaultVersion": v.version_id == policy.default_version,
            "PolicyDocument": v.document, "CreateDate": iso(v.create_date)}


def _policy_doc(call: RamCall, p: Policy) -> dict[str, Any]:
    users, roles = _attachments(call, p)
    return {"PolicyName": p.name, "PolicyType": p.policy_type, "Description": p.description,
            "DefaultVersion": p.default_version, "AttachmentCount": len(users) + len(roles),
            "CreateDate": iso(p.create_date), "UpdateDate": iso(p.update_date)}


# ---- policies and versions --------------------------------------------------------------------------

def create_policy(call: RamCall) -> dict[str, Any]:
    p = call.params
    name = p.policy_name()
    document = p.document("PolicyDocument")
    description = p.text("Description", 1024, _ANY) or ""
    if name.casefold() in call.data.policies:
        raise already_exists("Policy")
    if len(call.data.policies) >= MAX_POLICIES:
        raise limit_exceeded("Policy", "The count of policy beyond the current limits.")
    policy = Policy(name, CUSTOM, description, "v1", call.now, call.now,
                    [PolicyVersion("v1", document, call.now)])
    call.data.policies[name.casefold()] = policy
    return {"Policy": {"PolicyName": name, "PolicyType": CUSTOM, "Description": description,
                       "DefaultVersion": "v1", "CreateDate": iso(call.now)}}


def get_policy(call: RamCall) -> dict[str, Any]:
    call.params.policy_type()
    policy = _policy(call)
    default = policy.version(policy.default_version)
    doc = {"Policy": {**_policy_doc(call, policy), "PolicyDocument": policy.document}}
    if default is not None:
        doc["DefaultPolicyVersion"] = _version_doc(policy, default)
    return doc


def create_policy_version(call: RamCall) -> dict[str, Any]:
    p = call.params
    policy = _policy(call, CUSTOM)
    document = p.document("PolicyDocument")
    set_default = p.boolean("SetAsDefault")
    rotate = p.opt("RotateStrategy") or "None"
    if rotate not in ("None", ROTATE):
        raise invalid("RotateStrategy")
    if len(policy.versions) >= MAX_VERSIONS:
        oldest = next((v for v in policy.versions if v.version_id != policy.default_version), None)
        if rotate != ROTATE or oldest is None:
            raise limit_exceeded("Policy.Version", "The count of policy version beyond the current limits.")
        policy.versions.remove(oldest)
    version = PolicyVersion(f"v{policy.next_version}", document, call.now)
    policy.next_version += 1
    policy.versions.append(version)
    if set_default:
        policy.default_version = version.version_id
    policy.update_date = call.now
    return {"PolicyVersion": _version_doc(policy, version)}


def _version(call: RamCall, policy: Policy) -> PolicyVersion:
    version = policy.version(call.params.req("VersionId"))
    if version is None:
        raise not_exist("Policy.Version")
    return version


def get_policy_version(call: RamCall) -> dict[str, Any]:
    call.params.policy_type()
    policy = _policy(call)
    return {"PolicyVersion": _version_doc(policy, _version(call, policy))}


def list_policy_versions(call: RamCall) -> dict[str, Any]:
    call.params.policy_type()
    policy = _policy(call)
    return {"PolicyVersions": {"PolicyVersion": [_version_doc(policy, v) for v in policy.versions]}}


def delete_policy_version(call: RamCall) -> dict[str, Any]:
    policy = _policy(call, CUSTOM)
    version = _version(call, policy)
    if version.version_id == policy.default_version:
        raise delete_conflict("Policy.Version.Default")
    policy.versions.remove(version)
    return {}


def delete_policy(call: RamCall) -> dict[str, Any]:
    policy = _policy(call, CUSTOM)
    cascading = call.params.boolean("CascadingDelete")
    users, roles = _attachments(call, policy)
    if users:
        raise delete_conflict("Policy.User")
    if roles:
        raise delete_conflict("Policy.Role")
    if len(policy.versions) > 1 and not cascading:
        raise delete_conflict("Policy.Version")
    del call.data.policies[policy.name.casefold()]
    return {}


def list_policies(call: RamCall) -> dict[str, Any]:
    kind = call.params.policy_type(required=False)
    items: list[Policy] = []
    if kind in (None, SYSTEM):
        items += [p for p in map(_system_policy, SYSTEM_POLICIES) if p is not None]
    if kind in (None, CUSTOM):
        items += list(call.data.policies.values())
    return page(call.params, items, lambda p: f"{p.policy_type}:{p.name.casefold()}", "Policies", "Policy",
                lambda p: _policy_doc(call, p))


# ---- attachments ------------------------------------------------------------------------------------

def _entity(call: RamCall, kind: str) -> User | Role:
    if kind == "User":
        user = call.data.users.get((call.params.user_name() or "").casefold())
        if user is None:
            raise not_exist("User")
        return user
    role = call.data.roles.get(call.params.role_name().casefold())
    if role is None:
        raise not_exist("Role")
    return role


def _find(entity: User | Role, policy: Policy) -> Attachment | None:
    return next((a for a in entity.policies if a.policy_type == policy.policy_type
                 and a.policy_name.casefold() == policy.name.casefold()), None)


def _attach(call: RamCall, kind: str) -> dict[str, Any]:
    policy_type = call.params.policy_type() or CUSTOM
    entity = _entity(call, kind)
    policy = _policy(call, policy_type)
    if _find(entity, policy) is not None:
        raise already_exists(f"{kind}.Policy")
    same = sum(1 for a in entity.policies if a.policy_type == policy_type)
    if same >= (MAX_SYSTEM_PER_ENTITY if policy_type == SYSTEM else MAX_CUSTOM_PER_ENTITY):
        raise limit_exceeded(f"{kind}.Policy", f"The count of policies attached to the {kind.lower()} beyond "
                                               "the current limits.")
    entity.policies.append(Attachment(policy.policy_type, policy.name, call.now))
    return {}


def _detach(call: RamCall, kind: str) -> dict[str, Any]:
    policy_type = call.params.policy_type() or CUSTOM
    entity = _entity(call, kind)
    policy = _policy(call, policy_type)
    found = _find(entity, policy)
    if found is None:
        raise not_exist(f"{kind}.Policy")
    entity.policies.remove(found)
    return {}


def _policies_for(call: RamCall, kind: str) -> dict[str, Any]:
    entity = _entity(call, kind)
    out = []
    for a in entity.policies:
        p = _system_policy(a.policy_name) if a.policy_type == SYSTEM else call.data.policies.get(
            a.policy_name.casefold())
        if p is not None:
            out.append({"PolicyName": p.name, "PolicyType": p.policy_type, "Description": p.description,
                        "DefaultVersion": p.default_version, "AttachDate": iso(a.attach_date)})
    return {"Policies": {"Policy": out}}


def list_entities_for_policy(call: RamCall) -> dict[str, Any]:
    call.params.policy_type()
    users, roles = _attachments(call, _policy(call))
    return {"Users": {"User": [{"UserId": u.user_id, "UserName": u.name, "DisplayName": u.display_name,
                                "AttachDate": iso(a.attach_date)} for u, a in users]},
            "Roles": {"Role": [{"RoleId": r.role_id, "RoleName": r.name, "Arn": call.role_arn(r.name),
                                "Description": r.description, "AttachDate": iso(a.attach_date)}
                               for r, a in roles]},
            "Groups": {"Group": []}}


ACTIONS = {
    "CreatePolicy": create_policy, "GetPolicy": get_policy, "CreatePolicyVersion": create_policy_version,
    "GetPolicyVersion": get_policy_version, "ListPolicyVersions": list_policy_versions,
    "DeletePolicyVersion": delete_policy_version, "DeletePolicy": delete_policy,
    "ListPolicies": list_policies,
    "AttachPolicyToUser": lambda c: _attach(c, "User"), "DetachPolicyFromUser": lambda c: _detach(c, "User"),
    "AttachPolicyToRole": lambda c: _attach(c, "Role"), "DetachPolicyFromRole": lambda c: _detach(c, "Role"),
    "ListPoliciesForUser": lambda c: _policies_for(c, "User"),
    "ListPoliciesForRole": lambda c: _policies_for(c, "Role"),
    "ListEntitiesForPolicy": list_entities_for_policy,
}
