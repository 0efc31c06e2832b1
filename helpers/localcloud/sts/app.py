"""The STS port: a Starlette app serving AssumeRole at `/` (GET and POST) plus a loopback-only
`GET /_localcloud/stats`.

Wire only: decode the query and form body into an `StsRequest`, hand it to `service.StsService`,
render the result or any error once as STS JSON (XML when `Format=XML`), reference §10.5.
Every failure, including Starlette's own 404/405 and unexpected exceptions, leaves as an STS
error document, never as plain text or a traceback.
The only STS module that imports Starlette; `service` and `signature` must never import it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from helpers.asgi import DateHeader
from helpers.localcloud import xml
from helpers.localcloud.context import LocalCloud
from helpers.localcloud.errors import StsError
from helpers.localcloud.sts.service import StsRequest, StsService

logger = logging.getLogger(__name__)

JSON_TYPE = "application/json;charset=utf-8"
XML_TYPE = "text/xml;charset=utf-8"
DEFAULT_HOST_ID = "sts.aliyuncs.com"
MAX_BODY = 64 * 1024               # an AssumeRole form is a few KiB at most
MAX_DRAIN = 8 * 1024 * 1024        # read (and drop) up to this much so the client sees our error
MAX_PARAMS = 64
MAX_VALUE_CHARS = 20_000           # a SecurityToken is the longest legitimate value


def _request_id() -> str:
    return str(uuid.uuid4()).upper()


def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


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


def _format_of(request: Request) -> str:
    """`JSON` or `XML`: the Format parameter if valid, else the Accept header, else JSON."""
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


def _host_id(request: Request) -> str:
    host = request.headers.get("host", "")
    host = host.split("://", 1)[-1].split("/", 1)[0]
    return host or DEFAULT_HOST_ID


def _render(request: Request, status: int, doc: Mapping[str, Any], root: str) -> Response:
    request_id = str(doc.get("RequestId", ""))
    headers = {"x-acs-request-id": request_id}
    if getattr(request.state, "sts_format", "JSON") == "XML":
        return Response(xml.build(root, _xml_children(doc)), status_code=status, media_type=XML_TYPE,
                        headers=headers)
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status, media_type=JSON_TYPE, headers=headers)


def _xml_children(doc: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(k, _xml_children(v) if isinstance(v, Mapping) else v) for k, v in doc.items()]


def render_error(request: Request, err: StsError) -> Response:
    """The one STS error document: RequestId, HostId, Code, Message, Recommend."""
    if not hasattr(request.state, "sts_format"):
        request.state.sts_format = _format_of(request)
    request_id = getattr(request.state, "request_id", None) or _request_id()
    doc = {"RequestId": request_id, "HostId": _host_id(request), "Code": err.code, "Message": err.message,
           "Recommend": f"https://api.aliyun.com/troubleshoot?q={err.code}&product=Sts"}
    return _render(request, err.status, doc, "Error")


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


async def _build_request(request: Request) -> StsRequest:
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
    return StsRequest(method=request.method.upper(), params=params, query=query, headers=headers, body=body,
                      source_ip=client.host if client else "", secure=request.url.scheme == "https",
                      request_id=request.state.request_id)


def create_sts_app(ctx: LocalCloud) -> Starlette:
    """The STS ASGI app for one LocalCloud."""
    service = StsService(ctx)

    async def assume_role(request: Request) -> Response:
        request.state.request_id = _request_id()
        request.state.sts_format = _format_of(request)
        sts_request = await _build_request(request)
        doc = {"RequestId": request.state.request_id, **service.handle(sts_request)}
        return _render(request, 200, doc, "AssumeRoleResponse")

    async def stats(request: Request) -> Response:
        if not _is_loopback(request.client.host if request.client else ""):
            raise HTTPException(404)
        calls = int(ctx.extras.get("sts_assume_role_calls", 0))
        return Response(json.dumps({"assume_role_calls": calls}), media_type=JSON_TYPE)

    async def on_sts_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StsError)
        return render_error(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            err = StsError(405, "UnsupportedHTTPMethod", "This http method is not supported.")
        elif exc.status_code == 404:
            err = StsError(404, "InvalidAction.NotFound",
                           "Specified api is not found, please check your url and method.")
        else:
            err = StsError(exc.status_code, "InvalidParameter", "The request is not well-formed.")
        return render_error(request, err)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        logger.error("STS internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return render_error(request, StsError(500, "InternalError",
                                              "The request processing has failed due to some unknown error."))

    return Starlette(
        routes=[Route("/", assume_role, methods=["GET", "POST"]),
                Route("/_localcloud/stats", stats, methods=["GET"])],
        exception_handlers={StsError: on_sts_error, HTTPException: on_http_error, Exception: on_unexpected},
        middleware=[Middleware(DateHeader, now=ctx.clock.now)],  # real STS sends Date
    )

