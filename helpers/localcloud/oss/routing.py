"""Addressing (path style / virtual host → bucket, key) and the operation table.

`OPERATIONS` is the one place that says, for each OSS API, its RAM action (reference §11.3, as in
moto's ACTION_MAP), resource level, handler and auth mode; handlers never name an action.
`operation_for(req)` picks the API from (method, level, sub-resource, headers).
This module imports nothing from Starlette.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote, unquote_plus

from helpers.localcloud.errors import InvalidRequest, MethodNotAllowed
from helpers.localcloud.oss.request import Headers, Operation, OssRequest

# URL style and the bucket a virtual-hosted `Host` names: the SDKs' rule, in `helpers.protocol.endpoints`.
# Any region's host routes here; real OSS answers a bucket addressed through another region's endpoint
# with an AccessDenied naming the right endpoint [unverified: not reproduced here].
from helpers.protocol.endpoints import vhost_bucket

_GET = "oss:GetObject"
_PUT = "oss:PutObject"
_B: Final = "bucket"
_O: Final = "object"

OPERATIONS: dict[str, Operation] = {op.name: op for op in [
    Operation("ListBuckets", "oss:ListBuckets", "service", "bucket.list_buckets"),
    Operation("PutBucket", "oss:PutBucket", _B, "bucket.put_bucket", key_before_bucket=True),
    Operation("DeleteBucket", "oss:DeleteBucket", _B, "bucket.delete_bucket"),
    Operation("GetBucketInfo", "oss:GetBucketInfo", _B, "bucket.get_bucket_info"),
    Operation("GetBucketLocation", "oss:GetBucketLocation", _B, "bucket.get_bucket_location"),
    # [unverified] PutBucketAcl grouped with PutBucket on one IT only (reference §1, Unverified 1).
    Operation("PutBucketAcl", "oss:PutBucketAcl", _B, "bucket.put_bucket_acl", key_before_bucket=True),
    Operation("GetBucketAcl", "oss:GetBucketAcl", _B, "bucket.get_bucket_acl"),
    Operation("PutBucketCors", "oss:PutBucketCors", _B, "bucket.put_bucket_cors"),
    Operation("GetBucketCors", "oss:GetBucketCors", _B, "bucket.get_bucket_cors"),
    Operation("DeleteBucketCors", "oss:DeleteBucketCors", _B, "bucket.delete_bucket_cors"),
    Operation("ListObjects", "oss:ListObjects", _B, "bucket.list_objects"),
    Operation("ListObjectsV2", "oss:ListObjects", _B, "bucket.list_objects_v2"),
    Operation("ListMultipartUploads", "oss:ListMultipartUploads", _B, "bucket.list_multipart_uploads"),
    # Read-only listings the SDKs' bucket clean-up helpers call (oss2 tests/common.py
    # clean_and_delete_bucket; alibabacloud-oss-v2 tests/integration clean_versions). The local cloud has
    # no live channels and no versioning, so both answer from what it does have.
    Operation("ListLiveChannel", "oss:ListLiveChannel", _B, "listings.list_live_channel"),
    Operation("ListObjectVersions", "oss:ListObjectVersions", _B, "listings.list_object_versions"),
    # Real OSS evaluates oss:DeleteObject on each object named in the body.
    Operation("DeleteMultipleObjects", "oss:DeleteObject", _O, "bucket.delete_multiple_objects",
              auth="per_key"),
    # PostObject authenticates from its form fields, not from headers (reference §6, §12 step 1).
    Operation("PostObject", _PUT, _O, "post.post_object", auth="form"),
    Operation("PutObject", _PUT, _O, "object.put_object"),
    Operation("CopyObject", _PUT, _O, "object.copy_object", source_action=_GET),
    Operation("AppendObject", _PUT, _O, "object.append_object"),
    Operation("GetObject", _GET, _O, "object.get_object"),
    Operation("HeadObject", _GET, _O, "object.head_object"),
    Operation("GetObjectMeta", _GET, _O, "object.get_object_meta"),
    Operation("DeleteObject", "oss:DeleteObject", _O, "object.delete_object"),
    Operation("PutObjectAcl", "oss:PutObjectAcl", _O, "object.put_object_acl"),
    Operation("GetObjectAcl", "oss:GetObjectAcl", _O, "object.get_object_acl"),
    Operation("InitiateMultipartUpload", _PUT, _O, "multipart.initiate"),
    Operation("UploadPart", _PUT, _O, "multipart.upload_part"),
    Operation("UploadPartCopy", _PUT, _O, "multipart.upload_part_copy", source_action=_GET),
    Operation("CompleteMultipartUpload", _PUT, _O, "multipart.complete"),
    Operation("AbortMultipartUpload", "oss:AbortMultipartUpload", _O, "multipart.abort"),
    Operation("ListParts", "oss:ListParts", _O, "multipart.list_parts"),
]}

# The CORS preflight (any OPTIONS request) is served but is no OSS API: no RAM action, no signature.
PREFLIGHT = Operation("Preflight", None, _B, "preflight.preflight", auth="none")

# Everything the OSS port dispatches to a handler, by name.
SERVED: dict[str, Operation] = {**OPERATIONS, PREFLIGHT.name: PREFLIGHT}


# Sub-resources of OSS APIs the local cloud does not implement. A request naming one is refused, never
# routed to the plain API of the same method: `DELETE /k?tagging` must not delete the object, and
# `PUT /k?tagging` must not overwrite it with the tagging XML. `live` and `versions` are served only as
# the bucket listings of LISTING_SUBRESOURCES (GET at bucket level); any other use is refused.
UNSUPPORTED_SUBRESOURCES: frozenset[str] = frozenset("""
tagging symlink restore lifecycle logging website referer versioning versions policy encryption replication
replicationLocation replicationProgress inventory worm wormId wormExtend qos qosInfo stat requestPayment
transferAcceleration cname metaQuery resourceGroup style regionList live comp vod objectInfo link group
asyncFetch httpsConfig redundancyTransition accessPoint accessPointPolicy publicAccessBlock x-oss-process
x-oss-async-process bucketArchiveDirectRead resourcePool resourcePoolInfo resourcePoolBuckets
requesterQosInfo qosRequester cloudboxes
""".split())


LISTING_SUBRESOURCES: dict[str, str] = {"live": "ListLiveChannel", "versions": "ListObjectVersions"}


def split_target(raw_path: str, host: str,
                 service_domains: tuple[str, ...] = ()) -> tuple[str | None, str | None]:
    """(bucket, key) from the raw (still percent-encoded) path and the Host header.

    Virtual host (`vhost_bucket`): the Host names the bucket and the whole percent-decoded path is
    the key, whatever address the connection went to. Path style (IP, `localhost`, any other host):
    the first segment is the bucket, the percent-decoded rest is the key (`%2F` and `/` are the same
    once decoded). Key None means bucket level; both None means service level.
    """
    path = raw_path or "/"
    if not path.startswith("/"):
        raise InvalidRequest("Invalid request path.")
    bucket = vhost_bucket(host, service_domains)
    if bucket is not None:
        rest = path[1:]
        return bucket, (unquote(rest, errors="strict") if rest else None)
    rest = path[1:]
    if not rest:
        return None, None
    bucket_raw, sep, key_raw = rest.partition("/")
    bucket = unquote(bucket_raw, errors="strict")
    if not bucket:
        raise InvalidRequest("Invalid request path.")
    key = unquote(key_raw, errors="strict") if key_raw else None
    return bucket, key


def parse_query(raw_query: str) -> tuple[tuple[str, str], ...]:
    """Decoded (name, value) pairs in wire order; `+` is a space (oss2 form-encodes queries)."""
    pairs: list[tuple[str, str]] = []
    if not raw_query:
        return ()
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote_plus(name, errors="strict"), unquote_plus(value, errors="strict")))
    return tuple(pairs)


def _is_form_post(headers: Headers) -> bool:
    return headers.get("content-type", "").lower().startswith("multipart/form-data")


def operation_for(req: OssRequest) -> Operation:
    """The OSS API this request calls (reference §8, §11.3). Raises MethodNotAllowed otherwise."""
    m, has = req.method, req.has_q
    names = {k for k, _ in req.query}
    listing = (sorted(names & LISTING_SUBRESOURCES.keys())
               if m == "GET" and req.bucket is not None and req.key is None else [])
    unsupported = sorted((names - set(listing[:1])) & UNSUPPORTED_SUBRESOURCES)
    if unsupported:
        raise InvalidRequest(f"The '{unsupported[0]}' sub-resource is not supported by the local cloud.")
    if req.bucket is None:
        if m == "GET":
            return OPERATIONS["ListBuckets"]
        raise MethodNotAllowed()
    if req.key is None:
        name = {
            "PUT": "PutBucketAcl" if has("acl") else "PutBucketCors" if has("cors") else "PutBucket",
            "GET": (LISTING_SUBRESOURCES[listing[0]] if listing
                    else "GetBucketAcl" if has("acl") else "GetBucketCors" if has("cors")
                    else "GetBucketInfo" if has("bucketInfo") else "GetBucketLocation" if has("location")
                    else "ListMultipartUploads" if has("uploads")
                    else "ListObjectsV2" if req.q("list-type") == "2" else "ListObjects"),
            "DELETE": "DeleteBucketCors" if has("cors") else "DeleteBucket",
            # Any other bucket POST is a PostObject; its handler refuses a non-multipart body (400).
            "POST": "DeleteMultipleObjects" if has("delete") else "PostObject",
        }.get(m)
    else:
        copy = "x-oss-copy-source" in req.headers
        name = {
            "PUT": (("UploadPartCopy" if copy else "UploadPart") if has("uploadId") and has("partNumber")
                    else "PutObjectAcl" if has("acl") else "CopyObject" if copy else "PutObject"),
            "GET": "ListParts" if has("uploadId") else "GetObjectAcl" if has("acl") else "GetObject",
            "HEAD": "GetObjectMeta" if has("objectMeta") else "HeadObject",
            "DELETE": "AbortMultipartUpload" if has("uploadId") else "DeleteObject",
            "POST": ("InitiateMultipartUpload" if has("uploads") else "CompleteMultipartUpload"
                     if has("uploadId") else "AppendObject" if has("append")
                     else "PostObject" if _is_form_post(req.headers) else None),
        }.get(m)
    if name is None:
        raise MethodNotAllowed()
    return OPERATIONS[name]


def resource_arn(bucket: str | None, key: str | None, level: str, *, region: str = "*",
                 account_id: str = "*") -> str:
    """The ARN RAM evaluates: `acs:oss:<region>:<acct>:bucket[/key]` (reference §11.2).
    Policies usually say `acs:oss:*:*:…`, and `*` matches the concrete region and account."""
    if level == "service" or bucket is None:
        return f"acs:oss:{region}:{account_id}:*"
    if level == "bucket" or key is None:
        return f"acs:oss:{region}:{account_id}:{bucket}"
    return f"acs:oss:{region}:{account_id}:{bucket}/{key}"
