"""Shared by every handler that stores bytes: stream a body into the store, then answer, with the
upload callback where one was asked for (PutObject, PostObject, CompleteMultipartUpload; reference §7).

Wire code: the callback model (parameters, `${var}` values, signing, delivery) lives in `oss.callback`,
which this module calls and never duplicates; nothing here authenticates.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Mapping

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from helpers.localcloud.errors import EntityTooLarge, InvalidArgument
from helpers.localcloud.oss.call import Call
from helpers.localcloud.oss.callback import (
    CallbackSpec,
    parse_callback,
    perform_callback,
    render_body,
    system_variables,
)
from helpers.localcloud.oss.callback_signer import pub_key_url
from helpers.localcloud.store.files import PendingWrite
from helpers.localcloud.store.models import ObjectMeta
from helpers.localcloud.xml import build, render_error

# Bytes handed to the store per thread hop: large enough that the hop costs nothing,
# small enough that memory stays flat whatever the object size (at most two batches in flight).
WRITE_BATCH = 1024 * 1024
MAX_OBJECT_SIZE = 5 * 1024 ** 3


async def stream_into(pending: PendingWrite, chunks: AsyncIterator[bytes], *,
                      max_size: int = MAX_OBJECT_SIZE, sha256_hex: str | None = None) -> None:
    """Feed `chunks` to a store PendingWrite; abort it (nothing visible) on any failure.

    Batch N is written (and hashed) on a worker thread while batch N+1 is received: without the
    overlap, uvicorn stops reading the socket during every write and the client stalls.
    Writes stay in order: a batch starts only once the previous one is done.
    """
    hasher = hashlib.sha256() if sha256_hex else None
    buf: list[bytes] = []
    buffered = 0
    size = 0
    writing: asyncio.Task[None] | None = None
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > max_size:
                raise EntityTooLarge()
            if hasher is not None:
                hasher.update(chunk)
            buf.append(chunk)
            buffered += len(chunk)
            if buffered >= WRITE_BATCH:
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(run_in_threadpool(pending.write, b"".join(buf)))
                buf, buffered = [], 0
        if writing is not None:
            await writing
        if buf:
            await run_in_threadpool(pending.write, b"".join(buf))
        if hasher is not None and hasher.hexdigest() != (sha256_hex or "").lower():
            raise InvalidArgument("The provided 'x-oss-content-sha256' header does not match what was "
                                  "computed.", ArgumentName="x-oss-content-sha256")
    except BaseException:
        if writing is not None and not writing.done():
            # abort() closes the file: let the write in flight finish first (its outcome no longer matters).
            await asyncio.wait([writing])
        await run_in_threadpool(pending.abort)
        raise


def payload_sha256(c: Call) -> str | None:
    """The signed payload hash a V4 client asked us to check, if it sent a real one."""
    value = c.req.headers.get("x-oss-content-sha256", "UNSIGNED-PAYLOAD")
    if value == "UNSIGNED-PAYLOAD":
        return None
    if len(value) != 64 or any(ch not in "0123456789abcdefABCDEF" for ch in value):
        raise InvalidArgument("x-oss-content-sha256 is not valid.", ArgumentName="x-oss-content-sha256")
    return value


def callback_params(c: Call) -> tuple[str | None, str | None]:
    """Callback and callback-var, from headers or (signed URLs) from the query."""
    h = c.req.headers
    return (h.get("x-oss-callback") or c.req.q("callback"),
            h.get("x-oss-callback-var") or c.req.q("callback-var"))


def parse_callback_or_none(callback_b64: str | None, callback_var_b64: str | None,
                           form_vars: Mapping[str, str] | None = None) -> CallbackSpec | None:
    """Validated before anything is stored: bad parameters are refused with 400 (reference §7.4)."""
    if not callback_b64:
        return None
    return parse_callback(callback_b64, callback_var_b64, form_vars=form_vars)


async def finish_upload(c: Call, meta: ObjectMeta, spec: CallbackSpec | None, *, operation: str,
                        headers: dict[str, str], default: Response) -> Response:
    """The answer to a completed upload: `default`, or the callback's outcome when one was asked for.
    The object is stored either way; a failed callback gives 203 CallbackFailed."""
    if spec is None:
        for k, v in headers.items():
            default.headers[k] = v
        return default
    variables = system_variables(
        bucket=meta.bucket, key=meta.key, etag=meta.etag, size=meta.size, mime_type=meta.content_type or "",
        crc64=str(meta.crc64), client_ip=c.req.client_ip, request_id=c.req.request_id, operation=operation,
        # ${contentMd5} exists for PutObject/PostObject only (OSS Callback page).
        content_md5="" if operation == "CompleteMultipartUpload" else meta.content_md5 or "")
    body = render_body(spec, variables)
    result = await perform_callback(spec, body, signer=c.ctx.callback_signer,
                                    pub_key_url=pub_key_url(c.ctx.oss_base_url), bucket=meta.bucket,
                                    request_id=c.req.request_id, requester=c.principal.account_id)
    # The callback outcome replaces the body, so its type replaces the default's (e.g. PostResponse XML).
    out = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    if result.ok:
        return Response(result.body, status_code=200, headers=out,
                        media_type=result.content_type or "application/json")
    err = result.error
    assert err is not None, "a failed callback always carries its CallbackFailed"
    host_id = c.req.host or "localhost"
    xml_body = render_error(err, request_id=c.req.request_id, host_id=host_id)
    out["x-oss-ec"] = err.ec
    return Response(xml_body, status_code=203, headers=out, media_type="application/xml")


__all__ = ["build", "callback_params", "finish_upload", "parse_callback_or_none", "payload_sha256",
           "stream_into"]
