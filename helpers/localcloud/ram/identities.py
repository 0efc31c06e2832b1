"""RAM actions on users, their AccessKeys, and roles (ram-api.md §4.1, §4.2, §6).

Each action takes a `RamCall` (already authenticated and authorized, inside a transaction) and
returns the success document without `RequestId`. Pure model code: imports nothing from Starlette.
"""

from __future__ import annotations

import re
from typing import Any

from helpers.localcloud.accounts import new_access_key_id, new_access_key_secret
from helpers.localcloud.ram.params import (
    RamCall,
    already_exists,
    delete_conflict,
    invalid,
    iso,
    limit_exceeded,
    missing,
    not_exist,
    page,
)
from helpers.localcloud.ram.state import AccessKey, Role, User, new_digits

MAX_USERS = 1000        # [unverified] current quota (ram-api.md §5: 100 in 2021 docs, higher today)
MAX_ROLES = 1000        # [unverified] likewise
MAX_ACCESS_KEYS = 2
_ANY = re.compile(r"^.{1,1024}$", re.S)


# ---- users ------------------------------------------------------------------------------------------

def _user(call: RamCall, param: str = "UserName") -> User:
    name = call.params.user_name(param) or ""
    user = call.data.users.get(name.casefold())
    if user is None:
        raise not_exist("User")
    return user


def _user_doc(u: User, *, update: bool = True) -> dict[str, Any]:
    doc = {"UserId": u.user_id, "UserName": u.name, "DisplayName": u.display_name,
           "MobilePhone": u.mobile_phone, "Email": u.email, "Comments": u.comments,
           "CreateDate": iso(u.create_date)}
    if update:
        doc["UpdateDate"] = iso(u.update_date)
    return doc


def create_user(call: RamCall) -> dict[str, Any]:
    p = call.params
    name = p.user_name() or ""
    display = p.display_name("DisplayName")
    mobile, email, comments = p.mobile("MobilePhone"), p.email("Email"), p.text("Comments", 128)
    if name.casefold() in call.data.users:
        raise already_exists("User")
    if len(call.data.users) >= MAX_USERS:
        raise limit_exceeded("User", "The count of users beyond the current limits.")
    # A user created without DisplayName shows its UserName there [unverified].
    user = User(name, new_digits("2", 16), call.now, call.now, display_name=display or name,
                mobile_phone=mobile or "", email=email or "", comments=comments or "")
    call.data.users[name.casefold()] = user
    return {"User": _user_doc(user, update=False)}


def get_user(call: RamCall) -> dict[str, Any]:
    return {"User": _user_doc(_user(call))}


def update_user(call: RamCall) -> dict[str, Any]:
    p = call.params
    user = _user(call)
    new_name = p.user_name("NewUserName", required=False)
    display = p.display_name("NewDisplayName")
    mobile, email, comments = p.mobile("NewMobilePhone"), p.email("NewEmail"), p.text("NewComments", 128)
    if new_name is not None and new_name.casefold() != user.name.casefold():
        if new_name.casefold() in call.data.users:
            raise already_exists("User")
        del call.data.users[user.name.casefold()]
        call.data.users[new_name.casefold()] = user
    if new_name is not None:
        user.name = new_name
    user.display_name = display if display is not None else user.display_name
    user.mobile_phone = mobile if mobile is not None else user.mobile_phone
    user.email = email if email is not None else user.email
    user.comments = comments if comments is not None else user.comments
    user.update_date = call.now
    return {"User": _user_doc(user)}


def delete_user(call: RamCall) -> dict[str, Any]:
    user = _user(call)
    if user.access_keys:
        raise delete_conflict("User.AccessKey")
    if user.policies:
        raise delete_conflict("User.Policy")
    del call.data.users[user.name.casefold()]
    return {}


def list_users(call: RamCall) -> dict[str, Any]:
    return page(call.params, list(call.data.users.values()), lambda u: u.name.casefold(), "Users", "User",
                _user_doc)


# ---- access keys ------------------------------------------------------------------------------------

def _key_owner(call: RamCall) -> User:
    """The user named by UserName, else the calling RAM user (ram-api.md §4.1)."""
    if call.params.opt("UserName") is not None:
        return _user(call)
    if call.caller_user is None:
        raise missing("UserName")   # [unverified] the owner account's own keys are not managed here
    user = call.data.users.get(call.caller_user.casefold())
    if user is None:
        raise not_exist("User")
    return user


def _key(call: RamCall, user: User) -> AccessKey:
    key_id = call.params.req("UserAccessKeyId")
    key = next((k for k in user.access_keys if k.access_key_id == key_id), None)
    if key is None:
        raise not_exist("User.AccessKey")
    return key


