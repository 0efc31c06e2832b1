"""OSS's side of the shared identity resolver: the AccessKey's secret and principal, or the OSS error
for the reason `identity.resolve` gives (reference §5.2), and where a request carries its STS token
(§5.1). This module imports nothing from Starlette.
"""

from __future__ import annotations

from collections.abc import Callable

from helpers.localcloud import errors
from helpers.localcloud.accounts import Accounts
from helpers.localcloud.clock import Clock
from helpers.localcloud.identity import IdentityError, Principal, Reason, resolve
from helpers.localcloud.oss.request import OssRequest
from helpers.localcloud.tokens import TokenAuthority

_STS_LOST = (errors.InvalidAccessKeyId.default_message
             + " The Security Token may be lost to specify that it is a STS Access Id.")
EC_STS_LOST = "0002-00000003"

# Each reason the shared resolver gives, as OSS says it (reference §5.2). (AccessKey ID, token) → error.
REFUSALS: dict[Reason, Callable[[str, str], errors.OssError]] = {
    Reason.UNKNOWN_KEY: lambda ak, token: errors.InvalidAccessKeyId(OSSAccessKeyId=ak),
    # [unverified] real OSS's answer for an Inactive key; it reads as unknown, as it always has here.
    Reason.KEY_DISABLED: lambda ak, token: errors.InvalidAccessKeyId(OSSAccessKeyId=ak),
    Reason.TOKEN_MISSING: lambda ak, token: errors.InvalidAccessKeyId(_STS_LOST, ec=EC_STS_LOST,
                                                                      OSSAccessKeyId=ak),
    Reason.TOKEN_INVALID: lambda ak, token: errors.InvalidSecurityToken(SecurityToken=token),
    Reason.TOKEN_MISMATCH: lambda ak, token: errors.InvalidSecurityToken(SecurityToken=token),
    Reason.TOKEN_EXPIRED: lambda ak, token: errors.SecurityTokenExpired(SecurityToken=token),
}


def resolve_key(ak: str, token: str | None, *, accounts: Accounts, tokens: TokenAuthority,
             clock: Clock) -> tuple[str, Principal]:
    """(secret, principal) for an AccessKey ID (`identity.resolve`), or the OSS error for its reason."""
    try:
        who = resolve(ak, token, clock.now(), accounts=accounts, tokens=tokens)
    except IdentityError as exc:
        raise REFUSALS[exc.reason](ak, token or "") from exc
    return who.secret, who.principal


def request_token(req: OssRequest) -> str | None:
    """First non-empty carrier in §5.1 order."""
    for value in (req.headers.get("x-oss-security-token"), req.headers.get("security-token"),
                  req.q("security-token"), req.q("x-oss-security-token")):
        if value:
            return value
    return None
