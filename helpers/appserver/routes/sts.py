"""GET /api/sts?scope=upload|download: STS credentials for the caller's folder (mobile SDK contract)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from helpers.appserver.deps import BrokerDep, CurrentUser, SettingsDep
from helpers.appserver.schemas import StsOut
from helpers.appserver.services.signing import oss_endpoint
from helpers.appserver.services.sts import user_prefix

router = APIRouter(prefix="/api", tags=["sts"])


@router.get("/sts", response_model=StsOut, responses={401: {"description": "no or bad bearer token"}})
def sts_token(user: CurrentUser, settings: SettingsDep, broker: BrokerDep,
              scope: Literal["upload", "download"] = Query("upload")) -> StsOut:
    """Temporary credentials confined to users/<you>/ with the fewest actions of the scope (cached)."""
    c = broker.get(user, scope)
    return StsOut(AccessKeyId=c.access_key_id, AccessKeySecret=c.access_key_secret,
                  SecurityToken=c.security_token, Expiration=c.expiration, Bucket=settings.bucket,
                  Region=settings.region, Endpoint=oss_endpoint(settings), Prefix=user_prefix(user.username))
