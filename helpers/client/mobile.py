"""MobileClient: what a phone app does with the app server and OSS, in Python.

    c = MobileClient(appserver_url, "alice", password)       logs in (POST /api/login)
    c.upload("a.txt", b"...")            STS (scope upload) + oss2 PutObject (or sdk="v2")
    c.download("a.txt")                  STS (scope download) + oss2 GetObject
    c.upload_signed("a.txt", b"...", "text/plain")   signed PUT URL, plain httpx (a web view)
    c.download_signed("a.txt", download_name="A.txt")
    c.upload_form("a.txt", b"...", callback=True)    PostObject form, file as the last field
    c.upload_resumable("big.bin", path, part_size=..., progress=cb)   oss2.resumable_upload
    c.list_uploads()                     GET /api/uploads
    c.masked()                           the cached STS credentials, masked, for display
    MobileClient(..., recorder=helpers.trace.Recorder())   records every exchange (masked) for diagrams

Keys are relative to the user's folder (`Prefix` from /api/sts, e.g. `users/alice/`); a key that
already starts with that prefix is taken as full, and `absolute=True` addresses any key (so
OSS, not this client, decides: another user's key gets AccessDenied). One caching credentials
provider per STS scope backs every SDK call through `oss2.ProviderAuthV4` (or the v2 SDK's
provider interface), so a token refreshed in the middle of a multipart upload is simply used
by the next part. An expired bearer session is renewed by logging in again once.

Never sees the developer's AccessKey; imports nothing from `helpers.localcloud`/`helpers.appserver`.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx
import oss2

from helpers import http_clients
from helpers.client.appserver_api import AppServerClient, Scope, StsToken
from helpers.client.credentials import (
    CachingCredentialsProvider,
    TemporaryCredentials,
    oss2_auth,
)
from helpers.client.errors import NotAuthenticated, OssUnreachable
from helpers.client.results import (
    DownloadResult,
    UploadResult,
    call_oss2,
    call_v2,
    callback_reply,
    check_crc,
    crc64,
    crc_str,
    raise_for_oss,
)

if TYPE_CHECKING:
    import alibabacloud_oss_v2 as oss_v2

    from helpers.trace import Recorder

logger = logging.getLogger(__name__)

T = TypeVar("T")
Sdk = Literal["oss2", "v2"]
Progress = Callable[[int, int | None], None]
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Target:
    """Where the STS credentials may be used, as /api/sts said."""

    bucket: str
    region: str
    endpoint: str
    prefix: str


class MobileClient:
    """An app user's client. `now`, `transport` and `oss_transport` are injectable for tests."""

    def __init__(self, appserver_url: str, username: str, password: str, *,
                 signature_version: Literal["v4", "v1"] = "v4", refresh_margin: float = 300.0,
                 now: Callable[[], float] = time.time, transport: httpx.BaseTransport | None = None,
                 oss_transport: httpx.BaseTransport | None = None, checkpoint_dir: str | Path | None = None,
                 timeout: float = 30.0, recorder: Recorder | None = None) -> None:
        self.username = username
        self._password = password
        self.signature_version = signature_version
        self.recorder = recorder
        self.api = AppServerClient(appserver_url, transport=transport, now=now,
                                   event_hooks=recorder.httpx_hooks("AppServer") if recorder else None)
        self._http = http_clients.client(trust_env=True, transport=oss_transport, timeout=timeout,
                                 event_hooks=recorder.httpx_hooks("OSS") if recorder else None)
        if recorder is not None:
            recorder.add_source(self.api.trace)
        self._checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else Path(tempfile.gettempdir())
        self._targets: dict[str, Target] = {}
        self._lock = threading.Lock()
        self._oss2_buckets: dict[str, oss2.Bucket] = {}
        self._v2_clients: dict[str, oss_v2.Client] = {}
        self.providers: dict[Scope, CachingCredentialsProvider] = {
            scope: CachingCredentialsProvider(self._fetcher(scope), refresh_margin=refresh_margin, now=now)
            for scope in ("upload", "download")
        }
        self.api.login(username, password)

    def __repr__(self) -> str:
        return f"MobileClient(user={self.username!r})"

    def close(self) -> None:
        self._http.close()
        self.api.close()

    def __enter__(self) -> MobileClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ credentials

    def _authed(self, call: Callable[[], T]) -> T:
        """Call the app server; on 401 (session expired) log in again once and retry."""
        try:
            return call()
        except NotAuthenticated:
            logger.info("bearer session of %s refused; logging in again", self.username)
            self.api.login(self.username, self._password)
            return call()

    def _fetcher(self, scope: Scope) -> Callable[[], TemporaryCredentials]:
        def fetch() -> TemporaryCredentials:
            token: StsToken = self._authed(lambda: self.api.sts(scope))
            self._targets[scope] = Target(token.bucket, token.region, token.endpoint, token.prefix)
            return token.credentials
        return fetch

    def target(self, scope: Scope = "upload") -> Target:
        """Bucket, region, endpoint and prefix of a scope (fetches credentials the first time)."""
        if scope not in self._targets:
            self.providers[scope].get()
        return self._targets[scope]

    def masked(self) -> dict[str, dict[str, str] | None]:
        """The cached STS credentials per scope, masked for display."""
        return {scope: p.masked() for scope, p in self.providers.items()}

    @property
    def fetch_count(self) -> int:
        return sum(p.fetch_count for p in self.providers.values())

    def full_key(self, key: str, scope: Scope = "upload", *, absolute: bool = False) -> str:
        if absolute:
            return key
        prefix = self.target(scope).prefix
        return key if key.startswith(prefix) else prefix + key.lstrip("/")

    def oss2_bucket(self, scope: Scope) -> oss2.Bucket:
        """An oss2 Bucket whose every request is signed with the scope's current STS credentials."""
        with self._lock:
            bucket = self._oss2_buckets.get(scope)
        if bucket is None:
            t = self.target(scope)
            session = oss2.Session()
            if self.recorder is not None:
                self.recorder.install_requests(session.session, "OSS")
            bucket = oss2.Bucket(oss2_auth(self.providers[scope], self.signature_version), t.endpoint,
                                 t.bucket, region=t.region, session=session)
            with self._lock:
                bucket = self._oss2_buckets.setdefault(scope, bucket)
        return bucket

    def v2_client(self, scope: Scope) -> oss_v2.Client:
        """An alibabacloud_oss_v2 client backed by the scope's caching provider."""
        import alibabacloud_oss_v2 as oss_v2  # imported on first use: most clients never need it

        from helpers.client.credentials_v2 import OssV2CredentialsProvider

        with self._lock:
            client = self._v2_clients.get(scope)
        if client is None:
            t = self.target(scope)
            cfg = oss_v2.config.load_default()
            cfg.credentials_provider = OssV2CredentialsProvider(self.providers[scope])
            cfg.region, cfg.endpoint, cfg.signature_version = t.region, t.endpoint, self.signature_version
            if self.recorder is not None:
                http_client = oss_v2.transport.RequestsHttpClient()
                http_client.open()    # creates its session (with the SDK's adapter) to hook
                self.recorder.install_requests(http_client.session, "OSS")
                cfg.http_client = http_client
            client = oss_v2.Client(cfg)
            with self._lock:
                client = self._v2_clients.setdefault(scope, client)
        return client

    def _invalidator(self, scope: Scope) -> Callable[[], None]:
        return self.providers[scope].invalidate

    # ---------------------------------------------------------------------------- STS + SDK

    def upload(self, key: str, data: bytes | os.PathLike[str], *, content_type: str | None = None,
               sdk: Sdk = "oss2") -> UploadResult:
        """PutObject with upload-scope STS credentials, through oss2 (default) or the v2 SDK."""
        full = self.full_key(key, "upload")
        headers = {"Content-Type": content_type} if content_type else None
        if isinstance(data, bytes | bytearray | memoryview):
            raw = bytes(data)
            body: bytes | None = raw
            path = None
            size = len(raw)
        elif isinstance(data, os.PathLike):
            body, path = None, Path(data)
            size = path.stat().st_size
        else:
            raise TypeError("data must be bytes or a path (pathlib.Path), not " + type(data).__name__)
        on_cred = self._invalidator("upload")
        if sdk == "oss2":
            bucket = self.oss2_bucket("upload")

            def put_oss2() -> Any:
                if body is not None:
                    return bucket.put_object(full, body, headers=headers)
                return bucket.put_object_from_file(full, str(path), headers=headers)
            result = call_oss2(put_oss2, on_credential_error=on_cred)
            return UploadResult(full, result.status, _etag(result.etag), crc_str(result.crc), size,
                                result.request_id)
        client, bucket_name = self.v2_client("upload"), self.target("upload").bucket
        import alibabacloud_oss_v2 as oss_v2  # loaded by v2_client

        def put_v2() -> Any:
            if body is not None:
                return client.put_object(oss_v2.PutObjectRequest(bucket=bucket_name, key=full, body=body,
                                                                  content_type=content_type))
            with open(str(path), "rb") as f:
                return client.put_object(oss_v2.PutObjectRequest(bucket=bucket_name, key=full, body=f,
                                                                  content_type=content_type))
        out = call_v2(put_v2, on_credential_error=on_cred)
        return UploadResult(full, out.status_code, _etag(out.etag), crc_str(out.hash_crc64), size,
                            str(out.request_id or ""))

    def download(self, key: str, *, sdk: Sdk = "oss2", absolute: bool = False) -> DownloadResult:
        """GetObject with download-scope STS credentials (the SDK checks the CRC-64)."""
        full = self.full_key(key, "download", absolute=absolute)
        on_cred = self._invalidator("download")
        if sdk == "oss2":
            bucket = self.oss2_bucket("download")

            def get() -> tuple[Any, bytes]:
                r = bucket.get_object(full)
                return r, r.read()
            result, data = call_oss2(get, on_credential_error=on_cred)
            return DownloadResult(full, result.status, result.etag, crc_str(result.server_crc), len(data),
                                  result.headers.get("Content-Type", ""),
                                  result.headers.get("Content-Disposition", ""), result.request_id, data)
        client = self.v2_client("download")
        import alibabacloud_oss_v2 as oss_v2  # loaded by v2_client

        def get_v2() -> tuple[Any, bytes]:
            r = client.get_object(oss_v2.GetObjectRequest(bucket=self.target("download").bucket, key=full))
            return r, r.body.read()
        out, data = call_v2(get_v2, on_credential_error=on_cred)
        crc = crc_str(out.hash_crc64)
        check_crc(f"GetObject {full}", crc64(data), crc)
        return DownloadResult(full, out.status_code, _etag(out.etag), crc, len(data),
                              str(out.content_type or ""), str(out.content_disposition or ""),
                              str(out.request_id or ""), data)

    def upload_resumable(self, key: str, path: str | os.PathLike[str], *, part_size: int = 1024 * 1024,
                         progress: Progress | None = None, threads: int = 1,
                         multipart_threshold: int | None = None, content_type: str | None = None,
                         ) -> UploadResult:
        """Resumable multipart upload (oss2.resumable_upload): parts are signed one by one with the
        provider's current credentials, so a refresh mid-upload is transparent. The checkpoint
        lives under `checkpoint_dir`, so an interrupted upload resumes where it stopped."""
        full = self.full_key(key, "upload")
        path = Path(path)
        size = path.stat().st_size
        bucket = self.oss2_bucket("upload")
        store = oss2.ResumableStore(root=str(self._checkpoint_dir), dir="workbook-oss-upload")
        headers = {"Content-Type": content_type} if content_type else None
        result = call_oss2(lambda: oss2.resumable_upload(
            bucket, full, str(path), store=store, headers=headers,
            multipart_threshold=part_size if multipart_threshold is None else multipart_threshold,
            part_size=part_size, progress_callback=progress, num_threads=threads),
            on_credential_error=self._invalidator("upload"))
        return UploadResult(full, result.status, result.etag, crc_str(result.crc), size, result.request_id)

    # ------------------------------------------------------------------------- plain HTTP

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise OssUnreachable(f"OSS unreachable: {type(exc).__name__}") from exc

    def upload_signed(self, key: str, data: bytes, content_type: str | None = None, *,
                      expires: int | None = None) -> UploadResult:
        """PUT to a URL the app server signed, with exactly the headers it returned; no SDK."""
        signed = self._authed(lambda: self.api.signed_url("PUT", key, content_type=content_type,
                                                          expires=expires,
                                                          signature_version=self.signature_version))
        response = self._send("PUT", signed.url, content=data, headers=signed.headers)
        return _http_upload_result("PUT", signed.key, response, data)

    def download_signed(self, key: str, download_name: str | None = None, *,
                        expires: int | None = None) -> DownloadResult:
        """GET a URL the app server signed; `download_name` asks for a Content-Disposition."""
        signed = self._authed(lambda: self.api.signed_url("GET", key, download_name=download_name,
                                                          expires=expires,
                                                          signature_version=self.signature_version))
        response = self._send("GET", signed.url, headers=signed.headers)
        raise_for_oss(response)
        data = response.content
        crc = crc_str(response.headers.get("x-oss-hash-crc64ecma"))
        check_crc(f"GET {signed.key}", crc64(data), crc)
        h = response.headers
        return DownloadResult(signed.key, response.status_code, _etag(h.get("etag")), crc, len(data),
                              h.get("content-type", ""), h.get("content-disposition", ""),
                              h.get("x-oss-request-id", ""), data)

    def upload_form(self, key: str, data: bytes, content_type: str | None = None, *,
                    callback: bool = False, filename: str | None = None) -> UploadResult:
        """PostObject as a browser does: the policy's fields, then the file as the LAST field
        (OSS ignores fields after `file`; httpx writes `data` fields before `files`)."""
        policy = self._authed(lambda: self.api.post_policy(key, content_type=content_type, callback=callback,
                                                           signature_version=self.signature_version))
        name = filename or policy.key.rsplit("/", 1)[-1] or "file"
        files = {"file": (name, data, content_type or DEFAULT_CONTENT_TYPE)}
        response = self._send("POST", policy.url, data=policy.fields, files=files)
        return _http_upload_result("POST", policy.key, response, data)

    def list_uploads(self, *, check: bool = False) -> list[dict[str, Any]]:
        """The uploads the app server recorded for this user (from OSS callbacks); with `check`, each
        entry's `exists` says whether OSS still has the object (True, False, or None: unknown)."""
        return self._authed(lambda: self.api.uploads(check=check))


def _etag(value: object) -> str:
    return str(value or "").strip('"')


def _http_upload_result(method: str, key: str, response: httpx.Response, data: bytes) -> UploadResult:
    """A plain-HTTP upload answer: raise OSS errors, check the CRC-64, keep the callback reply."""
    raise_for_oss(response)
    h = response.headers
    crc = crc_str(h.get("x-oss-hash-crc64ecma"))
    check_crc(f"{method} {key}", crc64(data), crc)
    return UploadResult(key, response.status_code, _etag(h.get("etag")), crc, len(data),
                        h.get("x-oss-request-id", ""), callback_reply(response))
