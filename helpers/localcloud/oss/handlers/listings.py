"""Bucket listings of features the local cloud does not have, answered from what it does have:
ListLiveChannel (no live channels: an empty list) and ListObjectVersions (no versioning: each object is
its own only version, "null"). The official SDKs' bucket clean-up helpers call both (oss2 tests/common.py
`clean_and_delete_bucket`, alibabacloud-oss-v2 tests/integration `clean_versions`).
"""

from __future__ import annotations

from starlette.responses import Response

from helpers.localcloud.clock import iso8601_ms
from helpers.localcloud.oss.call import Call
from helpers.localcloud.oss.handlers.common import in_thread, int_param, owner, url_encoder, xml_response
from helpers.localcloud.xml import Value

# The version id of an object written while versioning was never enabled [doc PutBucketVersioning: a
# suspended bucket gives new objects the version ID null]. [unverified] that OSS lists objects of a bucket
# that never had versioning with this id, as S3 does.
NULL_VERSION = "null"


async def list_live_channel(c: Call) -> Response:
    """GET /?live: the echoed prefix/marker/max-keys and no <LiveChannel> (reference §10)."""
    prefix, marker = c.req.q("prefix") or "", c.req.q("marker") or ""
    max_keys = int_param(c.req.q("max-keys"), "max-keys", 100, 1, 1000)   # [unverified] the upper bound
    return xml_response("ListLiveChannelResult", [
        ("Prefix", prefix), ("Marker", marker), ("MaxKeys", max_keys), ("IsTruncated", False),
        ("NextMarker", "")])


async def list_object_versions(c: Call) -> Response:
    """GET /?versions on an unversioned bucket: the current objects, each the latest "null" version.

    `key-marker` K resumes after K: with a single version per key, (K, version-id-marker) has no later
    version of K. [unverified] element order and the max-keys bounds (those of ListObjects here).
    """
    enc = url_encoder(c.req.q("encoding-type"))
    prefix, delimiter = c.req.q("prefix") or "", c.req.q("delimiter") or ""
    key_marker, id_marker = c.req.q("key-marker") or "", c.req.q("version-id-marker") or ""
    max_keys = int_param(c.req.q("max-keys"), "max-keys", 100, 1, 1000)
    page = await in_thread(c.ctx.store.list_objects, c.req.bucket, prefix=prefix, marker=key_marker,
                           delimiter=delimiter, max_keys=max_keys)
    children: list[tuple[str, Value]] = [
        ("Name", c.req.bucket), ("Prefix", enc(prefix)), ("KeyMarker", enc(key_marker)),
        ("VersionIdMarker", id_marker), ("MaxKeys", max_keys), ("Delimiter", enc(delimiter))]
    if c.req.q("encoding-type"):
        children.append(("EncodingType", "url"))
    children.append(("IsTruncated", page.is_truncated))
    if page.is_truncated:
        children += [("NextKeyMarker", enc(page.next_marker)), ("NextVersionIdMarker", NULL_VERSION)]
    children += [("Version", [
        ("Key", enc(o.key)), ("VersionId", NULL_VERSION), ("IsLatest", True),
        ("LastModified", iso8601_ms(o.last_modified)), ("ETag", o.etag), ("Type", o.object_type),
        ("Size", o.size), ("StorageClass", o.storage_class or "Standard"), ("Owner", owner(c.ctx))])
        for o in page.entries]
    children += [("CommonPrefixes", [("Prefix", enc(p))]) for p in page.common_prefixes]
    return xml_response("ListVersionsResult", children)
