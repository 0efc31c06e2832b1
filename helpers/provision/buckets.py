"""The workbook's buckets on OSS, through oss2 with the account owner's key.

    ensure_bucket(target, name, report, cors_origin="http://127.0.0.1:8000")   # private, CORS for the app
    remove_bucket(target, name, report)                                         # empties users/, deletes

`down` empties only what the notebooks write: every object and unfinished multipart upload under
`users/` (app users' folders are the only place their credentials reach). Anything else in the
bucket is not the workbook's, so the bucket then stays and OSS's own BucketNotEmpty is reported.
"""

from __future__ import annotations

from typing import Any

import oss2
from oss2.models import BucketCors

from helpers.protocol.scopes import USERS_ROOT
from helpers.provision.clients import Target
from helpers.provision.report import Report, StepFailed, describe
from helpers.stack import app_cors_rule


def _same_rules(have: list[Any], want: list[Any]) -> bool:
    return [vars(r) for r in have] == [vars(r) for r in want]


def ensure_bucket(target: Target, name: str, report: Report, *, account_id: str,
                  cors_origin: str | None) -> None:
    """Create `name` (private) unless it is already ours; make its ACL private and, with
    `cors_origin`, its CORS rule the app's. One report line per change (or per thing left as it was)."""
    bucket = target.oss_bucket(name)
    try:
        # Readable but owned by another account (a bucket policy may allow that): not ours to use.
        # [unverified] that real OSS's Owner/ID equals GetCallerIdentity's AccountId (it does locally;
        # Alibaba's docs call both the account's UID).
        exists = str(bucket.get_bucket_info().owner.id) == account_id
    except (oss2.exceptions.NoSuchBucket, oss2.exceptions.AccessDenied):
        exists = False     # AccessDenied: someone else's; PutBucket then says so (BucketAlreadyExists)
    except oss2.exceptions.OssError as exc:
        raise StepFailed(f"read bucket {name}", exc) from None
    if not exists:
        try:
            bucket.create_bucket(oss2.BUCKET_ACL_PRIVATE)
        except oss2.exceptions.OssError as exc:
            taken = describe(exc)[0] == "BucketAlreadyExists"
            hint = "bucket names are global: pick another with --bucket" if taken else ""
            raise StepFailed(f"create bucket {name}", exc, hint=hint) from None
        report.created("bucket", name)
    else:
        try:
            acl = bucket.get_bucket_acl().acl
            if acl != oss2.BUCKET_ACL_PRIVATE:
                bucket.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)
                report.updated("bucket", f"{name} (ACL {acl} -> private)")
            else:
                report.unchanged("bucket", name)
        except oss2.exceptions.OssError as exc:
            raise StepFailed(f"make bucket {name} private", exc) from None
    if cors_origin is not None:
        _ensure_cors(bucket, name, cors_origin, report)


def _ensure_cors(bucket: oss2.Bucket, name: str, origin: str, report: Report) -> None:
    want = [app_cors_rule(origin)]
    try:
        try:
            have = bucket.get_bucket_cors().rules
        except oss2.exceptions.NoSuchCors:
            have = []
        if _same_rules(have, want):
            report.unchanged("cors", f"{name} (origin {origin})")
            return
        bucket.put_bucket_cors(BucketCors(want))
    except oss2.exceptions.OssError as exc:
        raise StepFailed(f"set the CORS rule of bucket {name}", exc) from None
    (report.updated if have else report.created)("cors", f"{name} (origin {origin})")


def remove_bucket(target: Target, name: str, report: Report) -> None:
    """Delete what the notebooks wrote under `users/` (objects, unfinished multipart uploads), then the
    bucket. A bucket that is gone already is reported `absent`."""
    bucket = target.oss_bucket(name)
    try:
        for upload in oss2.MultipartUploadIterator(bucket, prefix=USERS_ROOT):
            bucket.abort_multipart_upload(upload.key, upload.upload_id)
        deleted, batch = 0, []
        for listed in oss2.ObjectIterator(bucket, prefix=USERS_ROOT):   # listed a page at a time
            batch.append(listed.key)
            if len(batch) == 1000:                    # DeleteMultipleObjects takes up to 1000 keys
                deleted += len(bucket.batch_delete_objects(batch).deleted_keys)
                batch = []
        if batch:
            deleted += len(bucket.batch_delete_objects(batch).deleted_keys)
        bucket.delete_bucket()
    except oss2.exceptions.NoSuchBucket:
        report.absent("bucket", name)
        return
    except oss2.exceptions.OssError as exc:
        hint = ("it holds objects outside users/, which the workbook did not write: they and the bucket stay"
                if describe(exc)[0] == "BucketNotEmpty" else "")
        raise StepFailed(f"delete bucket {name}", exc, hint=hint) from None
    report.deleted("bucket", f"{name} ({deleted} objects under users/)" if deleted else name)
