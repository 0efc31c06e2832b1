"""The STS port: AssumeRole at `/` (GET and POST, wire in `helpers.localcloud.rpc_app`) plus a
loopback-only `GET /_localcloud/stats` (absent in the cloud-shaped profile).

The only STS module that imports Starlette; `service`, `authn` and `signature` must never import it.
"""

from __future__ import annotations

import ipaddress
import json

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from helpers.localcloud.context import LocalCloud
from helpers.localcloud.rpc_app import JSON_TYPE, RpcProduct, create_rpc_app
from helpers.localcloud.sts.service import StsService

DEFAULT_HOST_ID = "sts.aliyuncs.com"
PRODUCT = RpcProduct("Sts", DEFAULT_HOST_ID, "AssumeRoleResponse", xml_allowed=True)


def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def create_sts_app(ctx: LocalCloud) -> Starlette:
    """The STS ASGI app for one LocalCloud."""
    service = StsService(ctx)

    async def stats(request: Request) -> Response:
        if ctx.config.cloud_profile or not _is_loopback(request.client.host if request.client else ""):
            raise HTTPException(404)
        calls = int(ctx.extras.get("sts_assume_role_calls", 0))
        return Response(json.dumps({"assume_role_calls": calls}), media_type=JSON_TYPE)

    return create_rpc_app(ctx, PRODUCT, service.handle,
                          extra_routes=[Route("/_localcloud/stats", stats, methods=["GET"])])
