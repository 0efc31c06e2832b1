"""App users: password check and bearer session tokens.

Users are the demo users of the settings (`app_users`, from the credentials file on the local
target). Passwords are compared in constant time, and an unknown user costs the same comparison.

Session tokens are stateless and HMAC-signed (our choice: nothing to store, nothing to clean up):

    wb1.<base64url(JSON {"sub": username, "exp": epoch seconds, "jti": random})>.<base64url(HMAC-SHA256)>

keyed with `settings.session_secret`. A token is valid while `exp` is in the future and its user is
still configured. Rotating `session_secret` logs everyone out. Imports nothing from FastAPI.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from helpers.appserver.errors import NotAuthenticated

if TYPE_CHECKING:
    from helpers.settings import Settings

TOKEN_PREFIX = "wb1"
_DUMMY = b"\x00" * 32


@dataclass(frozen=True, slots=True)
class User:
    username: str

    @property
    def prefix(self) -> str:
        """The folder this user owns in the bucket (the prefix rule lives in services.signing/sts)."""
        return f"users/{self.username}/"


@dataclass(frozen=True, slots=True)
class Session:
    access_token: str
    expires_in: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def authenticate(*, settings: Settings, username: str, password: str) -> User:
    """The user if the password matches, else NotAuthenticated (same message for every failure)."""
    stored = settings.app_users.get(username)
    expected = stored.get_secret_value().encode("utf-8") if stored is not None else _DUMMY
    ok = hmac.compare_digest(hashlib.sha256(password.encode("utf-8")).digest(),
                             hashlib.sha256(expected).digest())
    if stored is None or not ok:
        raise NotAuthenticated("invalid username or password")
    return User(username)


def _mac(settings: Settings, signed: str) -> bytes:
    return hmac.new(settings.session_secret.get_secret_value().encode("utf-8"), signed.encode("ascii"),
                    hashlib.sha256).digest()


def issue_session(*, settings: Settings, user: User, now: Callable[[], float]) -> Session:
    ttl = settings.session_ttl_seconds
    claims = {"sub": user.username, "exp": int(now()) + ttl, "jti": secrets.token_urlsafe(9)}
    signed = f"{TOKEN_PREFIX}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    return Session(access_token=f"{signed}.{_b64(_mac(settings, signed))}", expires_in=ttl)


def user_for_token(*, settings: Settings, token: str, now: Callable[[], float]) -> User:
    """The user a bearer token names, or NotAuthenticated (malformed, forged, expired, unknown user)."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(token) > 1024:
        raise NotAuthenticated("invalid session token")
    signed = f"{parts[0]}.{parts[1]}"
    try:
        mac = _unb64(parts[2])
        claims = json.loads(_unb64(parts[1]))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise NotAuthenticated("invalid session token") from exc
    if not hmac.compare_digest(mac, _mac(settings, signed)):
        raise NotAuthenticated("invalid session token")
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int) \
            or not isinstance(claims.get("sub"), str):
        raise NotAuthenticated("invalid session token")
    if claims["exp"] <= now():
        raise NotAuthenticated("session expired")
    if claims["sub"] not in settings.app_users:
        raise NotAuthenticated("invalid session token")
    return User(claims["sub"])
