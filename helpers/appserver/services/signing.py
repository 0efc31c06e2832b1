"""Signed URLs and PostObject policies for app users, signed with the user's own STS credentials.

Because the signer is the user's (user, scope) STS credential, whose session policy only reaches
`users/<username>/*` (`helpers.protocol.scopes`), a tampered URL or form still cannot touch another
folder: OSS refuses it. `full_key` applies the same prefix rule to the keys users ask for. The form's
policy document and signature come from `helpers.protocol.post_form`, the URL style from
`helpers.protocol.endpoints`.

Expiry never outlives the signing credentials: `expires = min(requested, remaining lifetime)`.
Expiry stamps we hand out (`expires_at`, the policy's `expiration`) are on the servers' clock
(`broker.server_now()`); the request dates in signatures (`x-oss-date`, V1 `Expires` base) use
this host's wall clock, as the SDKs do, because OSS checks request skew against real time.

Wire rules: OSS "Signature V4 (query)", "PostObject" and "Callback" pages; reference §4, §6, §7.
Imports no FastAPI.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import oss2

from helpers.appserver.errors import BadRequest
from helpers.appserver.services.sts import StsBroker, TempCredentials
from helpers.protocol import endpoints, post_form
from helpers.protocol.scopes import USERS_ROOT, user_prefix

if TYPE_CHECKING:
    from helpers.appserver.services.users import User
    from helpers.settings import Settings

Method = Literal["PUT", "GET"]
Version = Literal["v4", "v1"]

MAX_KEY_BYTES = 1023                 # OSS object key limit (UTF-8 bytes)
MAX_DOWNLOAD_NAME = 255
DEFAULT_CONTENT_TYPE = "application/octet-stream"
CONTENT_TYPE_RE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}"
                             r"(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(\"[^\"\\\x00-\x1f]*\"|[A-Za-z0-9!#$&^_.+-]+))*$")
CALLBACK_BODY = ('{"bucket":${bucket},"object":${object},"size":${size},"mimeType":${mimeType},'
                 '"etag":${etag},"user":${x:user}}')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# ------------------------------------------------------------------------------------------- keys

def full_key(user: User, key: str) -> str:
    """The object key inside the user's folder: `users/<username>/<key>`.

    `key` is relative to the folder; a key that already starts with the user's own prefix is taken
    as full. Refused (400): empty keys, control characters, backslashes, absolute keys, empty `.` or
    `..` segments, another user's folder, and keys over 1023 UTF-8 bytes.
    """
    prefix = user_prefix(user.username)
    if not key:
        raise BadRequest("key must not be empty")
    if _CONTROL.search(key):
        raise BadRequest("key must not contain control characters")
    if key.startswith("/") or "\\" in key:
        raise BadRequest("key must be relative to your folder (no leading '/' or '\\')")
    if key.startswith(prefix):
        key = key[len(prefix):]
    elif key.startswith(USERS_ROOT):
        raise BadRequest("key must stay inside your own folder")
    if any(seg in ("", ".", "..") for seg in key.split("/")):
        raise BadRequest("key must not contain empty, '.' or '..' segments")
    full = prefix + key
    if len(full.encode("utf-8")) > MAX_KEY_BYTES:
        raise BadRequest(f"key is longer than {MAX_KEY_BYTES} bytes")
    return full


def _content_type(value: str | None) -> str:
    ct = (value or DEFAULT_CONTENT_TYPE).strip()
    if len(ct) > 128 or not CONTENT_TYPE_RE.match(ct):
        raise BadRequest("content_type is not a valid media type")
    return ct


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback `filename` and an RFC 5987 `filename*` (RFC 6266)."""
    if not name or len(name) > MAX_DOWNLOAD_NAME or _CONTROL.search(name) or "/" in name or "\\" in name:
        raise BadRequest("download_name must be 1-255 characters without control characters or slashes")
    fallback = "".join(c if 0x20 <= ord(c) < 0x7f and c not in '"%' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# ------------------------------------------------------------------------------------------ helpers

def oss_endpoint(settings: Settings) -> str:
    return settings.oss_endpoint or endpoints.default_oss_endpoint(settings.region)


def bucket_url(settings: Settings) -> str:
    """Where a browser posts a form, in the endpoint's URL style (`helpers.protocol.endpoints`)."""
    return endpoints.bucket_url(oss_endpoint(settings), settings.bucket)


def iso_z(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _lifetime(broker: StsBroker, creds: TempCredentials, requested: int) -> int:
    remaining = int(broker.remaining(creds))
    if remaining < 1:
        raise BadRequest("the signing credentials have expired; retry")
    return max(1, min(requested, remaining))


# ------------------------------------------------------------------------------------- signed URLs

@dataclass(frozen=True, slots=True)
class SignedUrl:
    url: str
    method: Method
    headers: dict[str, str]
    key: str
    expires_at: str


def signed_url(*, settings: Settings, broker: StsBroker, user: User, method: Method, key: str,
               content_type: str | None = None, expires: int | None = None,
               download_name: str | None = None, version: Version | None = None) -> SignedUrl:
    """A PUT (upload scope) or GET (download scope) URL for one object in the user's folder."""
    full = full_key(user, key)
    headers: dict[str, str] = {}
    params: dict[str, str] = {}
    if method == "PUT":
        if download_name is not None:
            raise BadRequest("download_name applies to GET only")
        headers["Content-Type"] = _content_type(content_type)
        creds = broker.get(user, "upload")
    else:
        if content_type is not None:
            raise BadRequest("content_type applies to PUT only")
        if download_name is not None:
            params["response-content-disposition"] = content_disposition(download_name)
        creds = broker.get(user, "download")
    lifetime = _lifetime(broker, creds, expires or settings.signed_url_default_expires)
    v1 = (version or settings.signature_version) == "v1"
    auth_version = oss2.AUTH_VERSION_1 if v1 else oss2.AUTH_VERSION_4
    auth = oss2.StsAuth(creds.access_key_id, creds.access_key_secret, creds.security_token,
                        auth_version=auth_version)
    bucket = oss2.Bucket(auth, oss_endpoint(settings), settings.bucket, region=settings.region)
    url = bucket.sign_url(method, full, lifetime, headers=dict(headers), params=params or None,
                          slash_safe=True)
    return SignedUrl(url=url, method=method, headers=headers, key=full,
                     expires_at=iso_z(broker.server_now() + lifetime))


# ------------------------------------------------------------------------------------- PostObject

@dataclass(frozen=True, slots=True)
class PostPolicy:
    url: str
    fields: dict[str, str]
    key: str
    expires_at: str


def callback_param(settings: Settings) -> str:
    """base64 callback JSON: OSS posts the upload's facts as JSON to `<public url>/api/callback`."""
    url = settings.callback_url()
    if not url:
        raise BadRequest("callbacks need the app server's public URL (WORKBOOK_APPSERVER_PUBLIC_URL)")
    doc = {"callbackUrl": url, "callbackBody": CALLBACK_BODY, "callbackBodyType": "application/json"}
    return base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()


def post_policy(*, settings: Settings, broker: StsBroker, user: User, key: str | None = None,
                content_type: str | None = None, max_size: int | None = None, callback: bool = False,
                expires: int | None = None, version: Version | None = None) -> PostPolicy:
    """Form fields for a browser PostObject into the user's folder, signed with upload-scope STS.

    With `key` the policy pins that exact key; without it the key must start with the user's
    prefix (the browser appends the file name). The policy also pins the bucket, the size range,
    the Content-Type (when given), and the callback with its `x:user`.
    """
    version = version or settings.signature_version
    limit = settings.max_upload_bytes if max_size is None else max_size
    if not 0 < limit <= settings.max_upload_bytes:
        raise BadRequest(f"max_size must be between 1 and {settings.max_upload_bytes}")
    creds = broker.get(user, "upload")
    lifetime = _lifetime(broker, creds, expires or settings.signed_url_default_expires)
    expires_at = broker.server_now() + lifetime

    fields: dict[str, str] = {}
    conditions: list[Any] = [{"bucket": settings.bucket}]
    if key is None:
        the_key = user_prefix(user.username)
        conditions.append(["starts-with", "$key", the_key])
    else:
        the_key = full_key(user, key)
        conditions.append(["eq", "$key", the_key])
    fields["key"] = the_key
    conditions.append(["content-length-range", 0, limit])
    if content_type is not None:
        fields["Content-Type"] = _content_type(content_type)
        conditions.append(["eq", "$Content-Type", fields["Content-Type"]])
    fields["success_action_status"] = "200"
    conditions.append({"success_action_status": "200"})
    if callback:
        fields["callback"] = callback_param(settings)
        fields["x:user"] = user.username
        conditions += [{"callback": fields["callback"]}, {"x:user": user.username}]
    if version == "v4":
        fields.update(post_form.form_v4(
            access_key_id=creds.access_key_id, secret=creds.access_key_secret, region=settings.region,
            expires=expires_at, conditions=conditions, security_token=creds.security_token))
    else:
        fields.update(post_form.form_v1(
            access_key_id=creds.access_key_id, secret=creds.access_key_secret, expires=expires_at,
            conditions=conditions, security_token=creds.security_token))
    return PostPolicy(url=bucket_url(settings), fields=fields, key=the_key, expires_at=iso_z(expires_at))
