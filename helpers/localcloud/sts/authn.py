"""Who signed an RPC-style (POP) request: the checks STS and RAM share.

Action/version routing, RPC HMAC-SHA1 and ACS3-HMAC-SHA256 signatures (`sts.signature`), timestamp
skew, nonce replay, and the AccessKey → caller resolution (long-term keys from RAM's state, STS keys
from their token). Works on a wire-neutral `RpcRequest`; raises `StsError` (the POP JSON error) for
every refusal. Model code: imports nothing from Starlette.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from helpers.localcloud.context import LocalCloud
from helpers.localcloud.errors import StsError
from helpers.localcloud.identity import IdentityError, Principal, Reason, resolve
from helpers.localcloud.sts import signature as sig
from helpers.localcloud.tokens import TokenClaims

SKEW_SECONDS = 15 * 60
NONCE_TTL_SECONDS = 15 * 60
NONCE_CACHE_MAX = 200_000          # bounded memory; oldest nonces are forgotten first
_TIMESTAMP_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ")


# ---- errors (status, code, message) -------------------------------------------------------------

def missing(name: str) -> StsError:
    return StsError(400, f"Missing{name}", f"{name} is mandatory for this action.")


def missing_header(name: str) -> StsError:
    return StsError(400, "MissingParameter",
                    f'The input parameter "{name}" that is mandatory for processing this request is not '
                    "supplied.")


def signature_mismatch(string_to_sign: str) -> StsError:
    # aliyun-python-sdk-core splits this message on ':' and compares part [1] with its own string to
    # sign (reference §10.5); the string to sign is percent-encoded, so it holds no ':' itself.
    return StsError(400, "SignatureDoesNotMatch",
                    "Specified signature is not matched with our calculation. server string to sign is:"
                    + string_to_sign)


INCOMPLETE_SIGNATURE = ("IncompleteSignature", "The request signature does not conform to Aliyun standards.")


def incomplete_signature() -> StsError:
    return StsError(400, *INCOMPLETE_SIGNATURE)


def action_not_found() -> StsError:
    return StsError(404, "InvalidAction.NotFound",
                    "Specified api is not found, please check your url and method.")


# Each reason the shared resolver gives, as STS and RAM say it (reference §10.4).
def _unknown_key() -> StsError:
    return StsError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")


REFUSALS: dict[Reason, Callable[[], StsError]] = {
    Reason.UNKNOWN_KEY: _unknown_key,
    # Reference §10.4 documents `InvalidAccessKeyId.Inactive` "Specified access key is disabled."; an
    # Inactive key has always read as unknown here, and stays so until a test pins the real answer.
    Reason.KEY_DISABLED: _unknown_key,
    Reason.TOKEN_MISSING: lambda: missing("SecurityToken"),
    Reason.TOKEN_INVALID: lambda: StsError(400, "InvalidSecurityToken.Malformed",
                                           "Specified SecurityToken is malformed."),
    Reason.TOKEN_MISMATCH: lambda: StsError(400, "InvalidSecurityToken.MismatchWithAccessKey",
                                            "Specified SecurityToken mismatch with the AccessKey."),
    Reason.TOKEN_EXPIRED: lambda: StsError(400, "InvalidSecurityToken.Expired",
                                           "Specified SecurityToken is expired."),
}


def mask(value: str) -> str:
    """`abcd…(40 chars)`: enough to correlate log lines, never enough to use."""
    return f"{value[:4]}…({len(value)} chars)"


# ---- request and caller ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RpcRequest:
    """One RPC request, decoded. `params` = query + form body (RPC signing set); `query` = the query
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
    user_name: str | None = None       # the RAM user's name, for `kind == "ram_user"`


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


class Authenticator:
    """Routing and signature checks of one RPC product (`version`, `actions`) over one LocalCloud."""

    def __init__(self, ctx: LocalCloud, *, version: str, actions: Collection[str]) -> None:
        self.ctx = ctx
        self.version = version
        self.actions = frozenset(actions)
        self.nonces = NonceCache()

    def action_of(self, req: RpcRequest) -> str:
        """The requested action, after checking it and the API version (ACS3: from the headers only)."""
        if req.is_acs3:
            action, version = req.header("x-acs-action"), req.header("x-acs-version")
        else:
            # RPC: only the signed query parameters count, not the (unsigned) x-acs-* headers.
            action, version = req.params.get("Action"), req.params.get("Version")
        if not action or action not in self.actions:
            raise action_not_found()
        if not version:
            raise missing("Version")
        if version != self.version:
            raise StsError(400, "InvalidVersion", "Specified parameter Version is not valid.")
        return action

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

    def authenticate(self, req: RpcRequest) -> Caller:
        """The verified caller, or StsError (missing fields, skew, unknown key, bad signature, replay)."""
        return self._authenticate_acs3(req) if req.is_acs3 else self._authenticate_rpc(req)

    def _authenticate_rpc(self, req: RpcRequest) -> Caller:
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

    def _authenticate_acs3(self, req: RpcRequest) -> Caller:
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
        """The caller and the secret to verify with (`identity.resolve`), or the STS error for its reason."""
        try:
            who = resolve(access_key_id, token, self.ctx.clock.now(), accounts=self.ctx.accounts,
                          tokens=self.ctx.tokens)
        except IdentityError as exc:
            raise REFUSALS[exc.reason]() from exc
        principal = replace(who.principal, auth_scheme="sts")
        return Caller(principal, who.claims, who.user_name), who.secret
