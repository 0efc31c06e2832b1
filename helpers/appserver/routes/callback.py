"""POST /api/callback (from OSS, verified by signature, no bearer) and GET /api/uploads (yours only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from helpers.appserver import db
from helpers.appserver.deps import BrokerDep, CurrentUser, DbDep, KeysDep, SettingsDep
from helpers.appserver.errors import CallbackRejected
from helpers.appserver.schemas import CallbackOut, UploadOut
from helpers.appserver.services import callbacks, presence

router = APIRouter(prefix="/api", tags=["callbacks"])

MAX_CALLBACK_BODY = 64 * 1024


@router.post("/callback", response_model=CallbackOut, responses={400: {"description": "not verified"}})
async def oss_callback(request: Request, settings: SettingsDep, keys: KeysDep, conn: DbDep) -> CallbackOut:
    """Verify an OSS upload callback (RSA-MD5) and record the upload; the reply reaches the uploader."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CALLBACK_BODY:
            raise CallbackRejected("callback body too large")
    raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
    raw_query = request.scope.get("query_string", b"")
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        # Blocking work (key fetch, sqlite) runs in the threadpool; no body field is read before verify.
        await run_in_threadpool(callbacks.verify, settings=settings, keys=keys,
                                raw_path=raw_path.decode("latin-1"), raw_query=raw_query.decode("latin-1"),
                                headers=headers, body=body)
        facts = callbacks.parse_body(headers.get("content-type", ""), body)
        upload = await run_in_threadpool(callbacks.record, settings=settings, conn=conn, facts=facts,
                                         request_id=headers.get("x-oss-request-id", ""))
    except CallbackRejected as exc:
        request.state.trace_note = f"refused: {exc.detail}"    # kept for nobody: no user is proven
        raise
    # Only a verified, recorded callback is shown to the user it names.
    request.state.trace_user = facts.username
    request.state.trace_note = f"verified, recorded {upload.object_key}"
    return CallbackOut(key=upload.object_key, size=upload.size, mime_type=upload.mime_type, etag=upload.etag,
                       id=upload.id)


@router.get("/uploads", response_model=list[UploadOut])
def my_uploads(user: CurrentUser, conn: DbDep, settings: SettingsDep, broker: BrokerDep,
               check: bool = False) -> list[UploadOut]:
    """Your recorded (callback-verified) uploads, newest first. With `check=true` each entry says
    whether OSS still has the object (`exists`), asked with your own download-scope STS credentials."""
    uploads = db.uploads_of(conn, user.username)
    found: dict[str, bool | None] = {}
    if check:
        found = presence.existence(settings=settings, broker=broker, user=user,
                                   keys=(u.object_key for u in uploads))
    return [UploadOut(key=u.object_key, bucket=u.bucket, size=u.size, mime_type=u.mime_type, etag=u.etag,
                      created_at=u.created_at, exists=found.get(u.object_key)) for u in uploads]
