"""Request and response models of the app server's HTTP API (the contract in the issue).

Requests forbid unknown fields and bound every string, so malformed input is a 422, never a 500.
Imports no FastAPI.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_KEY_CHARS = 1023


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=4096)


class LoginIn(_In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class StsOut(BaseModel):
    """The Alibaba mobile SDKs' credential-provider contract, plus where to use the credentials."""

    model_config = ConfigDict(populate_by_name=True)

    StatusCode: int = 200
    AccessKeyId: str
    AccessKeySecret: str
    SecurityToken: str
    Expiration: str
    Bucket: str
    Region: str
    Endpoint: str
    Prefix: str


class SignedUrlIn(_In):
    method: Literal["PUT", "GET"]
    key: str = Field(min_length=1, max_length=MAX_KEY_CHARS)
    content_type: str | None = Field(default=None, max_length=128)
    expires: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    download_name: str | None = Field(default=None, max_length=255)
    signature_version: Literal["v4", "v1"] | None = None


class SignedUrlOut(BaseModel):
    url: str
    method: Literal["PUT", "GET"]
    headers: dict[str, str]
    key: str
    expires_at: str


class PostPolicyIn(_In):
    key: str | None = Field(default=None, min_length=1, max_length=MAX_KEY_CHARS)
    content_type: str | None = Field(default=None, max_length=128)
    max_size: int | None = Field(default=None, ge=1)
    callback: bool = False
    expires: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    signature_version: Literal["v4", "v1"] | None = None


class PostPolicyOut(BaseModel):
    url: str
    fields: dict[str, str]
    key: str
    expires_at: str


class UploadOut(BaseModel):
    key: str
    bucket: str
    size: int
    mime_type: str
    etag: str
    created_at: float
    # With ?check=true: does OSS still have it (HeadObject with the user's download-scope STS)?
    # True, False (deleted since the callback recorded it) or None (not checked / OSS did not say).
    exists: bool | None = None


class CallbackOut(BaseModel):
    """What OSS relays to the uploading client after a verified callback."""

    ok: bool = True
    key: str
    size: int
    mime_type: str
    etag: str
    id: int
