"""The OSS operation handlers, by operation name (names from `routing.OPERATIONS`)."""

from __future__ import annotations

from helpers.localcloud.oss.handlers import bucket, listings, multipart, object, post, preflight

HANDLERS = {
    "ListBuckets": bucket.list_buckets,
    "PutBucket": bucket.put_bucket,
    "DeleteBucket": bucket.delete_bucket,
    "GetBucketInfo": bucket.get_bucket_info,
    "GetBucketLocation": bucket.get_bucket_location,
    "PutBucketAcl": bucket.put_bucket_acl,
    "GetBucketAcl": bucket.get_bucket_acl,
    "PutBucketCors": bucket.put_bucket_cors,
    "GetBucketCors": bucket.get_bucket_cors,
    "DeleteBucketCors": bucket.delete_bucket_cors,
    "ListObjects": bucket.list_objects,
    "ListObjectsV2": bucket.list_objects_v2,
    "ListMultipartUploads": bucket.list_multipart_uploads,
    "ListLiveChannel": listings.list_live_channel,
    "ListObjectVersions": listings.list_object_versions,
    "DeleteMultipleObjects": bucket.delete_multiple_objects,
    "PutObject": object.put_object,
    "AppendObject": object.append_object,
    "CopyObject": object.copy_object,
    "GetObject": object.get_object,
    "HeadObject": object.head_object,
    "GetObjectMeta": object.get_object_meta,
    "DeleteObject": object.delete_object,
    "PutObjectAcl": object.put_object_acl,
    "GetObjectAcl": object.get_object_acl,
    "InitiateMultipartUpload": multipart.initiate,
    "UploadPart": multipart.upload_part,
    "UploadPartCopy": multipart.upload_part_copy,
    "CompleteMultipartUpload": multipart.complete,
    "AbortMultipartUpload": multipart.abort,
    "ListParts": multipart.list_parts,
    "PostObject": post.post_object,
    "Preflight": preflight.preflight,
}
