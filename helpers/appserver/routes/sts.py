"""GET /api/sts?scope=upload|download: STS credentials for the caller's folder (mobile SDK contract)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from helpers.appserver.deps import CurrentUser
from helpers.appserver.schemas import StsOut
from helpers.appserver.services.signing import oss_endpoint
from helpers.appserver.services.sts import StsBroker
from helpers.protocol.scopes import user_prefix
from helpers.settings import Settings

router = APIRouter(prefix="/api", tags=["sts"])


@router.get("/sts", response_model=StsOut, responses={401: {"description": "no or bad bearer token"}})
async def sts_token(request: Request, user: CurrentUser,
                    scope: Literal["upload", "download"] = Query("upload")) -> Response:
    """Temporary credentials confined to users/<you>/ with the fewest actions of the scope (cached)."""
    # The hottest route: settings and broker straight from app.state (what SettingsDep/BrokerDep
    # return) saves two dependency nodes per request.
    settings: Settings = request.app.state.settings
    broker: StsBroker = request.app.state.broker
    # A cache hit is answered on the event loop; only a miss (a blocking AssumeRole) takes a thread.
    c = broker.cached(user, scope)
    if c is None:
        c = await run_in_threadpool(broker.get, user, scope)
    out = StsOut(AccessKeyId=c.access_key_id, AccessKeySecret=c.access_key_secret,
                 SecurityToken=c.security_token, Expiration=c.expiration, Bucket=settings.bucket,
                 Region=settings.region, Endpoint=oss_endpoint(settings), Prefix=user_prefix(user.username))
    # Built and typed by StsOut already: serialize once instead of FastAPI's re-validation round trip.
    return Response(out.model_dump_json(), media_type="application/json")
