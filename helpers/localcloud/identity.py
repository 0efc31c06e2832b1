"""Who holds an AccessKey: the one resolver that OSS, STS and RAM share, and the `Principal` it yields.

`resolve(access_key_id, token, now)` looks a long-term key up in RAM's state, or checks an STS key's
token (genuine, issued for that key, unexpired), and returns the caller with the secret to verify the
signature with; otherwise it raises `IdentityError` carrying a `Reason`. Each port maps a reason to its
own wire error through a table (`oss.auth`, `sts.authn`): the rules live here once, the wordings there.

Model code: imports nothing from Starlette and no wire error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from helpers.localcloud.accounts import Accounts
from helpers.localcloud.ram.grammar import PolicyGrammarError, parse_policy
from helpers.localcloud.tokens import TokenAuthority, TokenClaims, TokenError, TokenMismatch


@dataclass(frozen=True, slots=True)
class Principal:
    """Who signed the request.

    kind: `anonymous`, `account` (root AccessKey: full rights), `ram_user` (identity policies),
    or `sts` (role policies ∩ session policy).
    """

    kind: Literal["anonymous", "account", "ram_user", "sts"]
    account_id: str | None = None
    access_key_id: str | None = None
    arn: str | None = None
    policies: tuple[dict[str, Any], ...] = ()          # identity (RAM user) or role policies
    session_policy: dict[str, Any] | None = None        # STS only; None means no narrowing
    # v1 | v4 | v2 | v1-query | v4-query | v2-query | post-v1 | post-v4 (OSS) | sts (STS and RAM)
    auth_scheme: str = "anonymous"


class Reason(Enum):
    """Why an AccessKey (and its token) does not name a caller."""

    UNKNOWN_KEY = "unknown key"
    KEY_DISABLED = "disabled key"          # a long-term key whose status is Inactive
    TOKEN_MISSING = "token missing"        # an STS key sent without its SecurityToken
    TOKEN_INVALID = "token invalid"        # malformed or forged (bad MAC, bad claims)
    TOKEN_MISMATCH = "key/token mismatch"  # a genuine token issued for another AccessKey ID
    TOKEN_EXPIRED = "token expired"


class IdentityError(Exception):
    """The AccessKey (or its token) names no caller; `reason` says why. Holds no secret or token."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Resolved:
    """A resolved caller: the principal, the secret its signature must verify with, the STS claims
    (role sessions only) and the RAM user's name (RAM users only)."""

    principal: Principal
    secret: str = field(repr=False)
    claims: TokenClaims | None = None
    user_name: str | None = None


def token_expired(expiration: float, now: float) -> bool:
    """A token is expired once `now` is past its Expiration: valid through the Expiration second itself.

    The reference states no boundary for tokens; for a signed URL it says "reject if Expires < now"
    (oss-sts-protocol.md §4.1), and OSS applied the same rule to tokens, so one rule serves both
    [unverified: the real services' behaviour at the exact instant].
    """
    return expiration < now


def resolve(access_key_id: str, token: str | None, now: float, *, accounts: Accounts,
            tokens: TokenAuthority) -> Resolved:
    """The caller holding `access_key_id`; STS keys (`STS.` prefix) need their genuine, unexpired
    token. Raises IdentityError(reason) otherwise. `now` is the local cloud's (movable) clock."""
    if access_key_id.startswith("STS."):
        return _resolve_sts(access_key_id, token, now, accounts=accounts, tokens=tokens)
    found = accounts.ram.key_owner(access_key_id, active_only=False)
    if found is None:
        raise IdentityError(Reason.UNKNOWN_KEY)
    if found[1].status != "Active":
        raise IdentityError(Reason.KEY_DISABLED)
    ident = accounts.identity(access_key_id)
    if ident is None:   # deactivated or deleted between the two look-ups
        raise IdentityError(Reason.UNKNOWN_KEY)
    kind: Literal["account", "ram_user"] = "ram_user" if ident.kind == "ram_user" else "account"
    principal = Principal(kind=kind, account_id=ident.account_id, access_key_id=access_key_id,
                          arn=ident.arn, policies=ident.policies)
    return Resolved(principal, ident.secret, user_name=ident.name if kind == "ram_user" else None)


def _resolve_sts(access_key_id: str, token: str | None, now: float, *, accounts: Accounts,
                 tokens: TokenAuthority) -> Resolved:
    if not token:
        raise IdentityError(Reason.TOKEN_MISSING)
    try:
        claims = tokens.verify(access_key_id, token)
        # Grammar-checked when minted; a token that fails now was not minted by this code.
        session_policy = parse_policy(claims.session_policy) if claims.session_policy else None
    except TokenMismatch as exc:
        raise IdentityError(Reason.TOKEN_MISMATCH) from exc
    except (TokenError, PolicyGrammarError) as exc:
        raise IdentityError(Reason.TOKEN_INVALID) from exc
    if token_expired(claims.expiration, now):
        raise IdentityError(Reason.TOKEN_EXPIRED)
    role = accounts.role(claims.role_arn)
    role_name = role.name if role else claims.role_arn.rsplit("/", 1)[-1]
    principal = Principal(
        kind="sts", account_id=claims.account_id, access_key_id=access_key_id,
        arn=f"acs:ram::{claims.account_id}:assumed-role/{role_name}/{claims.session_name}",
        # A role that no longer exists grants nothing (empty policy list = implicit deny).
        policies=role.policies if role else (), session_policy=session_policy)
    return Resolved(principal, tokens.secret_for(access_key_id), claims=claims)
