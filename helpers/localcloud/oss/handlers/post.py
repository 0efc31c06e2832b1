"""PostObject: a browser form upload (表单上传), authenticated by its own fields (reference §6).

Order: parse the fields before `file` → check the signature → check the policy conditions →
authorise the key → stream the file into the store (stopping early past content-length-range) →
check the size bounds → commit → answer (or run the callback).

Wire code: the form/policy rules live in `oss.post_policy` and the form signature in `oss.auth`.
"""

from __future__ import annotations

from starlette.responses import Response

from helpers.localcloud.oss.auth import authenticate_post_form
from helpers.localcloud.oss.call import Call
from helpers.localcloud.oss.handlers.common import (
    check_key,
    in_thread,
    stored_headers_from,
    upload_headers,
    user_meta_from,
)
from helpers.localcloud.oss.handlers.object import object_acl_or_none
from helpers.localcloud.oss.handlers.upload import (
    MAX_OBJECT_SIZE,
    finish_upload,
    parse_callback_or_none,
    stream_into,
)
from helpers.localcloud.oss.post_form import parse_form
from helpers.localcloud.oss.post_policy import (
    check_policy,
    content_length_bounds,
    decode_policy,
    success_response,
)


async def post_object(c: Call) -> Response:
    assert c.req.bucket is not None
    bucket = c.req.bucket
    store = c.ctx.store
    await in_thread(store.get_bucket, bucket)
    form = await parse_form(c.req.headers.get("content-type", ""), c.body.chunks())
    fields = form.fields
    key = form.object_key()
    check_key(key)
    principal = authenticate_post_form(fields, bucket=bucket, accounts=c.ctx.accounts, tokens=c.ctx.tokens,
                                       clock=c.ctx.clock, region=c.ctx.region)
    policy = None
    version = "v4" if fields.get("x-oss-signature-version") else "v1"
    if principal.kind != "anonymous":
        policy = decode_policy(fields.get("policy", ""))
        check_policy(policy, fields=fields, bucket=bucket, now=c.ctx.clock.now(), file_size=None,
                     signature_version=version)
    call = Call(c.ctx, c.req, c.op, principal, c.body)
    await call.authorize_operation(bucket, key)
    # The same metadata and ACL rules as PutObject's headers (8 KB limit included), before the file is read.
    # Form values arrive UTF-8 decoded, so the limit counts their UTF-8 bytes.
    user_meta = user_meta_from(fields, encoding="utf-8")
    acl = object_acl_or_none(fields) or "default"
    form_vars = {k: v for k, v in fields.items() if k.startswith("x:")}
    spec = parse_callback_or_none(fields.get("callback"), None, form_vars=form_vars)
    bounds = content_length_bounds(policy) if policy else None
    max_size = min(bounds[1], MAX_OBJECT_SIZE) if bounds else MAX_OBJECT_SIZE
    pending = await in_thread(store.begin_write, bucket)
    await stream_into(pending, form.file_chunks(max_size=max_size))
    try:
        if policy is not None:
            check_policy(policy, fields=fields, bucket=bucket, now=c.ctx.clock.now(),
                         file_size=form.file_size, signature_version=version)
    except BaseException:
        await in_thread(pending.abort)
        raise
    content_type = (fields.get("x-oss-content-type") or form.file_content_type or fields.get("content-type")
                    or "application/octet-stream")
    meta = await in_thread(
        store.commit_object, pending, key=key, content_type=content_type,
        user_meta=user_meta, headers=stored_headers_from(fields),
        acl=acl,
        expected_md5_b64=fields.get("content-md5"),
        forbid_overwrite=fields.get("x-oss-forbid-overwrite", "").lower() == "true")
    await form.drain()
    location = f"http://{bucket}.oss-{c.ctx.region}.aliyuncs.com/{key}"
    result = success_response(fields, bucket=bucket, key=key, etag=meta.etag, location=location)
    headers = {k.lower(): v for k, v in result.headers.items()} | upload_headers(meta)
    default = Response(result.body, status_code=result.status)
    return await finish_upload(call, meta, spec, operation="PostObject", headers=headers, default=default)
