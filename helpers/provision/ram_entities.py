"""The workbook's RAM identities, through the official RAM SDK (alibabacloud-ram20150501).

    arn = ensure_role(ram, account_id, role_policy_doc, report)   # role + trust + its permission policy
    ensure_user(ram, role_arn, report)                            # the app server's user + AssumeRole policy
    key = ensure_access_key(ram, recorded, report)                # reuse the recorded key, or make one
    remove_all(ram, report)                                       # keys, attachments, user, role, policies

RAM has no idempotent create (reference ram-api.md §7), so every step reads first (Get/List) and
creates or updates only what differs. Policies are compared as parsed JSON; a changed one gets a new
default version (the oldest non-default version is rotated out at the limit of 5).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from alibabacloud_ram20150501 import models as ram
from Tea.exceptions import TeaException

from helpers.logging import mask_key_id
from helpers.provision.names import (
    ROLE_NAME,
    ROLE_POLICY,
    USER_NAME,
    USER_POLICY,
    assume_role_policy,
    trust_policy,
)
from helpers.provision.report import Report, StepFailed, describe

T = TypeVar("T")
MAX_SESSION_SECONDS = 3600   # STS's AssumeRole limit for the app server's 15-minute tokens is this


def _call(step: str, fn: Callable[[], T], *, missing: str | None = None) -> T | None:
    """Run one RAM call; None when it fails with `missing` (e.g. EntityNotExist.Role), else StepFailed."""
    try:
        return fn()
    except TeaException as exc:
        if missing is not None and describe(exc)[0] == missing:
            return None
        raise StepFailed(step, exc) from None


def _doc(text: str | None) -> Any:
    try:
        return json.loads(text or "null")
    except ValueError:
        return None


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"))


def ensure_policy(client: Any, name: str, doc: dict[str, Any], report: Report) -> None:
    """A custom policy `name` whose default version is `doc`."""
    got = _call(f"read policy {name}", lambda: client.get_policy(ram.GetPolicyRequest(
        policy_name=name, policy_type="Custom")), missing="EntityNotExist.Policy")
    if got is None:
        _call(f"create policy {name}", lambda: client.create_policy(ram.CreatePolicyRequest(
            policy_name=name, policy_document=_dumps(doc), description="the OSS direct-upload workbook")))
        report.created("policy", name)
        return
    version = got.body.default_policy_version
    if _doc(version.policy_document if version else None) == doc:
        report.unchanged("policy", name)
        return
    _call(f"update policy {name}", lambda: client.create_policy_version(ram.CreatePolicyVersionRequest(
        policy_name=name, policy_document=_dumps(doc), set_as_default=True,
        rotate_strategy="DeleteOldestNonDefaultVersionWhenLimitExceeded")))
    report.updated("policy", name)


def _attach(client: Any, policy: str, report: Report, *, role: str | None = None,
            user: str | None = None) -> None:
    who = f"role {role}" if role else f"user {user}"
    if role:
        listed = _call(f"list the policies of {who}", lambda: client.list_policies_for_role(
            ram.ListPoliciesForRoleRequest(role_name=role)))
    else:
        listed = _call(f"list the policies of {who}", lambda: client.list_policies_for_user(
            ram.ListPoliciesForUserRequest(user_name=user)))
    policies = listed.body.policies.policy if listed and listed.body.policies else []
    if any(p.policy_name == policy and p.policy_type == "Custom" for p in policies or []):
        report.unchanged("attachment", f"{policy} -> {who}")
        return
    if role:
        _call(f"attach {policy} to {who}", lambda: client.attach_policy_to_role(ram.AttachPolicyToRoleRequest(
            policy_type="Custom", policy_name=policy, role_name=role)))
    else:
        _call(f"attach {policy} to {who}", lambda: client.attach_policy_to_user(ram.AttachPolicyToUserRequest(
            policy_type="Custom", policy_name=policy, user_name=user)))
    report.created("attachment", f"{policy} -> {who}")


def ensure_role(client: Any, account_id: str, permissions: dict[str, Any], report: Report) -> str:
    """The role (trusting the account's RAM identities) with `permissions` attached; returns its ARN."""
    trust = trust_policy(account_id)
    got = _call(f"read role {ROLE_NAME}", lambda: client.get_role(ram.GetRoleRequest(role_name=ROLE_NAME)),
                missing="EntityNotExist.Role")
    if got is None:
        made = _call(f"create role {ROLE_NAME}", lambda: client.create_role(ram.CreateRoleRequest(
            role_name=ROLE_NAME, assume_role_policy_document=_dumps(trust),
            description="the OSS direct-upload workbook: app users' STS sessions",
            max_session_duration=MAX_SESSION_SECONDS)))
        arn = str(made.body.role.arn)  # type: ignore[union-attr]
        report.created("role", ROLE_NAME)
    else:
        role = got.body.role
        arn = str(role.arn)
        if _doc(role.assume_role_policy_document) == trust:
            report.unchanged("role", ROLE_NAME)
        else:
            _call(f"update the trust policy of role {ROLE_NAME}", lambda: client.update_role(
                ram.UpdateRoleRequest(role_name=ROLE_NAME, new_assume_role_policy_document=_dumps(trust))))
            report.updated("role", f"{ROLE_NAME} (trust policy)")
    ensure_policy(client, ROLE_POLICY, permissions, report)
    _attach(client, ROLE_POLICY, report, role=ROLE_NAME)
    return arn


def ensure_user(client: Any, role_arn: str, report: Report) -> None:
    """The app server's RAM user, allowed only sts:AssumeRole on `role_arn`."""
    got = _call(f"read user {USER_NAME}", lambda: client.get_user(ram.GetUserRequest(user_name=USER_NAME)),
                missing="EntityNotExist.User")
    if got is None:
        _call(f"create user {USER_NAME}", lambda: client.create_user(ram.CreateUserRequest(
            user_name=USER_NAME, display_name=USER_NAME,
            comments="the OSS direct-upload workbook's app server")))
        report.created("user", USER_NAME)
    else:
        report.unchanged("user", USER_NAME)
    ensure_policy(client, USER_POLICY, assume_role_policy(role_arn), report)
    _attach(client, USER_POLICY, report, user=USER_NAME)


def _key_ids(client: Any) -> list[str]:
    listed = _call(f"list the AccessKeys of user {USER_NAME}", lambda: client.list_access_keys(
        ram.ListAccessKeysRequest(user_name=USER_NAME)), missing="EntityNotExist.User")
    if listed is None or not listed.body.access_keys:
        return []
    return [str(k.access_key_id) for k in listed.body.access_keys.access_key or []]


def ensure_access_key(client: Any, recorded: tuple[str, str] | None, report: Report) -> tuple[str, str]:
    """The user's AccessKey: the one recorded in the env file if RAM still has it, else a new one.

    RAM shows a secret only when it creates a key, so keys the env file does not hold are useless
    here; rather than pile up more, refuse and say which keys exist (`SecretNotInEnvFile` is this
    command's own code, not a RAM one)."""
    existing = _key_ids(client)
    if recorded and recorded[0] in existing:
        report.unchanged("access-key", f"{mask_key_id(recorded[0])} of user {USER_NAME}")
        return recorded
    if existing:
        masked = ", ".join(mask_key_id(k) for k in existing)
        raise StepFailed(f"reuse an AccessKey of user {USER_NAME}", code="SecretNotInEnvFile", hint=(
            f"the user has AccessKey(s) {masked} but the env file does not hold their secret (lost?); "
            "restore the file, or run `down` with it to start afresh"))
    made = _call(f"create an AccessKey for user {USER_NAME}", lambda: client.create_access_key(
        ram.CreateAccessKeyRequest(user_name=USER_NAME)))
    key = made.body.access_key  # type: ignore[union-attr]
    report.created("access-key", f"{mask_key_id(str(key.access_key_id))} of user {USER_NAME}")
    return str(key.access_key_id), str(key.access_key_secret)


def remove_all(client: Any, report: Report) -> None:
    """Delete the workbook's user (its keys and attachment first), role (its attachment first) and
    both policies. Only these deterministic names: nothing else in the account is touched."""
    user = _call(f"read user {USER_NAME}", lambda: client.get_user(ram.GetUserRequest(user_name=USER_NAME)),
                 missing="EntityNotExist.User")
    if user is None:
        report.absent("user", USER_NAME)
    else:
        for key_id in _key_ids(client):
            _call(f"delete AccessKey {mask_key_id(key_id)}", lambda k=key_id: client.delete_access_key(  # type: ignore[misc]
                ram.DeleteAccessKeyRequest(user_name=USER_NAME, user_access_key_id=k)))
            report.deleted("access-key", f"{mask_key_id(key_id)} of user {USER_NAME}")
        _call(f"detach {USER_POLICY}", lambda: client.detach_policy_from_user(ram.DetachPolicyFromUserRequest(
            policy_type="Custom", policy_name=USER_POLICY, user_name=USER_NAME)),
            missing="EntityNotExist.User.Policy")
        _call(f"delete user {USER_NAME}", lambda: client.delete_user(
            ram.DeleteUserRequest(user_name=USER_NAME)))
        report.deleted("user", USER_NAME)
    role = _call(f"read role {ROLE_NAME}", lambda: client.get_role(ram.GetRoleRequest(role_name=ROLE_NAME)),
                 missing="EntityNotExist.Role")
    if role is None:
        report.absent("role", ROLE_NAME)
    else:
        _call(f"detach {ROLE_POLICY}", lambda: client.detach_policy_from_role(ram.DetachPolicyFromRoleRequest(
            policy_type="Custom", policy_name=ROLE_POLICY, role_name=ROLE_NAME)),
            missing="EntityNotExist.Role.Policy")
        _call(f"delete role {ROLE_NAME}", lambda: client.delete_role(
            ram.DeleteRoleRequest(role_name=ROLE_NAME)))
        report.deleted("role", ROLE_NAME)
    for policy in (USER_POLICY, ROLE_POLICY):
        gone = _call(f"delete policy {policy}", lambda p=policy: client.delete_policy(  # type: ignore[misc]
            ram.DeletePolicyRequest(policy_name=p, cascading_delete=True)), missing="EntityNotExist.Policy")
        (report.deleted if gone is not None else report.absent)("policy", policy)
