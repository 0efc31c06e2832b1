"""Value objects of the object store: buckets, objects, parts, multipart uploads, listing pages.

Plain frozen dataclasses with JSON round-trips (`to_json`/`from_json`) used by the on-disk format.
This module imports nothing from Starlette and nothing from the HTTP layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class BucketMeta:
    """A bucket. `cors_rules` is opaque to the store (the CORS handler owns its shape)."""

    name: str
    created: float
    acl: str = "private"
    region: str = "cn-hangzhou"
    storage_class: str = "Standard"
    cors_rules: tuple[dict[str, Any], ...] = ()
    owner_id: str = ""

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["cors_rules"] = list(self.cors_rules)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BucketMeta:
        return cls(name=d["name"], created=float(d["created"]), acl=d["acl"], region=d["region"],
                   storage_class=d["storage_class"], cors_rules=tuple(d.get("cors_rules") or ()),
                   owner_id=d.get("owner_id", ""))


@dataclass(frozen=True, slots=True)
class ObjectTemplate:
    """The metadata a writer supplies for a new object (PutObject headers, Initiate headers, REPLACE copy)."""

    content_type: str = "application/octet-stream"
    user_meta: dict[str, str] = field(default_factory=dict)   # lower-case names without x-oss-meta-
    headers: dict[str, str] = field(default_factory=dict)     # Cache-Control, Content-Disposition, ...
    acl: str = "default"
    storage_class: str = "Standard"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ObjectTemplate:
        return cls(content_type=d["content_type"], user_meta=dict(d["user_meta"]),
                   headers=dict(d["headers"]), acl=d["acl"], storage_class=d["storage_class"])


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """A stored object's metadata. `etag` is exactly what goes on the wire: quoted, upper-case hex."""

    bucket: str
    key: str
    size: int
    etag: str
    content_md5: str | None
    crc64: int
    last_modified: float
    content_type: str = "application/octet-stream"
    object_type: str = "Normal"
    user_meta: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    acl: str = "default"
    storage_class: str = "Standard"

    @property
    def template(self) -> ObjectTemplate:
        return ObjectTemplate(content_type=self.content_type, user_meta=dict(self.user_meta),
                              headers=dict(self.headers), acl=self.acl, storage_class=self.storage_class)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ObjectMeta:
        return cls(bucket=d["bucket"], key=d["key"], size=int(d["size"]), etag=d["etag"],
                   content_md5=d.get("content_md5"), crc64=int(d["crc64"]),
                   last_modified=float(d["last_modified"]), content_type=d["content_type"],
                   object_type=d["object_type"], user_meta=dict(d["user_meta"]),
                   headers=dict(d["headers"]), acl=d["acl"], storage_class=d["storage_class"])


@dataclass(frozen=True, slots=True)
class PartMeta:
    """One uploaded part of a multipart upload. `etag` is quoted upper-case hex MD5."""

    number: int
    etag: str
    size: int
    crc64: int
    last_modified: float
    content_md5: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PartMeta:
        return cls(number=int(d["number"]), etag=d["etag"], size=int(d["size"]), crc64=int(d["crc64"]),
                   last_modified=float(d["last_modified"]), content_md5=d["content_md5"])


@dataclass(frozen=True, slots=True)
class UploadMeta:
    """An in-progress multipart upload and the metadata the completed object will carry."""

    bucket: str
    key: str
    upload_id: str
    initiated: float
    template: ObjectTemplate = field(default_factory=ObjectTemplate)

    def to_json(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "key": self.key, "upload_id": self.upload_id,
                "initiated": self.initiated, "template": self.template.to_json()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> UploadMeta:
        return cls(bucket=d["bucket"], key=d["key"], upload_id=d["upload_id"],
                   initiated=float(d["initiated"]), template=ObjectTemplate.from_json(d["template"]))


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of ListObjects. `next_marker` is the last key or common prefix returned when truncated."""

    entries: list[ObjectMeta]
    common_prefixes: list[str]
    is_truncated: bool
    next_marker: str


@dataclass(frozen=True, slots=True)
class UploadsPage:
    """One page of ListMultipartUploads."""

    uploads: list[UploadMeta]
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str
    next_upload_id_marker: str
