"""Wire ↔ store for single-object operations (reference §8.2-8.5, §8.10)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

from starlette.concurrency import iterate_in_threadpool
from starlette.responses import Response, StreamingResponse

from helpers.localcloud.clock import iso8601_ms
from helpers.localcloud.errors import (
    InvalidArgument,
    InvalidObjectName,
    InvalidRange,
    InvalidRequest,
    MissingContentLength,
    PreconditionFailed,
)
from helpers.localcloud.oss import gzip_body
from helpers.localcloud.oss.call import Call
from helpers.localcloud.oss.handlers.bucket import ACLS
from helpers.localcloud.oss.handlers.common import (
    check_key,
    in_thread,
    object_headers,
    owner,
    stored_headers_from,
    upload_headers,
    user_meta_from,
    xml_response,
)
from helpers.localcloud.oss.handlers.upload import (
    callback_params,
    finish_upload,
    parse_callback_or_none,
    payload_sha256,
    stream_into,
)
from helpers.localcloud.store import ObjectTemplate
from helpers.localcloud.store.files import ObjectReader
from helpers.localcloud.store.models import ObjectMeta
from helpers.localcloud.store.state import EC_NAME_TOO_LONG

READ_CHUNK = 1024 * 1024
_OVERRIDES = {"response-content-type": "content-type", "response-content-language": "content-language",
              "response-expires": "expires", "response-cache-control": "cache-control",
              "response-content-disposition": "content-disposition",
              "response-content-encoding": "content-encoding"}


def _object_acl(c: Call) -> str:
    acl = object_acl_or_none(c.req.headers)
    return "default" if acl is None else acl


def object_acl_or_none(values: Mapping[str, str]) -> str | None:
    """The validated `x-oss-object-acl` header (or PostObject form field), None when absent."""
    acl = values.get("x-oss-object-acl")
    if acl is not None and acl not in ACLS and acl != "default":
        raise InvalidArgument("no such object access control exists", ArgumentName="x-oss-object-acl",
                              ArgumentValue=acl[:64])
    return acl


# Object storage classes (reference §7). The archive classes need RestoreObject before a read, which
# the local cloud does not emulate, so it refuses them rather than store objects it cannot serve.
STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")
STORED_CLASSES = ("Standard", "IA")
EC_STORAGE_CLASS_EMPTY = "0017-00000131"      # [doc …/support/0017-00000131]
EC_STORAGE_CLASS_INVALID = "0017-00000132"    # [doc …/support/0017-00000132]


def storage_class_for(c: Call, bucket_class: str) -> str:
    """The class a new object gets: `x-oss-storage-class` if sent, else the bucket's (reference §7)."""
    value = c.req.headers.get("x-oss-storage-class")
    if value is None:
        # [unverified] an object in an archive-class bucket: stored as Standard (no restore emulation).
        return bucket_class if bucket_class in STORED_CLASSES else "Standard"
    if value not in STORAGE_CLASSES:
        # [unverified] Message; Code InvalidArgument and the ECs are from the OSS error-code pages.
        raise InvalidArgument("The storage class you specified is not valid.",
                              ec=EC_STORAGE_CLASS_INVALID if value else EC_STORAGE_CLASS_EMPTY,
                              ArgumentName="x-oss-storage-class", ArgumentValue=value[:64])
    if value not in STORED_CLASSES:
        # Not a real OSS answer: a local-cloud limit, said in OSS's error format.
        raise InvalidRequest(f"The {value} storage class is not supported by the local cloud "
                             "(restoring archived objects is not emulated).")
    return value


def _require_length(c: Call) -> None:
    h = c.req.headers
    if "content-length" not in h and "chunked" not in h.get("transfer-encoding", "").lower():
        raise MissingContentLength()


