"""RAM API parameters and errors: reading and validating request parameters, the error codes and
messages of ram-api.md §6, and the response shapes shared by several actions (dates, list pages).

Pure model code: imports nothing from Starlette.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from helpers.localcloud.errors import StsError
from helpers.localcloud.ram.grammar import PolicyGrammarError, parse_policy
from helpers.localcloud.ram.state import RamData, RamState

T = TypeVar("T")

_USER_NAME = re.compile(r"^[A-Za-z0-9.@_-]{1,64}$")
_ROLE_NAME = re.compile(r"^[A-Za-z0-9.@-]{1,64}$")
_POLICY_NAME = re.compile(r"^[A-Za-z0-9-]{1,128}$")
_DISPLAY_NAME = re.compile(r"^[^\x00-\x1f]{1,128}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MOBILE = re.compile(r"^(\d{1,4}-)?\d{5,20}$")
MAX_POLICY_DOCUMENT = 6144
MAX_TRUST_DOCUMENT = 4096      # [unverified] ram-api.md §10: the trust-policy limit was not found


# ---- errors -----------------------------------------------------------------------------------------

def already_exists(what: str) -> StsError:
    # Policy: EM's text is a copy-paste slip ("The group ..."); "The policy ..." is [unverified].
    return StsError(409, f"EntityAlreadyExists.{what}", f"The {what.lower()} does already EXIST.")


def not_exist(what: str) -> StsError:
    messages = {"User.AccessKey": "The user access key does not exist.",
                "Policy.Version": "The policy version does not exist.",
                "User.Policy": "The indicate policy of the user does not exist.",
                "Role.Policy": "The indicate policy of the role does not exist."}   # [unverified]
    return StsError(404, f"EntityNotExist.{what}", messages.get(what, f"The {what.lower()} does not exist."))


DELETE_CONFLICTS = {
    "User.AccessKey": "The user CAN NOT has any access key while deleting the user.",
    "User.Policy": "The user CAN NOT has any attached policy while deleting the user.",
    "Role.Policy": "The role CAN NOT has any attached policy while deleting the role.",
    "Policy.User": "The policy CAN NOT been attached to any user while deleting the policy.",
    "Policy.Role": "The policy CAN NOT been attached to any role while deleting the policy.",   # [unverified]
    "Policy.Version": "The policy CAN NOT has any version except the default version.",
    "Policy.Version.Default": "The default policy version CAN NOT been deleted directly.",
}


def delete_conflict(what: str) -> StsError:
    return StsError(409, f"DeleteConflict.{what}", DELETE_CONFLICTS[what])


def limit_exceeded(what: str, message: str) -> StsError:
    return StsError(409, f"LimitExceeded.{what}", message)


def invalid_chars(name: str) -> StsError:
    return StsError(400, f"InvalidParameter.{name}.InvalidChars",
                    f'The parameter - "{name}" contains invalid chars.')


def too_long(name: str) -> StsError:
    return StsError(400, f"InvalidParameter.{name}.Length",
                    f'The parameter - "{name}" beyond the length limit.')


def invalid(name: str, what: str = "is incorrect") -> StsError:
    return StsError(400, f"InvalidParameter.{name}", f'The parameter - "{name}" {what}.')


def missing(name: str) -> StsError:
    # [unverified] generic POP text for a missing required parameter (ram-api.md §6, last row).
    return StsError(400, f"Missing{name}", f"{name} is mandatory for this action.")


def malformed(detail: str) -> StsError:
    return StsError(400, "MalformedPolicyDocument", f"The policy document is malformed: {detail}.")


def no_permission() -> StsError:
    return StsError(403, "NoPermission", "You are not authorized to do this action.")


# ---- parameters -------------------------------------------------------------------------------------

class Params:
    """Request parameters (query + form) with RAM's validation rules."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = raw

    def opt(self, name: str) -> str | None:
        value = self.raw.get(name)
        return value if value else None

    def req(self, name: str) -> str:
        value = self.opt(name)
        if value is None:
            raise missing(name)
        return value

    def _named(self, name: str, pattern: re.Pattern[str], limit: int, *, required: bool = True) -> str | None:
        value = self.req(name) if required else self.opt(name)
        if value is None:
            return None
        if len(value) > limit:
            raise too_long(name)
        if not pattern.match(value):
            raise invalid_chars(name)
        return value

    def user_name(self, name: str = "UserName", *, required: bool = True) -> str | None:
        return self._named(name, _USER_NAME, 64, required=required)

    def role_name(self, name: str = "RoleName") -> str:
        return self._named(name, _ROLE_NAME, 64) or ""

    def policy_name(self, name: str = "PolicyName") -> str:
        return self._named(name, _POLICY_NAME, 128) or ""

    def text(self, name: str, limit: int, pattern: re.Pattern[str] | None = None) -> str | None:
        value = self.opt(name)
        if value is None:
            return None
        if len(value) > limit:
            raise too_long(name)
        if pattern is not None and not pattern.match(value):
            raise invalid_chars(name)
        return value

    def display_name(self, name: str) -> str | None:
        return self.text(name, 128, _DISPLAY_NAME)

    def email(self, name: str) -> str | None:
        value = self.text(name, 128)
        if value is not None and not _EMAIL.match(value):
            raise invalid(f"{name}.Format", "format is incorrect")
        return value

    def mobile(self, name: str) -> str | None:
        value = self.text(name, 32)
        if value is not None and not _MOBILE.match(value):
            raise invalid(f"{name}.Format", "format is incorrect")
        return value

    def boolean(self, name: str) -> bool:
        """SDKs send Python's `str(bool)` (`True`/`False`); accept any case (ram-api.md §3)."""
        value = (self.opt(name) or "false").lower()
        if value not in ("true", "false"):
            raise invalid(name)
        return value == "true"

    def integer(self, name: str, low: int, high: int, default: int) -> int:
        value = self.opt(name)
        if value is None:
            return default
        if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
            raise invalid(name)
        return int(value)

    def policy_type(self, *, required: bool = True) -> str | None:
        value = self.req("PolicyType") if required else self.opt("PolicyType")
        if value is not None and value not in ("System", "Custom"):
            raise invalid("PolicyType")
        return value

    def document(self, name: str, *, trust: bool = False) -> str:
        """A policy document that passes RAM's grammar check, as the text sent."""
        value = self.req(name)
        if len(value) > (MAX_TRUST_DOCUMENT if trust else MAX_POLICY_DOCUMENT):
            raise too_long(name)
        try:
            parse_policy(value, allow_principal=trust)
        except PolicyGrammarError as exc:
            raise malformed(str(exc)) from exc
        return value


