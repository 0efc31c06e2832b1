"""AssumeRole rules: authenticate the caller (`sts.authn`: RPC or ACS3 signature, nonce, timestamp,
STS token), validate the parameters, authorize (identity policy, role trust) and mint temporary
credentials.

Works on a wire-neutral `StsRequest`; raises `StsError` for every refusal (rendered by `sts.app`).
Error codes and messages follow reference §10.4; those marked [unverified] there are best guesses.
Model code: imports nothing from Starlette.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from helpers.localcloud.accounts import Role
from helpers.localcloud.clock import iso8601_s
from helpers.localcloud.context import LocalCloud
from helpers.localcloud.errors import StsError
from helpers.localcloud.ram.grammar import PolicyGrammarError, parse_policy
from helpers.localcloud.ram.policy import allows, request_context
from helpers.localcloud.ram.trust import trusts
from helpers.localcloud.sts.authn import Authenticator, Caller, RpcRequest, mask, missing

logger = logging.getLogger(__name__)

API_VERSION = "2015-04-01"
MIN_DURATION = 900
DEFAULT_DURATION = 3600
CHAINED_MAX_DURATION = 3600        # a role session assuming a role gets at most one hour
MAX_POLICY_CHARS = 2048

_ROLE_ARN_RE = re.compile(r"^acs:ram::(\d+):role/([A-Za-z0-9.\-]{1,64})$")
_SESSION_NAME_RE = re.compile(r"^[A-Za-z0-9.@_-]{2,64}$")
_EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_SOURCE_IDENTITY_RE = re.compile(r"^[\w+=,.@-]{2,64}$")

NO_PERMISSION_ROLE = ("No permission perform sts:AssumeRole on this Role. Maybe you are not authorized to "
                      "perform sts:AssumeRole or the specified role does not trust you")

StsRequest = RpcRequest   # the wire-neutral request (sts.authn), under the name STS code knew it by


def wrongly_formed(name: str) -> StsError:
    return StsError(400, f"InvalidParameter.{name}", f"The parameter {name} is wrongly formed.")


def caller_identity(caller: Caller) -> dict[str, Any]:
    """GetCallerIdentity: who signed (needs no permission). Fields as in alibabacloud-sts20150401's
    GetCallerIdentityResponseBody; provisioning reads `AccountId` from it. The PrincipalId/UserId
    values of the real service are opaque numbers; these are [unverified] stand-ins."""
    p = caller.principal
    doc: dict[str, Any] = {"AccountId": p.account_id, "Arn": p.arn}
    if caller.claims is not None:
        doc.update(IdentityType="AssumedRoleUser", RoleId=caller.claims.role_id,
                   PrincipalId=f"{caller.claims.role_id}:{caller.claims.session_name}")
    elif p.kind == "ram_user":
        doc.update(IdentityType="RAMUser", UserId=caller.user_name, PrincipalId=caller.user_name)
    else:
        doc.update(IdentityType="Account", UserId=p.account_id, PrincipalId=p.account_id)
    return doc


# ---- the service ------------------------------------------------------------------------------------

class StsService:
    """AssumeRole against one LocalCloud. Thread-safe; the success counter lives in ctx.extras."""

    def __init__(self, ctx: LocalCloud) -> None:
        self.ctx = ctx
        self.authn = Authenticator(ctx, version=API_VERSION, actions=("AssumeRole", "GetCallerIdentity"))
        self._count_lock = threading.Lock()
        ctx.extras.setdefault("sts_assume_role_calls", 0)

    def handle(self, req: StsRequest) -> dict[str, Any]:
        """Check everything, then mint. Returns the response document (without RequestId)."""
        action = self.authn.action_of(req)
        caller = self.authn.authenticate(req)
        if action == "GetCallerIdentity":
            return caller_identity(caller)
        result = self._assume_role(req, caller)
        with self._count_lock:
            calls = int(self.ctx.extras.get("sts_assume_role_calls", 0))
            self.ctx.extras["sts_assume_role_calls"] = calls + 1
        return result

    # -- AssumeRole itself

    def _assume_role(self, req: StsRequest, caller: Caller) -> dict[str, Any]:
        p = req.params
        role_arn, session_name = p.get("RoleArn"), p.get("RoleSessionName")
        if not role_arn:
            raise missing("RoleArn")
        if not session_name:
            raise missing("RoleSessionName")
        if not _ROLE_ARN_RE.match(role_arn):
            raise wrongly_formed("RoleArn")
        if not _SESSION_NAME_RE.match(session_name):
            raise wrongly_formed("RoleSessionName")
        role = self.ctx.accounts.role(role_arn)
        max_duration = role.max_session_duration if role else DEFAULT_DURATION
        if caller.claims is not None:
            max_duration = min(max_duration, CHAINED_MAX_DURATION)
        duration = self._duration(p.get("DurationSeconds"), max_duration)
        policy_text = p.get("Policy") or None
        if policy_text is not None:
            if len(policy_text) > MAX_POLICY_CHARS:
                raise StsError(400, "InvalidParameter.PolicyLength",
                               f"The parameter Policy exceeds the maximum length of {MAX_POLICY_CHARS}.")
            try:
                parse_policy(policy_text)
            except PolicyGrammarError as exc:
                raise StsError(400, "InvalidParameter.PolicyGrammar",
                               "The parameter Policy has not passed grammar check.") from exc
        external_id = p.get("ExternalId") or None
        if external_id is not None and not _EXTERNAL_ID_RE.match(external_id):
            raise wrongly_formed("ExternalId")
        source_identity = p.get("SourceIdentity") or None
        if source_identity is not None and not _SOURCE_IDENTITY_RE.match(source_identity):
            raise wrongly_formed("SourceIdentity")

        principal = caller.principal
        if principal.kind == "account":
            raise StsError(403, "NoPermission", "Roles may not be assumed by root accounts.")
        extra = {k: v for k, v in (("sts:ExternalId", external_id), ("sts:SourceIdentity", source_identity))
                 if v is not None}
        context = request_context(source_ip=req.source_ip, now=self.ctx.clock.now(), secure=req.secure,
                                  user_agent=req.header("user-agent"), access_key_id=principal.access_key_id,
                                  extra=extra)
        # The caller's own policies must allow sts:AssumeRole on the role (checked before existence,
        # so a caller limited to one role learns nothing about others).
        if not allows(principal, action="sts:AssumeRole", resource=role.arn if role else role_arn,
                      context=context):
            raise StsError(403, "NoPermission", NO_PERMISSION_ROLE)
        if role is None:
            raise StsError(404, "EntityNotExist.Role", f"The role not exists: {role_arn}.")
        if not trusts(role.trust_policy, caller_arn=principal.arn or "",
                      caller_account_id=principal.account_id or "", context=context):
            raise StsError(403, "NoPermission", NO_PERMISSION_ROLE)
        if duration > max_duration:
            raise _duration_error(max_duration)

        expiration = int(self.ctx.clock.now()) + duration
        creds = self.ctx.tokens.mint(account_id=role.account_id, role_arn=role.arn, role_id=role.role_id,
                                     session_name=session_name, expiration=expiration,
                                     session_policy=policy_text, source_identity=source_identity)
        logger.info("AssumeRole by %s as %s/%s until %s -> %s", mask(principal.access_key_id or ""),
                    role.name, session_name, iso8601_s(expiration), mask(creds.access_key_id))
        doc: dict[str, Any] = {
            "AssumedRoleUser": {"AssumedRoleId": f"{role.role_id}:{session_name}",
                                "Arn": _session_arn(role, session_name)},
            "Credentials": {"AccessKeyId": creds.access_key_id, "AccessKeySecret": creds.access_key_secret,
                            "SecurityToken": creds.security_token, "Expiration": iso8601_s(expiration)},
        }
        if source_identity is not None:
            doc["SourceIdentity"] = source_identity
        return doc

    def _duration(self, raw: str | None, max_duration: int) -> int:
        if raw is None or raw == "":
            return DEFAULT_DURATION
        if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
            raise wrongly_formed("DurationSeconds")
        value = int(raw)
        if value < MIN_DURATION:
            raise _duration_error(max_duration)
        return value


def _duration_error(max_duration: int) -> StsError:
    hours = f"{max_duration // 3600}hr" if max_duration % 3600 == 0 else f"{max_duration}s"
    return StsError(400, "InvalidParameter.DurationSeconds",
                    f"The Min/Max value of DurationSeconds is 15min/{hours}.")


def _session_arn(role: Role, session_name: str) -> str:
    # Real STS lower-cases the role name in the assumed-role ARN (reference §10.5).
    return f"acs:ram::{role.account_id}:role/{role.name.lower()}/{session_name}"
