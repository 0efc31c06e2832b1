"""AssumeRole rules: authenticate the caller (RPC or ACS3 signature, nonce, timestamp, STS token),
validate the parameters, authorize (identity policy, role trust) and mint temporary credentials.

Works on a wire-neutral `StsRequest`; raises `StsError` for every refusal (rendered by `sts.app`).
Error codes and messages follow reference §10.4; those marked [unverified] there are best guesses.
Model code: imports nothing from Starlette.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from helpers.localcloud.accounts import Role
from helpers.localcloud.clock import iso8601_s
from helpers.localcloud.context import LocalCloud
from helpers.localcloud.errors import AccessDenied, StsError
from helpers.localcloud.oss.request import Principal
from helpers.localcloud.ram.policy import PolicyGrammarError, authorize, parse_policy, request_context
from helpers.localcloud.ram.trust import trusts
from helpers.localcloud.sts import signature as sig
from helpers.localcloud.tokens import TokenClaims, TokenError

logger = logging.getLogger(__name__)

API_VERSION = "2015-04-01"
SKEW_SECONDS = 15 * 60
NONCE_TTL_SECONDS = 15 * 60
NONCE_CACHE_MAX = 200_000          # bounded memory; oldest nonces are forgotten first
MIN_DURATION = 900
DEFAULT_DURATION = 3600
CHAINED_MAX_DURATION = 3600        # a role session assuming a role gets at most one hour
MAX_POLICY_CHARS = 2048

_ROLE_ARN_RE = re.compile(r"^acs:ram::(\d+):role/([A-Za-z0-9.\-]{1,64})$")
_SESSION_NAME_RE = re.compile(r"^[A-Za-z0-9.@_-]{2,64}$")
_EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_SOURCE_IDENTITY_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
_TIMESTAMP_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ")

NO_PERMISSION_ROLE = ("No permission perform sts:AssumeRole on this Role. Maybe you are not authorized to "
                      "perform sts:AssumeRole or the specified role does not trust you")


# ---- errors (status, code, message) -------------------------------------------------------------

def missing(name: str) -> StsError:
    return StsError(400, f"Missing{name}", f"{name} is mandatory for this action.")


def missing_header(name: str) -> StsError:
    return StsError(400, "MissingParameter",
                    f'The input parameter "{name}" that is mandatory for processing this request is not '
                    "supplied.")


def wrongly_formed(name: str) -> StsError:
    return StsError(400, f"InvalidParameter.{name}", f"The parameter {name} is wrongly formed.")


def signature_mismatch(string_to_sign: str) -> StsError:
    # aliyun-python-sdk-core splits this message on ':' and compares part [1] with its own string to
    # sign (reference §10.5); the string to sign is percent-encoded, so it holds no ':' itself.
    return StsError(400, "SignatureDoesNotMatch",
                    "Specified signature is not matched with our calculation. server string to sign is:"
                    + string_to_sign)


INCOMPLETE_SIGNATURE = ("IncompleteSignature", "The request signature does not conform to Aliyun standards.")


def incomplete_signature() -> StsError:
    return StsError(400, *INCOMPLETE_SIGNATURE)


def mask(value: str) -> str:
    """`abcd…(40 chars)`: enough to correlate log lines, never enough to use."""
    return f"{value[:4]}…({len(value)} chars)"


# ---- request and caller ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class StsRequest:
    """One STS request, decoded. `params` = query + form body (RPC signing set); `query` = the query
    string alone (ACS3 canonical query); `headers` = lower-case name → raw values as received."""

    method: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, tuple[str, ...]]
    body: bytes
    source_ip: str
    secure: bool
    request_id: str

    def header(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[0] if values else None

    @property
    def is_acs3(self) -> bool:
        return (self.header("authorization") or "").lstrip().startswith("ACS3-")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who signed: a RAM user, the account root, or a role session (STS token)."""

    principal: Principal
    claims: TokenClaims | None = None


class NonceCache:
    """SignatureNonce values seen in the last 15 minutes (real time), per AccessKey ID."""

    def __init__(self, ttl: float = NONCE_TTL_SECONDS, max_entries: int = NONCE_CACHE_MAX) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def use(self, access_key_id: str, nonce: str, now: float) -> bool:
        """Record the nonce; False when it was already used within the window."""
        key = f"{access_key_id}\n{nonce}"
        with self._lock:
            while self._seen:
                oldest_key, seen_at = next(iter(self._seen.items()))
                if now - seen_at < self._ttl and len(self._seen) < self._max:
                    break
                del self._seen[oldest_key]
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


def _parse_timestamp(value: str) -> float | None:
    for fmt in _TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    return None


# ---- the service ------------------------------------------------------------------------------------

