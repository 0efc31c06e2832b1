"""The wire of an RPC-style (POP) product port, shared by STS and RAM: a Starlette app serving
`/` (GET and POST) that decodes the query and form body into an `RpcRequest`, hands it to the
product's `handle`, and renders the result or any error once as JSON (XML when `Format=XML` and the
product allows it), reference oss-sts-protocol.md §10.5 and ram-api.md §3.

Every failure, including Starlette's own 404/405 and unexpected exceptions, leaves as the product's
error document, never as plain text or a traceback.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from helpers.asgi import DateHeader
from helpers.localcloud import xml
from helpers.localcloud.context import LocalCloud
from helpers.localcloud.errors import StsError
from helpers.localcloud.sts.authn import RpcRequest

logger = logging.getLogger(__name__)

JSON_TYPE = "application/json;charset=utf-8"
XML_TYPE = "text/xml;charset=utf-8"
MAX_BODY = 64 * 1024               # an RPC form is a few KiB at most
MAX_DRAIN = 8 * 1024 * 1024        # read (and drop) up to this much so the client sees our error
MAX_PARAMS = 64
MAX_VALUE_CHARS = 20_000           # a SecurityToken is the longest legitimate value


def _request_id() -> str:
    return str(uuid.uuid4()).upper()


def _too_large() -> StsError:
    return StsError(400, "InvalidParameter", "The request parameters or body are too large.")


def _parse_pairs(raw: bytes, what: str) -> dict[str, str]:
    """Decode `a=b&c=d` (`+` is a space); bad UTF-8 or too many/long values are a 400, not a 500."""
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict",
                          max_num_fields=MAX_PARAMS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise StsError(400, "InvalidParameter", f"The {what} is not well-formed.") from exc
    if any(len(v) > MAX_VALUE_CHARS or len(k) > 256 for k, v in pairs):
        raise _too_large()
    return dict(pairs)


def _format_of(request: Request, xml_allowed: bool) -> str:
    """`JSON` or `XML`: the Format parameter if valid, else the Accept header, else JSON."""
    if not xml_allowed:
        return "JSON"
    fmt = ""
    try:
        fmt = dict(parse_qsl(request.scope.get("query_string", b"").decode("utf-8", "replace"),
                             max_num_fields=MAX_PARAMS)).get("Format", "")
    except ValueError:
        pass  # too many fields: the request is refused later; the error renders as JSON
    if fmt.upper() in ("JSON", "XML"):
        return fmt.upper()
    accept = request.headers.get("accept", "").lower()
    return "XML" if "xml" in accept and "json" not in accept else "JSON"


def _xml_children(doc: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(k, _xml_children(v) if isinstance(v, Mapping) else v) for k, v in doc.items()]


async def _read_body(request: Request) -> bytes:
    """The body, capped; an oversized body is drained (up to MAX_DRAIN) and refused."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_DRAIN:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_DRAIN:
            raise _too_large()
        if size <= MAX_BODY:
            chunks.append(chunk)
    if size > MAX_BODY:
        raise _too_large()
    return b"".join(chunks)


async def build_request(request: Request) -> RpcRequest:
    """The wire-neutral request: query + urlencoded form body (body wins), headers, caller address."""
    query = _parse_pairs(request.scope.get("query_string", b""), "query string")
    body = await _read_body(request)
    params = dict(query)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if body and content_type == "application/x-www-form-urlencoded":
        # Body parameters are signed together with the query ones; on a clash the body wins, as
        # in aliyun-python-sdk-core's signer (`sign_params.update(body_params)`).
        params.update(_parse_pairs(body, "form body"))
    if len(params) > MAX_PARAMS:
        raise _too_large()
    headers: dict[str, tuple[str, ...]] = {}
    for k, v in request.scope.get("headers", []):
        name = k.decode("latin-1").lower()
        headers[name] = (*headers.get(name, ()), v.decode("latin-1"))
    client = request.client
    return RpcRequest(method=request.method.upper(), params=params, query=query, headers=headers, body=body,
                      source_ip=client.host if client else "", secure=request.url.scheme == "https",
                      request_id=request.state.request_id)


class RpcProduct:
    """How one product renders: its name in `Recommend`, default HostId, success root (XML)."""

    def __init__(self, product: str, default_host: str, success_root: str, *, xml_allowed: bool) -> None:
        self.product = product
        self.default_host = default_host
        self.success_root = success_root
        self.xml_allowed = xml_allowed

    def _host_id(self, request: Request) -> str:
        host = request.headers.get("host", "")
        host = host.split("://", 1)[-1].split("/", 1)[0]
        return host or self.default_host

    def render(self, request: Request, status: int, doc: Mapping[str, Any], root: str) -> Response:
        request_id = str(doc.get("RequestId", ""))
        headers = {"x-acs-request-id": request_id}
        if getattr(request.state, "rpc_format", "JSON") == "XML":
            return Response(xml.build(root, _xml_children(doc)), status_code=status, media_type=XML_TYPE,
                            headers=headers)
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return Response(body, status_code=status, media_type=JSON_TYPE, headers=headers)

    def render_error(self, request: Request, err: StsError) -> Response:
        """The one error document: RequestId, HostId, Code, Message, Recommend."""
        if not hasattr(request.state, "rpc_format"):
            request.state.rpc_format = _format_of(request, self.xml_allowed)
        request_id = getattr(request.state, "request_id", None) or _request_id()
        doc = {"RequestId": request_id, "HostId": self._host_id(request), "Code": err.code,
               "Message": err.message,
               "Recommend": f"https://api.aliyun.com/troubleshoot?q={err.code}&product={self.product}"}
        return self.render(request, err.status, doc, "Error")


def create_rpc_app(ctx: LocalCloud, product: RpcProduct, handle: Callable[[RpcRequest], dict[str, Any]], *,
                   extra_routes: Sequence[BaseRoute] = (), in_thread: bool = False) -> Starlette:
    """The ASGI app of one RPC product. `handle` returns the success document without RequestId;
    `in_thread=True` runs it in the thread pool (for handlers that write state to disk)."""

    async def endpoint(request: Request) -> Response:
        request.state.request_id = _request_id()
        request.state.rpc_format = _format_of(request, product.xml_allowed)
        rpc_request = await build_request(request)
        result = await run_in_threadpool(handle, rpc_request) if in_thread else handle(rpc_request)
        doc = {"RequestId": request.state.request_id, **result}
        return product.render(request, 200, doc, product.success_root)

    async def on_rpc_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StsError)
        return product.render_error(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            err = StsError(405, "UnsupportedHTTPMethod", "This http method is not supported.")
        elif exc.status_code == 404:
            err = StsError(404, "InvalidAction.NotFound",
                           "Specified api is not found, please check your url and method.")
        else:
            err = StsError(exc.status_code, "InvalidParameter", "The request is not well-formed.")
        return product.render_error(request, err)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        logger.error("%s internal error on %s %s", product.product, request.method, request.url.path,
                     exc_info=exc)
        return product.render_error(request, StsError(
            500, "InternalError", "The request processing has failed due to some unknown error."))

    return Starlette(
        routes=[Route("/", endpoint, methods=["GET", "POST"]), *extra_routes],
        exception_handlers={StsError: on_rpc_error, HTTPException: on_http_error, Exception: on_unexpected},
        middleware=[Middleware(DateHeader, now=ctx.clock.now)],  # real STS/RAM send Date
    )
