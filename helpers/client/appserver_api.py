"""A small httpx client for the app server's API (login, STS, signed URLs, PostObject policies).

    AppServerClient(base_url, *, transport=None)
      .login(username, password) -> Session     POST /api/login (keeps the bearer token)
      .sts(scope)               -> StsToken     GET  /api/sts?scope=upload|download
      .signed_url(method, key, ...) -> SignedUrl POST /api/signed-url
      .post_policy(key, ...)    -> PostPolicy   POST /api/post-policy
      .uploads()                -> list[dict]   GET  /api/uploads
      .trace(since)             -> (cursor, [exchange json])  GET /api/trace (for helpers.trace)

Every response's `Date` header is recorded (`last_server_date`, with the local time it arrived
at in `last_received_at`) so the credentials cache can correct for clock skew. Non-2xx answers
raise the `ClientError` hierarchy (re-exported here) with the app server's status and `detail`.
Nothing here logs or formats a secret. Imports nothing from `helpers.localcloud`/`helpers.appserver`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from helpers import http_clients
from helpers.client.credentials import TemporaryCredentials
from helpers.client.errors import (
    AppServerError,
    AppServerUnreachable,
    BadRequest,
    ClientError,
    CredentialsUnavailable,
    NotAuthenticated,
    OssAccessDenied,
    OssRequestError,
    OssUnreachable,
    PermissionDenied,
    ServiceUnavailable,
    app_server_error,
)
from helpers.protocol.times import parse_http_date, parse_iso8601

__all__ = [
    "AppServerClient", "AppServerError", "AppServerUnreachable", "BadRequest", "ClientError",
    "CredentialsUnavailable", "NotAuthenticated", "OssAccessDenied", "OssRequestError", "OssUnreachable",
    "PermissionDenied", "PostPolicy", "ServiceUnavailable", "Session", "SignedUrl", "StsToken",
]

Scope = Literal["upload", "download"]


@dataclass(frozen=True, slots=True)
class Session:
    token_type: str
    expires_in: int
    access_token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class StsToken:
    """`/api/sts`: the credentials plus where they may be used (bucket, region, endpoint, prefix)."""

    credentials: TemporaryCredentials
    bucket: str
    region: str
    endpoint: str
    prefix: str


@dataclass(frozen=True, slots=True)
class SignedUrl:
    url: str = field(repr=False)    # carries a signature and a security token
    method: str
    headers: dict[str, str]
    key: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class PostPolicy:
    url: str
    fields: dict[str, str] = field(repr=False)    # policy, signature, security token
    key: str
    expires_at: str


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):    # FastAPI validation errors: [{"loc": [...], "msg": ...}, ...]
        return "; ".join(f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg', '')}"
                         if isinstance(d, dict) else str(d) for d in detail)
    return str(detail)


class AppServerClient:
    """The app server's HTTP API. `transport=` lets tests route requests in-process."""

    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None,
                 timeout: float = 10.0, now: Callable[[], float] = time.time,
                 event_hooks: dict[str, list[Callable[..., Any]]] | None = None) -> None:
        self._http = http_clients.client(trust_env=True, base_url=base_url.rstrip("/"), transport=transport,
                                 timeout=timeout, event_hooks=event_hooks)
        self._now = now
        self._token: str | None = None
        self.last_server_date: float | None = None
        self.last_received_at: float | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AppServerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def logged_in(self) -> bool:
        return self._token is not None

    # -------------------------------------------------------------------------------------- calls

    def login(self, username: str, password: str) -> Session:
        body = self._call("POST", "/api/login", json={"username": username, "password": password}, auth=False)
        session = Session(token_type=str(body.get("token_type", "bearer")),
                          expires_in=int(body.get("expires_in", 0)), access_token=str(body["access_token"]))
        self._token = session.access_token
        return session

    def sts(self, scope: Scope) -> StsToken:
        body = self._call("GET", "/api/sts", params={"scope": scope})
        if str(body.get("StatusCode", "200")) != "200":
            raise ServiceUnavailable(502, f"STS token refused (StatusCode {body.get('StatusCode')})")
        try:
            creds = TemporaryCredentials(
                access_key_id=str(body["AccessKeyId"]), access_key_secret=str(body["AccessKeySecret"]),
                security_token=str(body["SecurityToken"]), expiration=parse_iso8601(str(body["Expiration"])),
                server_date=self.last_server_date)
            return StsToken(creds, bucket=str(body["Bucket"]), region=str(body["Region"]),
                            endpoint=str(body["Endpoint"]), prefix=str(body["Prefix"]))
        except (KeyError, ValueError) as exc:
            raise ClientError(f"malformed /api/sts answer ({type(exc).__name__} {exc.args[0]!r})") from None

    def signed_url(self, method: Literal["PUT", "GET"], key: str, *, content_type: str | None = None,
                   expires: int | None = None, download_name: str | None = None,
                   signature_version: Literal["v4", "v1"] | None = None) -> SignedUrl:
        payload: dict[str, Any] = {"method": method, "key": key}
        optional = {"content_type": content_type, "expires": expires, "download_name": download_name,
                    "signature_version": signature_version}
        payload.update({name: value for name, value in optional.items() if value is not None})
        body = self._call("POST", "/api/signed-url", json=payload)
        return SignedUrl(url=str(body["url"]), method=str(body["method"]),
                         headers={str(k): str(v) for k, v in (body.get("headers") or {}).items()},
                         key=str(body["key"]), expires_at=str(body["expires_at"]))

    def post_policy(self, key: str, *, content_type: str | None = None, max_size: int | None = None,
                    callback: bool = False, signature_version: Literal["v4", "v1"] | None = None,
                    ) -> PostPolicy:
        payload: dict[str, Any] = {"key": key, "callback": callback}
        if signature_version is not None:
            payload["signature_version"] = signature_version
        if content_type is not None:
            payload["content_type"] = content_type
        if max_size is not None:
            payload["max_size"] = max_size
        body = self._call("POST", "/api/post-policy", json=payload)
        return PostPolicy(url=str(body["url"]), fields={str(k): str(v) for k, v in body["fields"].items()},
                          key=str(body["key"]), expires_at=str(body["expires_at"]))

    def uploads(self, *, check: bool = False) -> list[dict[str, Any]]:
        """GET /api/uploads; with `check` each entry's `exists` says whether OSS still has it."""
        body = self._call("GET", "/api/uploads", params={"check": "true"} if check else None)
        if not isinstance(body, list):
            raise ClientError("malformed /api/uploads answer (expected a list)")
        return [dict(item) for item in body]

    def trace(self, since: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """The app server's masked record of this user's exchanges after `since`, and the next cursor."""
        body = self._call("GET", "/api/trace", params={"since": since})
        if not isinstance(body, dict) or not isinstance(body.get("exchanges"), list):
            raise ClientError("malformed /api/trace answer")
        return int(body.get("cursor", since)), [dict(item) for item in body["exchanges"]]

    # ---------------------------------------------------------------------------------- transport

    def _call(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> Any:
        headers = {}
        if auth:
            if self._token is None:
                raise NotAuthenticated(401, "log in first")
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise AppServerUnreachable(f"app server unreachable: {type(exc).__name__}") from exc
        self.last_received_at = self._now()
        self.last_server_date = parse_http_date(response.headers.get("date"))
        if response.status_code >= 400:
            raise app_server_error(response.status_code, _detail(response))
        try:
            return response.json()
        except ValueError:
            raise ClientError(f"{method} {path}: the app server did not answer JSON") from None