class StsService:
    """AssumeRole against one LocalCloud. Thread-safe; the success counter lives in ctx.extras."""

    def __init__(self, ctx: LocalCloud) -> None:
        self.ctx = ctx
        self.nonces = NonceCache()
        self._count_lock = threading.Lock()
        ctx.extras.setdefault("sts_assume_role_calls", 0)

    # -- entry point

    def handle(self, req: StsRequest) -> dict[str, Any]:
        """Check everything, then mint. Returns the response document (without RequestId)."""
        self._check_action_and_version(req)
        caller = self._authenticate(req)
        result = self._assume_role(req, caller)
        with self._count_lock:
            calls = int(self.ctx.extras.get("sts_assume_role_calls", 0))
            self.ctx.extras["sts_assume_role_calls"] = calls + 1
        return result

    # -- protocol checks

    def _check_action_and_version(self, req: StsRequest) -> None:
        if req.is_acs3:
            action, version = req.header("x-acs-action"), req.header("x-acs-version")
        else:
            action, version = req.params.get("Action"), req.params.get("Version")
        if not action or action != "AssumeRole":
            raise StsError(404, "InvalidAction.NotFound",
                           "Specified api is not found, please check your url and method.")
        if not version:
            raise missing("Version")
        if version != API_VERSION:
            raise StsError(400, "InvalidVersion", "Specified parameter Version is not valid.")

    def _check_time(self, value: str) -> None:
        ts = _parse_timestamp(value)
        if ts is None:
            raise StsError(400, "InvalidTimeStamp.Format",
                           "Specified time stamp or date value is not well formatted.")
        if abs(ts - self.ctx.clock.real_now()) > SKEW_SECONDS:
            raise StsError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")

    def _check_nonce(self, access_key_id: str, nonce: str) -> None:
        if not self.nonces.use(access_key_id, nonce, self.ctx.clock.real_now()):
            raise StsError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")

    # -- authentication

    def _authenticate(self, req: StsRequest) -> Caller:
        return self._authenticate_acs3(req) if req.is_acs3 else self._authenticate_rpc(req)

    def _authenticate_rpc(self, req: StsRequest) -> Caller:
        p = req.params
        for name in ("AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce",
                     "Timestamp"):
            if not p.get(name):
                raise missing(name)
        if p["SignatureMethod"] != "HMAC-SHA1":
            raise StsError(400, "InvalidSignatureMethod", "Specified signature method is not supported.")
        if p["SignatureVersion"] != "1.0":
            raise StsError(400, "InvalidSignatureVersion", "Specified signature version is not supported.")
        if p.get("SignatureType", ""):
            raise StsError(400, "InvalidSignatureType", "Specified signature type is not supported.")
        self._check_time(p["Timestamp"])
        caller, secret = self._resolve_key(p["AccessKeyId"], p.get("SecurityToken"))
        check = sig.verify_rpc(req.method, p, secret, p["Signature"])
        if not check.ok:
            raise signature_mismatch(check.string_to_sign)
        self._check_nonce(p["AccessKeyId"], p["SignatureNonce"])
        return caller

    def _authenticate_acs3(self, req: StsRequest) -> Caller:
        try:
            auth = sig.parse_acs3_authorization(req.header("authorization") or "")
        except sig.SignatureFormatError as exc:
            raise incomplete_signature() from exc
        if auth.algorithm != sig.ACS3_ALGORITHM:
            raise StsError(400, "InvalidSignatureMethod", "Specified signature method is not supported.")
        for name in ("x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"):
            if not req.header(name):
                raise missing_header(name)
        # Host and every x-acs-* header must be covered by the signature, or they could be swapped.
        must_sign = {"host"} | {h for h in req.headers if h.startswith("x-acs-")}
        if not must_sign <= set(auth.signed_headers) or list(auth.signed_headers) != sorted(
                set(auth.signed_headers)):
            raise incomplete_signature()
        self._check_time(req.header("x-acs-date") or "")
        caller, secret = self._resolve_key(auth.access_key_id, req.header("x-acs-security-token"))
        check = sig.verify_acs3(auth, method=req.method, path="/", query=req.query, headers=req.headers,
                                body=req.body, secret=secret)
        if not check.ok:
            raise signature_mismatch(check.string_to_sign)
        self._check_nonce(auth.access_key_id, req.header("x-acs-signature-nonce") or "")
        return caller

    def _resolve_key(self, access_key_id: str, token: str | None) -> tuple[Caller, str]:
        """The caller and the secret to verify with; STS keys need their (genuine, unexpired) token."""
        if access_key_id.startswith("STS."):
            if not token:
                raise missing("SecurityToken")
            try:
                claims = self.ctx.tokens.verify(access_key_id, token)
            except TokenError as exc:
                if "does not belong" in str(exc):
                    raise StsError(400, "InvalidSecurityToken.MismatchWithAccessKey",
                                   "Specified SecurityToken mismatch with the AccessKey.") from exc
                raise StsError(400, "InvalidSecurityToken.Malformed",
                               "Specified SecurityToken is malformed.") from exc
            if claims.expiration <= self.ctx.clock.now():
                raise StsError(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
            role = self.ctx.accounts.role(claims.role_arn)
            role_name = role.name if role else claims.role_arn.rsplit("/", 1)[-1]
            session_policy = parse_policy(claims.session_policy) if claims.session_policy else None
            principal = Principal(
                kind="sts", account_id=claims.account_id, access_key_id=access_key_id,
                arn=f"acs:ram::{claims.account_id}:assumed-role/{role_name}/{claims.session_name}",
                policies=role.policies if role else (), session_policy=session_policy, auth_scheme="sts")
            return Caller(principal, claims), self.ctx.tokens.secret_for(access_key_id)
        ident = self.ctx.accounts.identity(access_key_id)
        if ident is None:
            raise StsError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        principal = Principal(kind="ram_user" if ident.kind == "ram_user" else "account",
                              account_id=ident.account_id, access_key_id=access_key_id, arn=ident.arn,
                              policies=ident.policies, auth_scheme="sts")
        return Caller(principal), ident.secret

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
        try:
            # The caller's own policies must allow sts:AssumeRole on the role (checked before existence,
            # so a caller limited to one role learns nothing about others).
            authorize(principal, action="sts:AssumeRole", resource=role.arn if role else role_arn,
                      context=context)
        except AccessDenied as exc:
            raise StsError(403, "NoPermission", NO_PERMISSION_ROLE) from exc
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