def create_access_key(call: RamCall) -> dict[str, Any]:
    user = _key_owner(call)
    if len(user.access_keys) >= MAX_ACCESS_KEYS:
        raise limit_exceeded("User.AccessKey",
                             "The access key count of the user access keys beyond the current limits.")
    key = AccessKey(new_access_key_id(), new_access_key_secret(), call.now)
    user.access_keys.append(key)
    return {"AccessKey": {"AccessKeyId": key.access_key_id, "AccessKeySecret": key.secret,
                          "Status": key.status, "CreateDate": iso(key.create_date)}}


def list_access_keys(call: RamCall) -> dict[str, Any]:
    user = _key_owner(call)
    return {"AccessKeys": {"AccessKey": [
        {"AccessKeyId": k.access_key_id, "Status": k.status, "CreateDate": iso(k.create_date)}
        for k in user.access_keys]}}


def update_access_key(call: RamCall) -> dict[str, Any]:
    user = _key_owner(call)
    status = call.params.req("Status")
    if status not in ("Active", "Inactive"):
        raise invalid("Status")
    _key(call, user).status = status
    return {}


def delete_access_key(call: RamCall) -> dict[str, Any]:
    user = _key_owner(call)
    user.access_keys.remove(_key(call, user))
    return {}


# ---- roles ------------------------------------------------------------------------------------------

def _role(call: RamCall) -> Role:
    role = call.data.roles.get(call.params.role_name().casefold())
    if role is None:
        raise not_exist("Role")
    return role


def _role_doc(call: RamCall, r: Role, *, trust: bool = True, update: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {"RoleId": r.role_id, "RoleName": r.name, "Arn": call.role_arn(r.name),
                           "Description": r.description, "MaxSessionDuration": r.max_session_duration,
                           "CreateDate": iso(r.create_date)}
    if trust:
        doc["AssumeRolePolicyDocument"] = r.trust_policy
    if update:
        doc["UpdateDate"] = iso(r.update_date)
    return doc


def create_role(call: RamCall) -> dict[str, Any]:
    p = call.params
    name = p.role_name()
    trust = p.document("AssumeRolePolicyDocument", trust=True)
    description = p.text("Description", 1024, _ANY)
    duration = p.integer("MaxSessionDuration", 3600, 43200, 3600)
    if name.casefold() in call.data.roles:
        raise already_exists("Role")
    if len(call.data.roles) >= MAX_ROLES:
        raise limit_exceeded("Role", "The count of roles beyond the current limits.")
    role = Role(name, new_digits("3", 18), trust, duration, call.now, call.now, description or "")
    call.data.roles[name.casefold()] = role
    return {"Role": _role_doc(call, role, update=False)}


def get_role(call: RamCall) -> dict[str, Any]:
    doc = _role_doc(call, _role(call))
    doc["IsServiceLinkedRole"] = False
    return {"Role": doc}


def update_role(call: RamCall) -> dict[str, Any]:
    p = call.params
    role = _role(call)
    trust = (p.document("NewAssumeRolePolicyDocument", trust=True)
             if p.opt("NewAssumeRolePolicyDocument") else None)
    description = p.text("NewDescription", 1024, _ANY)
    duration = p.integer("NewMaxSessionDuration", 3600, 43200, 0) or None
    if trust is not None:
        role.trust_policy = trust
    if description is not None:
        role.description = description
    if duration is not None:
        role.max_session_duration = duration
    role.update_date = call.now
    return {"Role": _role_doc(call, role)}


def delete_role(call: RamCall) -> dict[str, Any]:
    role = _role(call)
    if role.policies:
        raise delete_conflict("Role.Policy")
    del call.data.roles[role.name.casefold()]
    return {}


def list_roles(call: RamCall) -> dict[str, Any]:
    return page(call.params, list(call.data.roles.values()), lambda r: r.name.casefold(), "Roles", "Role",
                lambda r: _role_doc(call, r, trust=False))


ACTIONS = {
    "CreateUser": create_user, "GetUser": get_user, "UpdateUser": update_user, "DeleteUser": delete_user,
    "ListUsers": list_users, "CreateAccessKey": create_access_key, "ListAccessKeys": list_access_keys,
    "UpdateAccessKey": update_access_key, "DeleteAccessKey": delete_access_key, "CreateRole": create_role,
    "GetRole": get_role, "UpdateRole": update_role, "DeleteRole": delete_role, "ListRoles": list_roles,
}
