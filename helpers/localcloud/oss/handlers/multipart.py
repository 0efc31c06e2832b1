"""Wire ↔ store for multipart uploads (reference §8.8)."""

from __future__ import annotations

from starlette.responses import Response

from helpers.localcloud.clock import iso8601_ms
from helpers.localcloud.errors import InvalidArgument, MalformedXML, NoSuchUpload
from helpers.localcloud.oss.call import Call
from helpers.localcloud.oss.handlers.common import (
    check_key,
    in_thread,
    int_param,
    upload_headers,
    url_encoder,
    xml_response,
)
from helpers.localcloud.oss.handlers.object import (
    check_copy_conditions,
    copy_source,
    new_object_template,
    object_acl_or_none,
    parse_range,
    read_chunks,
)
from helpers.localcloud.oss.handlers.upload import (
    callback_params,
    finish_upload,
    parse_callback_or_none,
    payload_sha256,
    stream_into,
)
from helpers.localcloud.store import ObjectTemplate
from helpers.localcloud.store.models import UploadMeta
from helpers.localcloud.xml import Value, parse

MAX_PART_SIZE = 5 * 1024 ** 3


async def _upload_for(c: Call) -> UploadMeta:
    """The upload named by `uploadId`, which must belong to this bucket and key."""
    upload_id = c.req.q("uploadId") or ""
    upload: UploadMeta = await in_thread(c.ctx.store.get_upload, c.req.bucket, upload_id)
    if upload.key != c.req.key:
        raise NoSuchUpload(UploadId=upload_id)
    return upload


async def initiate(c: Call) -> Response:
    assert c.req.key is not None
    check_key(c.req.key)
    enc = url_encoder(c.req.q("encoding-type"))
    await c.body.read_all()
    upload = await in_thread(c.ctx.store.initiate_upload, c.req.bucket, c.req.key,
                             template=ObjectTemplate(**await new_object_template(c)))
    children: list[tuple[str, Value]] = [("Bucket", c.req.bucket), ("Key", enc(c.req.key)),
                                         ("UploadId", upload.upload_id)]
    if c.req.q("encoding-type"):
        children.append(("EncodingType", "url"))
    return xml_response("InitiateMultipartUploadResult", children)


async def upload_part(c: Call) -> Response:
    number_text = c.req.q("partNumber") or ""
    if not number_text.isdigit() or not 1 <= int(number_text) <= 10000:
        raise InvalidArgument("Part number must be an integer between 1 and 10000, inclusive.",
                              ArgumentName="partNumber", ArgumentValue=number_text[:32])
    upload = await _upload_for(c)
    pending = await in_thread(c.ctx.store.begin_write, c.req.bucket)
    await stream_into(pending, c.body.chunks(), max_size=MAX_PART_SIZE, sha256_hex=payload_sha256(c))
    part = await in_thread(c.ctx.store.commit_part, pending, bucket=c.req.bucket, upload_id=upload.upload_id,
                           part_number=int(number_text), expected_md5_b64=c.req.headers.get("content-md5"))
    return Response(b"", status_code=200, headers=upload_headers(part))


async def upload_part_copy(c: Call) -> Response:
    """UploadPartCopy: a part made of (a range of) an existing object; the source needs oss:GetObject."""
    number_text = c.req.q("partNumber") or ""
    if not number_text.isdigit() or not 1 <= int(number_text) <= 10000:
        raise InvalidArgument("Part number must be an integer between 1 and 10000, inclusive.",
                              ArgumentName="partNumber", ArgumentValue=number_text[:32])
    src_bucket, src_key = copy_source(c.req.headers["x-oss-copy-source"])
    await c.authorize_source(src_bucket, src_key)
    await c.body.drain()
    upload = await _upload_for(c)
    src, reader = await in_thread(c.ctx.store.open_read, src_bucket, src_key)
    try:
        check_copy_conditions(c, src)
        # [unverified] an unsatisfiable source range copies the whole object, as GetObject's default does.
        rng = parse_range(c.req.headers.get("x-oss-copy-source-range"), src.size, False)
        start, end = rng if rng is not None else (0, src.size - 1)
        pending = await in_thread(c.ctx.store.begin_write, c.req.bucket)
        await stream_into(pending, read_chunks(reader, start, end), max_size=MAX_PART_SIZE)
    finally:
        await in_thread(reader.close)
    part = await in_thread(c.ctx.store.commit_part, pending, bucket=c.req.bucket, upload_id=upload.upload_id,
                           part_number=int(number_text))
    return xml_response("CopyPartResult", [("LastModified", iso8601_ms(part.last_modified)),
                                           ("ETag", part.etag)],
                        headers={"etag": part.etag, "x-oss-hash-crc64ecma": str(part.crc64)})