def write_template(c: Call, bucket_class: str | None = None) -> dict[str, Any]:
    """Metadata a PutObject-like request asks for (content type, user meta, stored headers, ACL, and,
    given the bucket's storage class, the object's)."""
    h = c.req.headers
    template = {"content_type": h.get("content-type") or "application/octet-stream",
                "user_meta": user_meta_from(h), "headers": stored_headers_from(h), "acl": _object_acl(c)}
    if bucket_class is not None:
        template["storage_class"] = storage_class_for(c, bucket_class)
    return template


async def new_object_template(c: Call) -> dict[str, Any]:
    """write_template for a request that creates an object in `c.req.bucket` (NoSuchBucket if gone)."""
    bucket = await in_thread(c.ctx.store.get_bucket, c.req.bucket)
    return write_template(c, bucket.storage_class)


async def put_object(c: Call) -> Response:
    assert c.req.bucket is not None and c.req.key is not None
    check_key(c.req.key)
    _require_length(c)
    spec = parse_callback_or_none(*callback_params(c))
    template = await new_object_template(c)   # header errors are answered before the body is read
    store = c.ctx.store
    pending = await in_thread(store.begin_write, c.req.bucket)
    await stream_into(pending, c.body.chunks(), sha256_hex=payload_sha256(c))
    meta = await in_thread(store.commit_object, pending, key=c.req.key, **template,
                           expected_md5_b64=c.req.headers.get("content-md5"),
                           forbid_overwrite=c.req.headers.get("x-oss-forbid-overwrite", "").lower() == "true")
    return await finish_upload(c, meta, spec, operation="PutObject", headers=upload_headers(meta),
                               default=Response(b"", status_code=200))


async def append_object(c: Call) -> Response:
    assert c.req.bucket is not None and c.req.key is not None
    check_key(c.req.key)
    position_text = c.req.q("position")
    try:
        position = int(position_text or "")
    except ValueError as exc:
        raise InvalidArgument("position is not valid.", ArgumentName="position",
                              ArgumentValue=(position_text or "")[:64]) from exc
    template = ObjectTemplate(**await new_object_template(c))
    store = c.ctx.store
    pending = await in_thread(store.begin_write, c.req.bucket)
    await stream_into(pending, c.body.chunks())
    meta = await in_thread(store.append, c.req.bucket, c.req.key, position, pending, template=template)
    headers = {"etag": meta.etag, "x-oss-hash-crc64ecma": str(meta.crc64),
               "x-oss-next-append-position": str(meta.size)}
    return Response(b"", status_code=200, headers=headers)


def _etag_matches(header: str, etag: str) -> bool:
    bare = etag.strip('"').upper()
    return any(t.strip().strip('"').upper() in (bare, "*") for t in header.split(","))


def _http_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def check_conditions(c: Call, meta: ObjectMeta) -> Response | None:
    """If-Match / If-Unmodified-Since → 412; If-None-Match / If-Modified-Since → 304 (reference §8.3)."""
    h = c.req.headers
    modified = int(meta.last_modified)
    if "if-match" in h:
        if not _etag_matches(h["if-match"], meta.etag):
            raise PreconditionFailed(Condition="If-Match")
    else:
        since = _http_time(h.get("if-unmodified-since"))
        if since is not None and modified > since:
            raise PreconditionFailed(Condition="If-Unmodified-Since")
    not_modified = Response(status_code=304, headers={"etag": meta.etag,
                                                      "last-modified": object_headers(meta)["last-modified"]})
    if "if-none-match" in h:
        if _etag_matches(h["if-none-match"], meta.etag):
            return not_modified
    else:
        since = _http_time(h.get("if-modified-since"))
        if since is not None and modified <= since:
            return not_modified
    return None


