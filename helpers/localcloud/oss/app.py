"""The OSS port: one pure-ASGI pipeline for every request.

    parse (routing) → operation → authenticate (auth) → authorize (ram.policy / ACL) → handler

The operation table in `routing` says how each API is authenticated and authorised, and names its
RAM action and handler; only PostObject's handler authenticates (from its form fields);
every error, wherever raised, is rendered here once as OSS XML (HEAD: `x-oss-err` header instead).
Local-only admin endpoints live under `/_localcloud/` (bucket names cannot start with `_`); the
cloud-shaped profile answers only the callback public key there.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections.abc import Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from helpers.localcloud.clock import http_date
from helpers.localcloud.context import LocalCloud
from helpers.localcloud.errors import (
    AccessDenied,
    InternalError,
    InvalidArgument,
    InvalidBucketName,
    InvalidObjectName,
    InvalidRequest,
    NoSuchBucket,
    OssError,
)
from helpers.localcloud.identity import Principal
from helpers.localcloud.oss import routing
from helpers.localcloud.oss.body import Body, ClientGone
from helpers.localcloud.oss.call import Call, Handler
from helpers.localcloud.oss.request import Headers, Operation, OssRequest
from helpers.localcloud.store.state import EC_NAME_TOO_LONG
from helpers.localcloud.xml import error_header_value, render_error
from helpers.protocol import endpoints
from helpers.protocol.callback_keys import LOCAL_KEY_FILE

logger = logging.getLogger(__name__)


def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def build_request(scope: Scope, request_id: str, service_domains: tuple[str, ...]) -> OssRequest:
    """Parse the ASGI scope into an OssRequest; bad encodings become OSS errors, not 500s."""
    raw_pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
    headers = Headers(raw_pairs)
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    raw_path = raw_path.split("?", 1)[0]
    raw_query = scope.get("query_string", b"").decode("latin-1")
    host = headers.get("host", "")
    try:
        query = routing.parse_query(raw_query)
    except UnicodeDecodeError as exc:
        raise InvalidArgument("The request URI is not valid UTF-8.") from exc
    try:
        bucket, key = routing.split_target(raw_path, host, service_domains)
    except UnicodeDecodeError as exc:
        # A path that is not UTF-8 names an object that is not (EC 0016-00000002 covers non-UTF-8 names,
        # reference §2; the message is the generic one [unverified]).
        raise InvalidObjectName(ec=EC_NAME_TOO_LONG) from exc
    client = scope.get("client") or ("", 0)
    return OssRequest(method=scope["method"].upper(), bucket=bucket, key=key, query=query, headers=headers,
                      raw_path=raw_path, raw_query=raw_query, host=host, client_ip=client[0],
                      request_id=request_id, scheme=scope.get("scheme", "http"))


class OssApp:
    """ASGI app of the OSS port. `handlers` maps operation names to async handlers."""

    def __init__(self, ctx: LocalCloud, handlers: Mapping[str, Handler],
                 admin: Mapping[str, Handler] | None = None) -> None:
        self.ctx = ctx
        self.handlers = handlers
        self.admin = admin or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_id = secrets.token_hex(12).upper()
        body = Body(receive, Headers([(k.decode("latin-1"), v.decode("latin-1"))
                                      for k, v in scope.get("headers", [])]))
        method = scope["method"].upper()
        req: OssRequest | None = None
        try:
            req = build_request(scope, request_id, self.ctx.config.service_domains)
            response = await self._dispatch(req, body)
        except ClientGone:
            return
        except OssError as err:
            response = await self._error_response(err, req, method, request_id, body)
        except Exception:
            logger.exception("internal error on %s request %s", method, request_id)
            response = await self._error_response(InternalError(), req, method, request_id, body)
        if req is not None and method != "OPTIONS":
            self._cors_headers(req, response)
        self._common_headers(response, request_id)
        await response(scope, receive, send)

    async def _dispatch(self, req: OssRequest, body: Body) -> Response:
        # Path style only: on a virtual host, `/_localcloud/...` is an object key like any other.
        if req.bucket == "_localcloud" and req.raw_path.startswith("/_localcloud/"):
            return await self._admin(req, body)
        if req.method == "OPTIONS":
            return await self._run(routing.PREFLIGHT, req, body)
        try:
            op = routing.operation_for(req)
        except OssError:
            # An API the local cloud does not serve (e.g. GetBucketStat, Put/GetBucketVersioning) still
            # meets the bucket look-up first on real OSS: a missing bucket is what the caller hears.
            if req.bucket is not None:
                self.ctx.store.get_bucket(req.bucket)
            raise
        if req.bucket is not None and not op.key_before_bucket:
            # Reference §1: the bucket is looked up before the AccessKey and signature are checked.
            # An in-memory look-up (as in _cors_headers): no thread hop on every request.
            self.ctx.store.get_bucket(req.bucket)
        return await self._run(op, req, body)

    async def _run(self, op: Operation, req: OssRequest, body: Body) -> Response:
        """Authenticate and authorise as the table's auth mode says, then call the handler."""
        principal = Principal("anonymous")
        if op.auth in ("signature", "per_key"):
            from helpers.localcloud.oss.auth import authenticate

            principal = authenticate(req, accounts=self.ctx.accounts, tokens=self.ctx.tokens,
                                     clock=self.ctx.clock, region=self.ctx.region)
        call = Call(self.ctx, req, op, principal, body)
        if op.auth == "signature":
            await call.authorize_operation(req.bucket, req.key)
        handler = self.handlers.get(op.name)
        if handler is None:
            raise InvalidRequest(f"{op.name} is not supported by the local cloud.")
        return await handler(call)

    def _cors_headers(self, req: OssRequest, response: Response) -> None:
        origin = req.headers.get("origin")
        if not req.bucket or self.ctx.store is None:   # no Origin still gets Vary (ResponseVary)
            return
        try:
            rules = self.ctx.store.get_bucket(req.bucket).cors_rules
        except NoSuchBucket:
            return
        if rules:
            from helpers.localcloud.oss.cors import actual_request_headers

            for k, v in actual_request_headers(rules, origin=origin, method=req.method).items():
                if k.lower() == "vary" and "vary" in response.headers:
                    v = f"{response.headers['vary']}, {v}"   # keep a gzip answer's Accept-Encoding
                response.headers[k] = v

    async def _admin(self, req: OssRequest, body: Body) -> Response:
        name = req.raw_path[len("/_localcloud/"):]
        if self.ctx.config.cloud_profile and name != LOCAL_KEY_FILE:
            # A real endpoint has no such routes: `_localcloud` reads as a (badly named) bucket.
            # The callback key stays: loopback callbacks cannot fetch gosspublic.alicdn.com's key.
            raise InvalidBucketName(BucketName="_localcloud")
        handler = self.admin.get(name)
        if handler is None:
            raise InvalidRequest("Unknown local-cloud endpoint.")
        if name != LOCAL_KEY_FILE and not _is_loopback(req.client_ip):
            raise AccessDenied("Local-cloud admin calls are accepted from loopback only.")
        return await handler(Call(self.ctx, req, None, Principal("anonymous"), body))

    async def _error_response(self, err: OssError, req: OssRequest | None, method: str, request_id: str,
                              body: Body) -> Response:
        # Drain what the client is still sending, so a pooled keep-alive connection stays usable
        # and the SDK sees the XML error instead of a reset (reference §14 item 26).
        drained = await body.drain()
        host_id = self._host_id(req)
        xml_body = render_error(err, request_id=request_id, host_id=host_id)
        headers = dict(err.headers)
        headers["x-oss-ec"] = err.ec
        if not drained:
            headers["connection"] = "close"
        if method == "HEAD":
            headers["x-oss-err"] = error_header_value(xml_body)
            headers["content-type"] = "application/xml"
            headers["content-length"] = "0"
            return Response(b"", status_code=err.status, headers=headers)
        return Response(xml_body, status_code=err.status, headers=headers, media_type="application/xml")

    def _host_id(self, req: OssRequest | None) -> str:
        host = (req.host if req else "") or "localhost"
        if req and req.bucket and endpoints.is_path_style(host):
            return f"{req.bucket}.{host}"
        return host

    def _common_headers(self, response: Response, request_id: str) -> None:
        now = self.ctx.clock.now()
        response.headers["x-oss-request-id"] = request_id
        response.headers["date"] = http_date(now)
        response.headers["server"] = "AliyunOSS"
        response.headers["x-oss-server-time"] = "0"


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
