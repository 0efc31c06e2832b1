"""Durable object storage on disk for the local cloud: buckets, objects, multipart uploads.

Public API: `ObjectStore` and its value objects; `crc64`/`crc64_combine` for CRC-64/XZ.
This package imports nothing from Starlette and nothing from the HTTP layer.
"""

from __future__ import annotations

from helpers.localcloud.store.crc64 import crc64, crc64_combine
from helpers.localcloud.store.files import ObjectReader, PendingWrite
from helpers.localcloud.store.models import (
    BucketMeta,
    ListPage,
    ObjectMeta,
    ObjectTemplate,
    PartMeta,
    UploadMeta,
    UploadsPage,
)
from helpers.localcloud.store.multipart import MAX_PART_NUMBER, MIN_PART_SIZE
from helpers.localcloud.store.state import is_upload_id
from helpers.localcloud.store.store import ObjectStore

__all__ = [
    "MAX_PART_NUMBER",
    "MIN_PART_SIZE",
    "BucketMeta",
    "ListPage",
    "ObjectMeta",
    "ObjectReader",
    "ObjectStore",
    "ObjectTemplate",
    "PartMeta",
    "PendingWrite",
    "UploadMeta",
    "UploadsPage",
    "crc64",
    "crc64_combine",
    "is_upload_id",
]