def parse_range(header: str | None, size: int, standard: bool) -> tuple[int, int] | None:
    """(start, end) inclusive for a satisfiable `bytes=` range, None for the whole object.

    Default OSS behaviour ignores an invalid or out-of-range range (200, whole object);
    `x-oss-range-behavior: standard` clamps the end and answers 416 for a start past the end.
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or not spec:
        return None
    first = spec.split(",")[0].strip()
    lo_text, dash, hi_text = first.partition("-")
    if not dash:
        return None
    try:
        if lo_text == "":
            n = int(hi_text)
            if n <= 0:
                return None
            if n > size:
                return (0, size - 1) if standard and size > 0 else None
            return size - n, size - 1
        start = int(lo_text)
        end = int(hi_text) if hi_text else size - 1
    except ValueError:
        return None
    if start < 0 or end < start:
        return None
    if start >= size:
        if standard:
            raise InvalidRange(ActualObjectSize=str(size), RangeRequested=header[:128])
        return None
    if end >= size:
        if not standard:
            return None
        end = size - 1
    return start, end


async def read_chunks(reader: ObjectReader, start: int, end: int) -> AsyncIterator[bytes]:
    """Bytes start..end (inclusive) of an open store reader, read off the event loop."""
    if end < start:
        return
    async for chunk in iterate_in_threadpool(reader.read_range(start, end, READ_CHUNK)):
        yield chunk


async def _stream(reader: ObjectReader, start: int, end: int) -> AsyncIterator[bytes]:
    try:
        async for chunk in read_chunks(reader, start, end):
            yield chunk
    finally:
        await in_thread(reader.close)


async def _stream_gzip(reader: ObjectReader, size: int) -> AsyncIterator[bytes]:
    """The whole object gzip-compressed; reading and compressing both run off the event loop."""
    try:
        chunks = gzip_body.gzip_chunks(reader.read_range(0, size - 1, READ_CHUNK))
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk
    finally:
        await in_thread(reader.close)


def _gzip_applies(c: Call, headers: dict[str, str], size: int) -> bool:
    return gzip_body.applies(headers, c.req.headers.get("accept-encoding"), size)


async def get_object(c: Call) -> Response:
    meta, reader = await in_thread(c.ctx.store.open_read, c.req.bucket, c.req.key)
    try:
        early = check_conditions(c, meta)
        standard = c.req.headers.get("x-oss-range-behavior", "").lower() == "standard"
        rng = parse_range(c.req.headers.get("range"), meta.size, standard)
    except BaseException:
        await in_thread(reader.close)
        raise
    if early is not None:
        await in_thread(reader.close)
        return early
    headers = object_headers(meta)
    for param, header in _OVERRIDES.items():
        value = c.req.q(param)
        if value is not None:
            headers[header] = value
    if rng is None and _gzip_applies(c, headers, meta.size):
        # Only whole-object answers are compressed: a satisfiable Range gets its 206 identity
        # answer (what a gzip filter in front of the range-serving backend would do) [unverified].
        return StreamingResponse(_stream_gzip(reader, meta.size), status_code=200,
                                 headers=gzip_body.compressed_headers(headers))
    status = 200
    start, end = 0, meta.size - 1
    if rng is not None:
        start, end = rng
        status = 206
        headers["content-range"] = f"bytes {start}-{end}/{meta.size}"
    headers["content-length"] = str(end - start + 1 if meta.size else 0)
    if meta.size == 0:
        await in_thread(reader.close)
        return Response(b"", status_code=status, headers=headers)
    return StreamingResponse(_stream(reader, start, end), status_code=status, headers=headers)


async def head_object(c: Call) -> Response:
    meta = await in_thread(c.ctx.store.head, c.req.bucket, c.req.key)
    early = check_conditions(c, meta)
    if early is not None:
        return early
    headers = object_headers(meta)
    if _gzip_applies(c, headers, meta.size):
        # [doc faq-detail/39645] HeadObject announces the compression too; its other headers are
        # assumed to be those of the compressed GET (no Content-Length, ETag, Accept-Ranges) [unverified].
        response = Response(b"", status_code=200, headers=gzip_body.compressed_headers(headers))
        del response.headers["content-length"]   # Starlette adds "0" for an empty body
        return response
    headers["content-length"] = str(meta.size)
    return Response(b"", status_code=200, headers=headers)


async def get_object_meta(c: Call) -> Response:
    meta = await in_thread(c.ctx.store.head, c.req.bucket, c.req.key)
    full = object_headers(meta)
    headers = {"etag": meta.etag, "last-modified": full["last-modified"], "content-length": str(meta.size),
               "x-oss-last-access-time": full["last-modified"]}
    return Response(b"", status_code=200, headers=headers)


async def delete_object(c: Call) -> Response:
    await in_thread(c.ctx.store.get_bucket, c.req.bucket)
    await in_thread(c.ctx.store.delete, c.req.bucket, c.req.key)
    return Response(status_code=204)


def check_copy_conditions(c: Call, src: ObjectMeta) -> None:
    """x-oss-copy-source-if-match / -if-none-match against the source object → 412."""
    h = c.req.headers
    if "x-oss-copy-source-if-match" in h and not _etag_matches(h["x-oss-copy-source-if-match"], src.etag):
        raise PreconditionFailed(Condition="x-oss-copy-source-if-match")
    none_match = h.get("x-oss-copy-source-if-none-match")
    if none_match is not None and _etag_matches(none_match, src.etag):
        raise PreconditionFailed(Condition="x-oss-copy-source-if-none-match")


def copy_source(value: str) -> tuple[str, str]:
    """(bucket, key) of `x-oss-copy-source: /bucket/<percent-encoded key>[?versionId=…]`; the key
    follows the object-name rules (any control character included, reference §2)."""
    path = value.split("?", 1)[0].lstrip("/")
    bucket, _, key_raw = path.partition("/")
    try:
        bucket, key = unquote(bucket, errors="strict"), unquote(key_raw, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidObjectName(ec=EC_NAME_TOO_LONG) from exc
    if not bucket or not key:
        raise InvalidArgument("Copy Source must mention the source bucket and key: /sourcebucket/sourcekey.",
                              ArgumentName="x-oss-copy-source", ArgumentValue=value[:256])
    check_key(key)
    return bucket, key


async def copy_object(c: Call) -> Response:
    assert c.req.bucket is not None and c.req.key is not None
    check_key(c.req.key)
    src_bucket, src_key = copy_source(c.req.headers["x-oss-copy-source"])
    await c.authorize_source(src_bucket, src_key)
    await c.body.drain()
    directive = c.req.headers.get("x-oss-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise InvalidArgument("x-oss-metadata-directive is invalid.", ArgumentName="x-oss-metadata-directive",
                              ArgumentValue=directive[:32])
    src = await in_thread(c.ctx.store.head, src_bucket, src_key)
    check_copy_conditions(c, src)
    override = ObjectTemplate(**write_template(c)) if directive == "REPLACE" else None
    if src_bucket == c.req.bucket and src_key == c.req.key and override is None:
        raise InvalidRequest("The source object is the same as the destination object, and the metadata "
                             "directive is COPY.")
    await in_thread(c.ctx.store.get_bucket, c.req.bucket)
    meta = await in_thread(c.ctx.store.copy, src_bucket, src_key, c.req.bucket, c.req.key,
                           meta_override=override, acl=_object_acl(c))
    return xml_response("CopyObjectResult",
                        [("ETag", meta.etag), ("LastModified", iso8601_ms(meta.last_modified))],
                        headers={"x-oss-hash-crc64ecma": str(meta.crc64)})


async def put_object_acl(c: Call) -> Response:
    acl = _object_acl(c)
    await c.body.drain()
    meta = await in_thread(c.ctx.store.head, c.req.bucket, c.req.key)
    # The store publishes metadata only with data, so an ACL change is an in-place copy.
    await in_thread(c.ctx.store.copy, c.req.bucket, c.req.key, c.req.bucket, c.req.key,
                    meta_override=dataclasses.replace(meta.template, acl=acl))
    return Response(b"", status_code=200)


async def get_object_acl(c: Call) -> Response:
    meta = await in_thread(c.ctx.store.head, c.req.bucket, c.req.key)
    return xml_response("AccessControlPolicy", [("Owner", owner(c.ctx)),
                                                ("AccessControlList", [("Grant", meta.acl)])])