# ---- shapes -----------------------------------------------------------------------------------------

def iso(epoch: float) -> str:
    """RAM's timestamp format: UTC `YYYY-MM-DDThh:mm:ssZ`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def page(params: Params, items: Sequence[T], key: Callable[[T], str], outer: str, inner: str,
         render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """One page of a Marker/MaxItems listing, sorted by `key`; the Marker is the next item's key."""
    max_items = params.integer("MaxItems", 1, 1000, 100)
    marker = params.opt("Marker")
    ordered = sorted(items, key=key)
    if marker is not None:
        ordered = [i for i in ordered if key(i) >= marker]
    chunk, rest = ordered[:max_items], ordered[max_items:]
    doc: dict[str, Any] = {"IsTruncated": bool(rest), outer: {inner: [render(i) for i in chunk]}}
    if rest:
        doc["Marker"] = key(rest[0])
    return doc


@dataclass
class RamCall:
    """One authorized RAM call: its parameters, the account's data (inside a transaction), the time."""

    params: Params
    data: RamData
    state: RamState
    now: int
    account_id: str
    caller_user: str | None      # the calling RAM user's name, if the caller is one

    def role_arn(self, name: str) -> str:
        # The ARN lower-cases the role name (ram-api.md §4.2).
        return f"acs:ram::{self.account_id}:role/{name.lower()}"