def _parse_parts(body: bytes) -> list[tuple[int, str]]:
    root = parse(body)
    if root.tag != "CompleteMultipartUpload":
        raise MalformedXML()
    parts: list[tuple[int, str]] = []
    for p in root.findall("Part"):
        number, etag = p.findtext("PartNumber"), p.findtext("ETag")
        if number is None or etag is None or not number.strip().isdigit():
            raise MalformedXML()
        parts.append((int(number.strip()), etag.strip()))
    if not parts:
        raise MalformedXML()
    return parts


async def complete(c: Call) -> Response:
    enc = url_encoder(c.req.q("encoding-type"))
    spec = parse_callback_or_none(*callback_params(c))
    # [unverified] Complete's own x-oss-object-acl overrides the one given at Initiate (reference §7).
    acl = object_acl_or_none(c.req.headers)
    upload = await _upload_for(c)
    body = await c.body.read_all()
    if c.req.headers.get("x-oss-complete-all", "").lower() == "yes":
        if body.strip():
            # (sic) "speficy": the text real OSS sends [IT gov2-it; reference §1].
            raise InvalidArgument("Should not speficy both complete all header and http body.",
                                  ec="0042-00000216", ArgumentName="x-oss-complete-all")
        parts = [(p.number, p.etag) for p in await in_thread(c.ctx.store.list_parts, c.req.bucket,
                                                             upload.upload_id)]
    else:
        parts = _parse_parts(body)
    meta = await in_thread(c.ctx.store.complete_upload, c.req.bucket, upload.upload_id, parts, acl=acl)
    children: list[tuple[str, Value]] = []
    if c.req.q("encoding-type"):
        children.append(("EncodingType", "url"))
    children += [("Location", f"http://{c.req.bucket}.oss-{c.ctx.region}.aliyuncs.com/{enc(meta.key)}"),
                 ("Bucket", c.req.bucket), ("Key", enc(meta.key)), ("ETag", meta.etag)]
    default = xml_response("CompleteMultipartUploadResult", children)
    return await finish_upload(c, meta, spec, operation="CompleteMultipartUpload",
                               headers={"etag": meta.etag, "x-oss-hash-crc64ecma": str(meta.crc64)},
                               default=default)


async def abort(c: Call) -> Response:
    upload = await _upload_for(c)
    await in_thread(c.ctx.store.abort_upload, c.req.bucket, upload.upload_id)
    return Response(status_code=204)


async def list_parts(c: Call) -> Response:
    enc = url_encoder(c.req.q("encoding-type"))
    upload = await _upload_for(c)
    marker = int_param(c.req.q("part-number-marker"), "part-number-marker", 0, 0, 10000)
    max_parts = int_param(c.req.q("max-parts"), "max-parts", 1000, 1, 1000)
    parts = [p for p in await in_thread(c.ctx.store.list_parts, c.req.bucket, upload.upload_id)
             if p.number > marker]
    page, truncated = parts[:max_parts], len(parts) > max_parts
    children: list[tuple[str, Value]] = [
        ("Bucket", c.req.bucket), ("Key", enc(upload.key)), ("UploadId", upload.upload_id),
        ("StorageClass", upload.template.storage_class or "Standard"),
        ("PartNumberMarker", marker), ("NextPartNumberMarker", page[-1].number if page else marker),
        ("MaxParts", max_parts), ("IsTruncated", truncated)]
    if c.req.q("encoding-type"):
        children.append(("EncodingType", "url"))
    children += [("Part", [("PartNumber", p.number), ("LastModified", iso8601_ms(p.last_modified)),
                           ("ETag", p.etag), ("HashCrc64ecma", str(p.crc64)), ("Size", p.size)])
                 for p in page]
    return xml_response("ListPartsResult", children)
