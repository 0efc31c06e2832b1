"""Wire ↔ store for bucket operations, listings and batch delete (reference §8.6, §8.7, §8.9, §8.10)."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.responses import Response

from helpers.localcloud.clock import iso8601_ms
from helpers.localcloud.errors import (
    BucketAlreadyExists,
    InvalidArgument,
    InvalidBucketName,
    MalformedXML,
    NoSuchCORSConfiguration,
)
from helpers.localcloud.oss.call import Call
from helpers.localcloud.oss.handlers.common import (
    check_key,
    in_thread,
    int_param,
    owner,
    url_encoder,
    xml_response,
)
from helpers.localcloud.store.models import ObjectMeta
from helpers.localcloud.xml import Value, build_text, child_text, parse, parse_with_control_chars

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
ACLS = ("private", "public-read", "public-read-write")


def _endpoints(c: Call) -> tuple[str, str]:
    ext = f"oss-{c.ctx.region}.aliyuncs.com"
    return ext, f"oss-{c.ctx.region}-internal.aliyuncs.com"


def _acl(value: str | None, header: str) -> str:
    if value is None:
        return "private"
    if value not in ACLS:
        raise InvalidArgument("no such bucket access control exists", ArgumentName=header,
                              ArgumentValue=value[:64])
    return value


async def list_buckets(c: Call) -> Response:
    prefix = c.req.q("prefix") or ""
    marker = c.req.q("marker") or ""
    max_keys = int_param(c.req.q("max-keys"), "max-keys", 100, 1, 1000)
    buckets = [b for b in await in_thread(c.ctx.store.list_buckets)
               if b.name.startswith(prefix) and b.name > marker]
    page, truncated = buckets[:max_keys], len(buckets) > max_keys
    ext, internal = _endpoints(c)
    children: list[tuple[str, Value]] = []
    if c.req.has_q("prefix") or c.req.has_q("marker") or c.req.has_q("max-keys"):
        children += [("Prefix", prefix), ("Marker", marker), ("MaxKeys", max_keys),
                     ("IsTruncated", truncated)]
        if truncated:
            children.append(("NextMarker", page[-1].name))
    children.append(("Owner", owner(c.ctx)))
    children.append(("Buckets", [("Bucket", [
        ("CreationDate", iso8601_ms(b.created)), ("ExtranetEndpoint", ext), ("IntranetEndpoint", internal),
        ("Location", f"oss-{b.region}"), ("Name", b.name), ("Region", b.region),
        ("StorageClass", b.storage_class)]) for b in page]))
    return xml_response("ListAllMyBucketsResult", children)


async def put_bucket(c: Call) -> Response:
    name = c.req.bucket or ""
    if not _BUCKET_NAME.match(name):
        raise InvalidBucketName(BucketName=name[:128])
    acl = _acl(c.req.headers.get("x-oss-acl"), "x-oss-acl")
    storage_class = "Standard"
    body = await c.body.read_all()
    if body.strip():
        root = parse(body)
        if root.tag != "CreateBucketConfiguration":
            raise MalformedXML()
        storage_class = child_text(root, "StorageClass") or "Standard"
        if storage_class not in ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"):
            raise InvalidArgument("Invalid storage class.", ArgumentName="StorageClass",
                                  ArgumentValue=storage_class[:64])
    meta, created = await in_thread(c.ctx.store.create_bucket, name, owner_id=c.ctx.accounts.account_id,
                                    acl=acl, region=c.ctx.region, storage_class=storage_class)
    if not created and meta.owner_id != c.ctx.accounts.account_id:
        raise BucketAlreadyExists(BucketName=name)
    return Response(b"", status_code=200, headers={"location": f"/{name}"})


async def delete_bucket(c: Call) -> Response:
    await in_thread(c.ctx.store.delete_bucket, c.req.bucket)
    return Response(status_code=204)


async def get_bucket_info(c: Call) -> Response:
    b = await in_thread(c.ctx.store.get_bucket, c.req.bucket)
    ext, internal = _endpoints(c)
    return xml_response("BucketInfo", [("Bucket", [
        ("AccessMonitor", "Disabled"), ("CreationDate", iso8601_ms(b.created)),
        ("ExtranetEndpoint", ext), ("IntranetEndpoint", internal), ("Location", f"oss-{b.region}"),
        ("StorageClass", b.storage_class), ("TransferAcceleration", "Disabled"),
        ("CrossRegionReplication", "Disabled"), ("Name", b.name), ("Region", b.region),
        ("ResourceGroupId", "rg-default"), ("DataRedundancyType", "LRS"),
        ("Owner", [("DisplayName", b.owner_id), ("ID", b.owner_id)]),
        ("AccessControlList", [("Grant", b.acl)]), ("Comment", ""),
        # Real OSS blocks public access on new buckets (reference §6); the local cloud does not
        # implement Block Public Access and honours public ACLs, so it reports what it does.
        ("BlockPublicAccess", False),
        ("ServerSideEncryptionRule", [("SSEAlgorithm", "None")]),
        ("BucketPolicy", [("LogBucket", ""), ("LogPrefix", "")]),
    ])])


async def get_bucket_location(c: Call) -> Response:
    b = await in_thread(c.ctx.store.get_bucket, c.req.bucket)
    return Response(build_text("LocationConstraint", f"oss-{b.region}"), media_type="application/xml")


async def put_bucket_acl(c: Call) -> Response:
    acl = _acl(c.req.headers.get("x-oss-acl"), "x-oss-acl")
    await c.body.read_all()
    await in_thread(c.ctx.store.update_bucket, c.req.bucket, acl=acl)
    return Response(b"", status_code=200)


async def get_bucket_acl(c: Call) -> Response:
    b = await in_thread(c.ctx.store.get_bucket, c.req.bucket)
    return xml_response("AccessControlPolicy", [("Owner", owner(c.ctx)),
                                                ("AccessControlList", [("Grant", b.acl)])])


async def put_bucket_cors(c: Call) -> Response:
    from helpers.localcloud.oss.cors import parse_cors_xml

    rules = parse_cors_xml(await c.body.read_all())
    await in_thread(c.ctx.store.update_bucket, c.req.bucket, cors_rules=rules)
    return Response(b"", status_code=200)


async def get_bucket_cors(c: Call) -> Response:
    from helpers.localcloud.oss.cors import cors_xml

    b = await in_thread(c.ctx.store.get_bucket, c.req.bucket)
    if not b.cors_rules:
        raise NoSuchCORSConfiguration(BucketName=b.name)
    return Response(cors_xml(b.cors_rules), media_type="application/xml")


async def delete_bucket_cors(c: Call) -> Response:
    await in_thread(c.ctx.store.update_bucket, c.req.bucket, cors_rules=())
    return Response(status_code=204)


def _contents(c: Call, o: ObjectMeta, enc: Callable[[str], str], fetch_owner: bool = True
              ) -> list[tuple[str, Value]]:
    children: list[tuple[str, Value]] = [
        ("Key", enc(o.key)), ("LastModified", iso8601_ms(o.last_modified)), ("ETag", o.etag),
        ("Type", o.object_type), ("Size", o.size), ("StorageClass", o.storage_class or "Standard")]
    if fetch_owner:
        children.append(("Owner", owner(c.ctx)))
    return children


async def list_objects(c: Call) -> Response:
    enc = url_encoder(c.req.q("encoding-type"))
    prefix, marker = c.req.q("prefix") or "", c.req.q("marker") or ""
    delimiter = c.req.q("delimiter") or ""
    max_keys = int_param(c.req.q("max-keys"), "max-keys", 100, 1, 1000)
    page = await in_thread(c.ctx.store.list_objects, c.req.bucket, prefix=prefix, marker=marker,
                           delimiter=delimiter, max_keys=max_keys)
    children: list[tuple[str, Value]] = [
        ("Name", c.req.bucket), ("Prefix", enc(prefix)), ("Marker", enc(marker)), ("MaxKeys", max_keys),
        ("Delimiter", enc(delimiter))]
    if c.req.q("encoding-type"):
        children.append(("EncodingType", "url"))
    children.append(("IsTruncated", page.is_truncated))
    if page.is_truncated:
        children.append(("NextMarker", enc(page.next_marker)))
    children += [("Contents", _contents(c, o, enc)) for o in page.entries]
    children += [("CommonPrefixes", [("Prefix", enc(p))]) for p in page.common_prefixes]
    return xml_response("ListBucketResult", children)


def _token_encode(key: str) -> str:
    # Continuation tokens are hex of the last key: no `%`, so SDK URL-decoding is harmless (§14 item 13).
    return key.encode("utf-8").hex()


def _token_decode(token: str) -> str:
    try:
        return bytes.fromhex(token).decode("utf-8")
    except ValueError as exc:
        raise InvalidArgument("The continuation token provided is incorrect.",
                              ArgumentName="continuation-token", ArgumentValue=token[:64]) from exc


async def list_objects_v2(c: Call) -> Response:
    enc = url_encoder(c.req.q("encoding-type"))
    prefix, delimiter = c.req.q("prefix") or "", c.req.q("delimiter") or ""
    token, start_after = c.req.q("continuation-token") or "", c.req.q("start-after") or ""
    max_keys = int_param(c.req.q("max-keys"), "max-keys", 100, 1, 1000)
    fetch_owner = (c.req.q("fetch-owner") or "").lower() == "true"
    marker = _token_decode(token) if token else start_after
    page = await in_thread(c.ctx.store.list_objects, c.req.bucket, prefix=prefix, marker=marker,
                           delimiter=delimiter, max_keys=max_keys)
    children: list[tuple[str, Value]] = [("Name", c.req.bucket), ("Prefix", enc(prefix))]
    if start_after:
        children.append(("StartAfter", enc(start_after)))
    if token:
        children.append(("ContinuationToken", token))
    children += [("MaxKeys", max_keys), ("Delimiter", enc(delimiter))]
    if c.req.q("encoding-type"):
        children.append(("EncodingType", "url"))
    children.append(("IsTruncated", page.is_truncated))
    if page.is_truncated:
        children.append(("NextContinuationToken", _token_encode(page.next_marker)))
    children.append(("KeyCount", len(page.entries) + len(page.common_prefixes)))
    children += [("Contents", _contents(c, o, enc, fetch_owner)) for o in page.entries]
    children += [("CommonPrefixes", [("Prefix", enc(p))]) for p in page.common_prefixes]
    return xml_response("ListBucketResult", children)


async def list_multipart_uploads(c: Call) -> Response:
    enc = url_encoder(c.req.q("encoding-type"))
    prefix, delimiter = c.req.q("prefix") or "", c.req.q("delimiter") or ""
    key_marker, id_marker = c.req.q("key-marker") or "", c.req.q("upload-id-marker") or ""
    max_uploads = int_param(c.req.q("max-uploads"), "max-uploads", 1000, 1, 1000)
    page = await in_thread(c.ctx.store.list_uploads, c.req.bucket, prefix=prefix, key_marker=key_marker,
                           upload_id_marker=id_marker, max_uploads=max_uploads, delimiter=delimiter)
    children: list[tuple[str, Value]] = [
        ("Bucket", c.req.bucket), ("KeyMarker", enc(key_marker)), ("UploadIdMarker", id_marker),
        ("NextKeyMarker", enc(page.next_key_marker)), ("NextUploadIdMarker", page.next_upload_id_marker),
        ("Delimiter", enc(delimiter)), ("Prefix", enc(prefix)), ("MaxUploads", max_uploads),
        ("IsTruncated", page.is_truncated)]
    if c.req.q("encoding-type"):
        children.append(("EncodingType", "url"))
    children += [("Upload", [("Key", enc(u.key)), ("UploadId", u.upload_id),
                             ("Initiated", iso8601_ms(u.initiated))]) for u in page.uploads]
    children += [("CommonPrefixes", [("Prefix", enc(p))]) for p in page.common_prefixes]
    return xml_response("ListMultipartUploadsResult", children)


async def delete_multiple_objects(c: Call) -> Response:
    enc = url_encoder(c.req.q("encoding-type"))
    # Keys may hold control characters, which the SDKs send as `&#01;` or raw (reference §2).
    root = parse_with_control_chars(await c.body.read_all())
    if root.tag != "Delete":
        raise MalformedXML()
    quiet = (child_text(root, "Quiet") or "false").strip().lower() == "true"
    found = [o.findtext("Key") for o in root.findall("Object")]
    if not found or len(found) > 1000 or None in found:   # every <Object> needs a <Key>
        raise MalformedXML()
    keys = [k or "" for k in found]
    for key in keys:   # every name is checked before anything is deleted [unverified: OSS's order]
        check_key(key)
    await in_thread(c.ctx.store.get_bucket, c.req.bucket)
    deleted: list[tuple[str, Value]] = []
    for key in keys:
        # Each key is authorised on its own, as real OSS evaluates oss:DeleteObject per object.
        await c.authorize_operation(c.req.bucket, key)
    for key in keys:
        await in_thread(c.ctx.store.delete, c.req.bucket, key)
        if not quiet:
            deleted.append(("Deleted", [("Key", enc(key))]))
    children: list[tuple[str, Value]] = list(deleted)
    if c.req.q("encoding-type"):
        children.append(("EncodingType", "url"))
    return xml_response("DeleteResult", children)
