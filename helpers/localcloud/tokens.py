"""STS temporary credentials that OSS can verify without shared state.

A token is `CAIS` + base64(JSON claims ‖ HMAC-SHA256(token_key, JSON claims)). The temporary
AccessKeySecret is derived from the AccessKey ID with the same key, so the OSS port can check a
signature made with it after a restart, and nothing but the key file needs to persist.
Real tokens are opaque base64 that starts with `CAIS` and contains `+ / =`; so do these.
This module imports nothing from Starlette.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ALNUM = string.ascii_letters + string.digits
_MAC_LEN = 32


class TokenError(ValueError):
    """The token is malformed, forged, or does not belong to the AccessKey ID it came with."""


class TokenMismatch(TokenError):
    """A genuine token, issued for another AccessKey ID."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    access_key_id: str
    account_id: str
    role_arn: str
    role_id: str
    session_name: str
    expiration: int          # epoch seconds (local-cloud clock)
    session_policy: str | None
    source_identity: str | None = None


@dataclass(frozen=True, slots=True)
class TemporaryCredentials:
    access_key_id: str
    access_key_secret: str
    security_token: str
    claims: TokenClaims


def load_or_create_key(path: Path) -> bytes:
    """The token key (32 random bytes), created with mode 0600 on first use."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


class TokenAuthority:
    """Mints and verifies temporary credentials with one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def secret_for(self, access_key_id: str) -> str:
        """The AccessKeySecret of a temporary AccessKey ID (derived, never stored)."""
        digest = hmac.new(self._key, b"secret:" + access_key_id.encode(), hashlib.sha256).digest()
        return "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:30])

    def mint(self, *, account_id: str, role_arn: str, role_id: str, session_name: str, expiration: int,
             session_policy: str | None, source_identity: str | None = None) -> TemporaryCredentials:
        ak = "STS.NT" + "".join(secrets.choice(_ALNUM) for _ in range(22))
        claims = TokenClaims(ak, account_id, role_arn, role_id, session_name, int(expiration),
                             session_policy, source_identity)
        payload: dict[str, Any] = {"v": 1, "ak": ak, "acct": account_id, "role": role_arn, "rid": role_id,
                                   "sess": session_name, "exp": int(expiration), "pol": session_policy,
                                   "src": source_identity}
        raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        mac = hmac.new(self._key, raw, hashlib.sha256).digest()
        token = "CAIS" + base64.b64encode(raw + mac).decode("ascii")
        return TemporaryCredentials(ak, self.secret_for(ak), token, claims)

    def verify(self, access_key_id: str, token: str) -> TokenClaims:
        """Claims of a genuine token issued for this AccessKey ID; raise TokenError otherwise.
        Expiry is not checked here: the caller compares `expiration` with its clock."""
        if not token.startswith("CAIS") or len(token) > 16384:
            raise TokenError("malformed token")
        try:
            blob = base64.b64decode(token[4:], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TokenError("malformed token") from exc
        raw, mac = blob[:-_MAC_LEN], blob[-_MAC_LEN:]
        if len(blob) <= _MAC_LEN or not hmac.compare_digest(
                mac, hmac.new(self._key, raw, hashlib.sha256).digest()):
            raise TokenError("bad token MAC")
        try:
            p = json.loads(raw)
            claims = TokenClaims(p["ak"], p["acct"], p["role"], p["rid"], p["sess"], int(p["exp"]),
                                 p.get("pol"), p.get("src"))
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenError("malformed claims") from exc
        if not hmac.compare_digest(claims.access_key_id.encode(), access_key_id.encode()):
            raise TokenMismatch("token does not belong to this AccessKey ID")
        return claims
