"""POST /api/signed-url and POST /api/post-policy: URLs and browser forms for the caller's folder."""

from __future__ import annotations

from fastapi import APIRouter

from helpers.appserver.deps import BrokerDep, CurrentUser, SettingsDep
from helpers.appserver.schemas import PostPolicyIn, PostPolicyOut, SignedUrlIn, SignedUrlOut
from helpers.appserver.services import signing

router = APIRouter(prefix="/api", tags=["signing"])


@router.post("/signed-url", response_model=SignedUrlOut)
def signed_url(body: SignedUrlIn, user: CurrentUser, settings: SettingsDep,
               broker: BrokerDep) -> SignedUrlOut:
    """A signed PUT or GET URL for one object in your folder (V4 by default)."""
    s = signing.signed_url(settings=settings, broker=broker, user=user, method=body.method, key=body.key,
                           content_type=body.content_type, expires=body.expires,
                           download_name=body.download_name, version=body.signature_version)
    return SignedUrlOut(url=s.url, method=s.method, headers=s.headers, key=s.key, expires_at=s.expires_at)


@router.post("/post-policy", response_model=PostPolicyOut)
def post_policy(body: PostPolicyIn, user: CurrentUser, settings: SettingsDep,
                broker: BrokerDep) -> PostPolicyOut:
    """PostObject form fields (policy + signature) for a browser upload into your folder."""
    p = signing.post_policy(settings=settings, broker=broker, user=user, key=body.key,
                            content_type=body.content_type, max_size=body.max_size, callback=body.callback,
                            expires=body.expires, version=body.signature_version)
    return PostPolicyOut(url=p.url, fields=p.fields, key=p.key, expires_at=p.expires_at)
