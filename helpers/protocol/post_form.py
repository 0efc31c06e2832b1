"""PostObject forms: the policy document and its V1 / V4 signatures (OSS "PostObject" page; the
official samples oss2 examples/object_post.py and alibabacloud-oss-v2 sample/post_object.py; no SDK
builds forms itself).

    policy     base64(JSON {"expiration": ISO-8601 UTC, "conditions": [...]})
    V1         Signature = base64(HMAC-SHA1(secret, policy)), with OSSAccessKeyId
    V4         x-oss-signature = hex(HMAC-SHA256(signing key, policy)), the signing key chained from
               "aliyun_v4" + secret over date, region, product ("oss") and "aliyun_v4_request";
               x-oss-signature-version, x-oss-credential and x-oss-date must also be policy conditions.

The STS token travels as the `x-oss-security-token` field; it need not be in the policy (the
signature is keyed by its secret). Field names are case-insensitive on the wire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

V4_ALGORITHM = "OSS4-HMAC-SHA256"
V4_TERMINATOR = "aliyun_v4_request"


def expiration(epoch: float) -> str:
    """A policy's `expiration` (`2026-01-01T00:00:00.000Z`, UTC) for an epoch time."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def encode_policy(expires: float | str, conditions: Sequence[Any]) -> str:
    """The base64 policy document; `expires` is an epoch time or an already formatted expiration."""
    doc = {"expiration": expires if isinstance(expires, str) else expiration(expires),
           "conditions": list(conditions)}
    return base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()


def sign_v1(secret: str, policy: str) -> str:
    """V1 `Signature`: base64(HMAC-SHA1(secret, policy))."""
    return base64.b64encode(hmac.new(secret.encode(), policy.encode(), hashlib.sha1).digest()).decode()


def v4_signing_key(secret: str, date: str, region: str, product: str = "oss") -> bytes:
    """The V4 signing key of one day (`YYYYMMDD`), region and product (shared with header signing)."""
    key = ("aliyun_v4" + secret).encode()
    for part in (date, region, product, V4_TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sign_v4(secret: str, policy: str, *, date: str, region: str, product: str = "oss") -> str:
    """V4 `x-oss-signature`: hex(HMAC-SHA256(signing key, policy))."""
    key = v4_signing_key(secret, date, region, product)
    return hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()


def form_v1(*, access_key_id: str, secret: str, expires: float | str, conditions: Sequence[Any],
            security_token: str | None = None) -> dict[str, str]:
    """The signature fields of a V1 form: OSSAccessKeyId, policy, Signature (and the STS token)."""
    policy = encode_policy(expires, conditions)
    fields = {"OSSAccessKeyId": access_key_id, "policy": policy, "Signature": sign_v1(secret, policy)}
    if security_token is not None:
        fields["x-oss-security-token"] = security_token
    return fields


def form_v4(*, access_key_id: str, secret: str, region: str, expires: float | str,
            conditions: Sequence[Any], security_token: str | None = None, now: datetime | None = None,
            product: str = "oss") -> dict[str, str]:
    """The signature fields of a V4 form: the three V4 fields (appended to `conditions` as the policy
    requires), policy, x-oss-signature (and the STS token). `now` dates the credential (default: UTC now)."""
    now = now or datetime.now(UTC)
    date = now.strftime("%Y%m%d")
    v4 = {"x-oss-signature-version": V4_ALGORITHM,
          "x-oss-credential": f"{access_key_id}/{date}/{region}/{product}/{V4_TERMINATOR}",
          "x-oss-date": now.strftime("%Y%m%dT%H%M%SZ")}
    policy = encode_policy(expires, [*conditions, *({k: v} for k, v in v4.items())])
    fields = {**v4, "policy": policy,
              "x-oss-signature": sign_v4(secret, policy, date=date, region=region, product=product)}
    if security_token is not None:
        fields["x-oss-security-token"] = security_token
    return fields
