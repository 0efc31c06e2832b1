"""App users: password check and bearer session tokens.

Users are the demo users of the settings (`app_users`, from the credentials file on the local
target). Passwords are compared in constant time, and an unknown user costs the same comparison.

Session tokens are stateless JWTs (RFC 7519) made and checked by PyJWT, the library FastAPI's own
tutorial ("OAuth2 with Password (and hashing), Bearer with JWT tokens") uses: HS256 keyed with
`settings.session_secret`, claims `sub` (username), `iat` and `exp` (epoch seconds). Decoding
accepts HS256 only, so `alg: none` and any other algorithm are refused. A token is valid while
`exp` is in the future on the app server's clock (injectable, so checked here rather than by
PyJWT against the wall clock) and its user is still configured. Rotating `session_secret` logs
everyone out. Imports nothing from FastAPI.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jwt

from helpers.appserver.errors import NotAuthenticated
from helpers.protocol.scopes import user_prefix

if TYPE_CHECKING:
    from helpers.settings import Settings

ALGORITHM = "HS256"
MAX_TOKEN_CHARS = 1024
_DUMMY = b"\x00" * 32


@dataclass(frozen=True, slots=True)
class User:
    username: str

    @property
    def prefix(self) -> str:
        """The folder this user owns in the bucket (`helpers.protocol.scopes.user_prefix`)."""
        return user_prefix(self.username)


@dataclass(frozen=True, slots=True)
class Session:
    access_token: str
    expires_in: int


def authenticate(*, settings: Settings, username: str, password: str) -> User:
    """The user if the password matches, else NotAuthenticated (same message for every failure)."""
    stored = settings.app_users.get(username)
    expected = stored.get_secret_value().encode("utf-8") if stored is not None else _DUMMY
    ok = hmac.compare_digest(hashlib.sha256(password.encode("utf-8")).digest(),
                             hashlib.sha256(expected).digest())
    if stored is None or not ok:
        raise NotAuthenticated("invalid username or password")
    return User(username)


def _key(settings: Settings) -> bytes:
    return settings.session_secret.get_secret_value().encode("utf-8")


def issue_session(*, settings: Settings, user: User, now: Callable[[], float]) -> Session:
    """A signed bearer token for `user`, valid for `settings.session_ttl_seconds` from `now()`."""
    ttl = settings.session_ttl_seconds
    issued = int(now())
    claims = {"sub": user.username, "iat": issued, "exp": issued + ttl}
    return Session(access_token=jwt.encode(claims, _key(settings), algorithm=ALGORITHM), expires_in=ttl)


def user_for_token(*, settings: Settings, token: str, now: Callable[[], float]) -> User:
    """The user a bearer token names, or NotAuthenticated (malformed, forged, wrong algorithm,
    expired, unknown user)."""
    if len(token) > MAX_TOKEN_CHARS:
        raise NotAuthenticated("invalid session token")
    try:
        # Time claims are checked below on our clock; PyJWT would use the wall clock.
        claims = jwt.decode(token, _key(settings), algorithms=[ALGORITHM],
                            options={"require": ["sub", "iat", "exp"], "verify_exp": False,
                                     "verify_iat": False, "verify_nbf": False})
    except jwt.InvalidTokenError as exc:
        raise NotAuthenticated("invalid session token") from exc
    sub, exp = claims.get("sub"), claims.get("exp")
    if not isinstance(sub, str) or not isinstance(exp, int) or isinstance(exp, bool):
        raise NotAuthenticated("invalid session token")
    if exp <= now():
        raise NotAuthenticated("session expired")
    if sub not in settings.app_users:
        raise NotAuthenticated("invalid session token")
    return User(sub)
