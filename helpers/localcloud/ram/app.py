"""The RAM port: the RAM API at `/` (POST and GET, wire in `helpers.localcloud.rpc_app`), JSON only.

Both official SDKs ask for JSON (ram-api.md §10), so `Format=XML` is not honoured [unverified].
The only RAM module that imports Starlette.
"""

from __future__ import annotations

from starlette.applications import Starlette

from helpers.localcloud.context import LocalCloud
from helpers.localcloud.ram.service import RamService
from helpers.localcloud.rpc_app import RpcProduct, create_rpc_app

PRODUCT = RpcProduct("Ram", "ram.aliyuncs.com", "Response", xml_allowed=False)


def create_ram_app(ctx: LocalCloud) -> Starlette:
    """The RAM ASGI app for one LocalCloud. Actions run in the thread pool: a change is fsynced."""
    return create_rpc_app(ctx, PRODUCT, RamService(ctx).handle, in_thread=True)
