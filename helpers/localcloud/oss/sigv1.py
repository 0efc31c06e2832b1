"""OSS signature V1 (HMAC-SHA1) and OSS2 (HMAC-SHA256) strings to sign: pure functions.

V1 (reference §2, §4.1): `VERB\\nContent-MD5\\nContent-Type\\nDate\\n` + CanonicalizedOSSHeaders +
CanonicalizedResource, where the resource is built from the logical (bucket, key) and the decoded
sub-resource query values, never from the raw path. Which query names count as sub-resources differs
between the SDKs, so the server tries the candidate sets of §2.5 (`SUBRESOURCE_CANDIDATES`).

OSS2 (reference §2.7, oss2 `AuthV2` only): all query parameters, RFC 3986-encoded resource.

This module imports nothing from Starlette and nothing from the rest of the local cloud.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote

Query = Iterable[tuple[str, str]]

# oss2 2.19.1 `ProviderAuth._subresource_key_set` (verbatim).
OSS2_SUBRESOURCES: frozenset[str] = frozenset("""
response-content-type response-content-language response-cache-control logging response-content-encoding
acl uploadId uploads partNumber group link delete website location objectInfo objectMeta response-expires
response-content-disposition cors lifecycle restore qos referer stat bucketInfo append position
security-token live comp status vod startTime endTime x-oss-process symlink callback callback-var tagging
encryption versions versioning versionId policy requestPayment x-oss-traffic-limit qosInfo asyncFetch
x-oss-request-payer sequential inventory inventoryId continuation-token worm wormId wormExtend
replication replicationLocation replicationProgress transferAcceleration cname metaQuery
x-oss-ac-source-ip x-oss-ac-subnet-mask x-oss-ac-vpc-id x-oss-ac-forward-allow resourceGroup style
styleName x-oss-async-process regionList x-oss-write-get-object-response bucketArchiveDirectRead
httpsConfig redundancyTransition x-oss-target-redundancy-type x-oss-redundancy-transition-taskid
accessPoint accessPointPolicy publicAccessBlock x-oss-access-point-name requesterQosInfo qosRequester
resourcePoolInfo resourcePool resourcePoolBuckets
""".split())

# alibabacloud-oss-v2 1.4.1 `SignerV1._subresource_key_set` (verbatim).
V2_SUBRESOURCES: frozenset[str] = frozenset("""
acl bucketInfo location stat delete append tagging objectMeta uploads uploadId partNumber security-token
position response-content-type response-content-language response-expires response-cache-control
response-content-disposition response-content-encoding restore callback callback-var versions versioning
versionId sequential continuation-token regionList cloudboxes symlink resourceGroup
""".split())

IsSubresource = Callable[[str], bool]

# Candidate sets of §2.5, tried in this order: (a) oss2; (b) v2 + every `x-oss-*` name (Go v2 SDK and
# v2 operations that declare extra sub-resources); (c) v2 only.
SUBRESOURCE_CANDIDATES: tuple[tuple[str, IsSubresource], ...] = (
    ("oss2", OSS2_SUBRESOURCES.__contains__),
    ("v2+x-oss", lambda n: n in V2_SUBRESOURCES or n.startswith("x-oss-")),
    ("v2", V2_SUBRESOURCES.__contains__),
)


def canonical_oss_headers(headers: Mapping[str, str]) -> str:
    """Every `x-oss-*` header as `name:value\\n`, lower-cased names in byte order."""
    pairs = sorted((k.lower(), v) for k, v in headers.items() if k.lower().startswith("x-oss-"))
    return "".join(f"{k}:{v}\n" for k, v in pairs)


def canonical_resource(bucket: str | None, key: str | None, query: Query,
                       is_subresource: IsSubresource) -> str:
    """`/`, `/bucket/` or `/bucket/key` (raw UTF-8 key) + `?` + the sorted decoded sub-resources."""
    if not bucket:
        path = "/"
    else:
        path = f"/{bucket}/{key or ''}"
    subs = sorted((n, v) for n, v in query if is_subresource(n))
    if not subs:
        return path
    return path + "?" + "&".join(f"{n}={v}" if v else n for n, v in subs)


def string_to_sign(method: str, headers: Mapping[str, str], bucket: str | None, key: str | None,
                   query: Query, *, is_subresource: IsSubresource = OSS2_SUBRESOURCES.__contains__,
                   date: str | None = None) -> str:
    """The V1 string to sign. `date` overrides the Date slot (signed URLs put `Expires` there);
    otherwise `x-oss-date` wins over `Date` (both SDKs, §2.2)."""
    if date is None:
        date = headers.get("x-oss-date", "") or headers.get("date", "")
    return (f"{method}\n{headers.get('content-md5', '')}\n{headers.get('content-type', '')}\n{date}\n"
            + canonical_oss_headers(headers)
            + canonical_resource(bucket, key, query, is_subresource))


def string_to_sign_candidates(method: str, headers: Mapping[str, str], bucket: str | None,
                              key: str | None, query: Query, *, date: str | None = None) -> list[str]:
    """The distinct V1 strings to sign for the §2.5 candidate sets, oss2's first."""
    q = tuple(query)
    out: list[str] = []
    for _name, pred in SUBRESOURCE_CANDIDATES:
        s = string_to_sign(method, headers, bucket, key, q, is_subresource=pred, date=date)
        if s not in out:
            out.append(s)
    return out


def v1_signature(secret: str, string_to_sign: str) -> str:
    """base64(HMAC-SHA1(secret, string_to_sign)), both UTF-8 (surrogate escapes give back raw
    header bytes that are not UTF-8)."""
    mac = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8", "surrogateescape"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def string_to_sign_bytes(string_to_sign: str) -> str:
    """Space-separated upper-case hex of the UTF-8 bytes, as OSS echoes in `<StringToSignBytes>`."""
    return " ".join(f"{b:02X}" for b in string_to_sign.encode("utf-8", "surrogateescape"))


# --- OSS2 (oss2 AuthV2) --------------------------------------------------------------------------

def _rfc3986(text: str) -> str:
    # oss2 `v2_uri_encode`: unreserved kept, everything else (including `/`) upper-case %XX.
    return quote(text, safe="-_.~")


def v2_string_to_sign(method: str, headers: Mapping[str, str], bucket: str | None, key: str | None,
                      query: Query, additional_headers: Iterable[str], *, date: str | None = None) -> str:
    """The OSS2 string to sign (§2.7). `query` must already exclude `x-oss-signature`.
    The Date slot is the `Date` header only, or `date` (signed URLs: the absolute x-oss-expires)."""
    addl = sorted({h.lower() for h in additional_headers})
    if date is None:
        date = headers.get("date", "")
    canon = sorted((k.lower(), v) for k, v in headers.items()
                   if k.lower().startswith("x-oss-") or k.lower() in addl)
    resource = _rfc3986(f"/{bucket}/{key or ''}" if bucket else "/")
    params = sorted((_rfc3986(n), _rfc3986(v)) for n, v in query)
    if params:
        resource += "?" + "&".join(f"{n}={v}" if v else n for n, v in params)
    return (f"{method}\n{headers.get('content-md5', '')}\n{headers.get('content-type', '')}\n{date}\n"
            + "".join(f"{k}:{v}\n" for k, v in canon) + ";".join(addl) + "\n" + resource)


def v2_signature(secret: str, string_to_sign: str) -> str:
    """base64(HMAC-SHA256(secret, string_to_sign)): the OSS2 signature."""
    mac = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8", "surrogateescape"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")
