"""Authenticate an OSS request (or a PostObject form): who signed it, or raise the error OSS raises.

Reference §12 steps 2-6: pick the scheme, resolve the AccessKey (and STS token), check freshness,
check V4 region/product, then compare the signature in constant time. Authorization (RAM policy)
is not done here; the caller decides whether an anonymous Principal may proceed.

  scheme    carried in                                     date / expiry             token carrier
  --------  ---------------------------------------------  ------------------------  ----------------------
  v1        Authorization: OSS <ak>:<b64 sig>              x-oss-date|Date ±15 min   hdr x-oss-security-token
                                                                                     (v2 SDK: security-token)
  v4        Authorization: OSS4-HMAC-SHA256 Credential=…   x-oss-date ±15 min        hdr x-oss-security-token
  v2        Authorization: OSS2 AccessKeyId:…,Signature:…  Date ±15 min              hdr x-oss-security-token
  v1-query  ?OSSAccessKeyId&Expires&Signature              Expires (abs) ≥ now       ?security-token
  v4-query  ?x-oss-signature-version=OSS4-HMAC-SHA256      x-oss-date+x-oss-expires  ?x-oss-security-token
            &x-oss-credential&x-oss-date&x-oss-expires     (rel, ≤604800) ≥ now
            &x-oss-signature
  v2-query  ?x-oss-signature-version=OSS2&x-oss-access-    x-oss-expires (abs)       ?security-token
            key-id&x-oss-expires&x-oss-signature           ≥ now
  post-v1   form OSSAccessKeyId, policy, Signature         policy (other module)     form x-oss-security-token
  post-v4   form x-oss-signature-version, x-oss-           policy (other module)     form x-oss-security-token
            credential, x-oss-date, x-oss-signature

Skew is measured against REAL time (`clock.real_now()`); expiry against the movable `clock.now()`.
No secret is ever put in an error; the STS token the client sent is echoed as real OSS does.
This module imports nothing from Starlette.
"""

from __future__ import annotations

import calendar
import hmac
import time
from collections.abc import Mapping
from dataclasses import replace
from email.utils import parsedate_to_datetime

from helpers.localcloud import errors
from helpers.localcloud.accounts import Accounts
from helpers.localcloud.clock import Clock, iso8601_ms
from helpers.localcloud.identity import Principal
from helpers.localcloud.oss import sigv1, sigv4
from helpers.localcloud.oss.credentials import request_token, resolve_key
from helpers.localcloud.oss.request import Headers, OssRequest
from helpers.localcloud.tokens import TokenAuthority

MAX_SKEW_SECONDS = 900
MAX_V4_EXPIRES = 604800
PRODUCT = "oss"

_INVALID_DATE = "OSS authentication requires a valid Date."
_EXPIRED = "Request has expired."
_BAD_AUTH_HEADER = "Authorization header is invalid."          # [unverified] wording
_BAD_CREDENTIAL = "Invalid credential in Authorization header."
EC_BAD_REGION = "0002-00000226"
EC_BAD_PRODUCT = "0002-00000227"
EC_POST_NO_AK = "0002-00000706"
EC_POST_BAD_CREDENTIAL = "0002-00000710"


# --- time ----------------------------------------------------------------------------------------

def _parse_http_date(text: str | None) -> float:
    if not text:
        raise errors.AccessDenied(_INVALID_DATE)
    try:
        dt = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError) as exc:
        raise errors.AccessDenied(_INVALID_DATE) from exc
    if dt.tzinfo is None:   # "-0000" zones parse naive; they mean UTC
        return float(calendar.timegm(dt.timetuple()))
    return dt.timestamp()


def _parse_iso_basic(text: str | None) -> float:
    """`YYYYMMDDTHHMMSSZ` → epoch seconds."""
    try:
        return float(calendar.timegm(time.strptime(text or "", "%Y%m%dT%H%M%SZ")))
    except ValueError as exc:
        raise errors.AccessDenied(_INVALID_DATE) from exc


def _check_skew(request_time: float, clock: Clock) -> None:
    now = clock.real_now()
    if abs(request_time - now) > MAX_SKEW_SECONDS:
        raise errors.RequestTimeTooSkewed(MaxAllowedSkewMilliseconds=str(MAX_SKEW_SECONDS * 1000),
                                          RequestTime=iso8601_ms(request_time), ServerTime=iso8601_ms(now))


def _check_not_expired(expires_at: float, clock: Clock) -> None:
    now = clock.now()
    if expires_at < now:
        # EC of an expired signed URL: help.aliyun.com/zh/oss/support/0002-00000069 ("URL签名已过期").
        raise errors.AccessDenied(_EXPIRED, ec="0002-00000069", Expires=iso8601_ms(expires_at),
                                  ServerTime=iso8601_ms(now))


def _required(req: OssRequest, name: str) -> str:
    """A signed-URL parameter that must be present and non-empty ([unverified] code and wording)."""
    value = req.q(name)
    if not value:
        raise errors.InvalidArgument(f"{name} is required for a signed URL.", ArgumentName=name,
                                     ArgumentValue="")
    return value


def _int_param(value: str | None, name: str) -> int:
    try:
        return int(value or "")
    except ValueError as exc:
        raise errors.InvalidArgument(f"{name} is invalid.", ArgumentName=name,
                                     ArgumentValue=value or "") from exc


# --- signature comparison ------------------------------------------------------------------------

def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _signed_header_views(headers: Headers) -> list[Mapping[str, str]]:
    """The header texts a client may have signed (reference §4). Values arrive decoded as latin-1,
    one character per byte: the v2 SDK signs that text UTF-8 encoded (its `str` values go out as
    latin-1). oss2 (V1, OSS2 and V4 alike) signs the bytes it sent, so when a value is not ASCII a
    second view carries the raw bytes, as UTF-8 where they are, surrogate-escaped where not; the
    signers encode with `surrogateescape`, which gives those bytes back exactly."""
    if all(v.isascii() for v in headers.values()):
        return [headers]
    raw = Headers([(k, v.encode("latin-1").decode("utf-8", "surrogateescape")) for k, v in headers.items()])
    return [headers, raw]


def _mismatch(ak: str, provided: str, string_to_sign: str, canonical_request: str | None = None
              ) -> errors.OssError:
    err = errors.SignatureDoesNotMatch(OSSAccessKeyId=ak, SignatureProvided=provided,
                                       StringToSign=string_to_sign,
                                       StringToSignBytes=sigv1.string_to_sign_bytes(string_to_sign))
    if canonical_request is not None:
        err.extra["CanonicalRequest"] = canonical_request
    return err


def _check_v1(secret: str, candidates: list[str], provided: str, ak: str) -> None:
    # Every candidate is computed (no early exit) so timing does not reveal which set matched.
    ok = False
    for s in candidates:
        ok = _same(sigv1.v1_signature(secret, s), provided) or ok
    if not ok:
        raise _mismatch(ak, provided, candidates[0])


def _check_region_product(cred: sigv4.Credential, region: str, *, form: str) -> None:
    if cred.region != region:
        msg = ("Invalid signing region in Authorization header." if form == "header"
               else "The signing region in credential is invalid.")
        raise errors.InvalidArgument(msg, ec=EC_BAD_REGION)
    if cred.product != PRODUCT:
        msg = ("Invalid signing product in Authorization header." if form == "header"
               else "The signing product in credential is invalid.")
        raise errors.InvalidArgument(msg, ec=EC_BAD_PRODUCT)


def _check_v4(secret: str, cred: sigv4.Credential, x_oss_date: str, canonical_requests: list[str],
              provided: str) -> None:
    """Accept when any candidate canonical request (one per header view) carries the signature."""
    key = sigv4.signing_key(secret, cred.date, cred.region, cred.product)
    ok = False
    for creq in canonical_requests:
        sts = sigv4.string_to_sign(x_oss_date, cred.scope, creq)
        ok = _same(sigv4.v4_signature(key, sts), provided) or ok
    if not ok:
        first = canonical_requests[0]
        sts = sigv4.string_to_sign(x_oss_date, cred.scope, first)
        raise _mismatch(cred.access_key_id, provided, sts, first)


# --- schemes -------------------------------------------------------------------------------------

def authenticate(req: OssRequest, *, accounts: Accounts, tokens: TokenAuthority, clock: Clock,
                 region: str) -> Principal:
    """The Principal that signed `req` (kind `anonymous` when nothing is signed); raise OssError."""
    auth = req.headers.get("authorization", "")
    if auth:
        if auth.startswith(sigv4.ALGORITHM + " "):
            return _v4_header(req, auth, region=region, accounts=accounts, tokens=tokens, clock=clock)
        if auth.startswith("OSS "):
            return _v1_header(req, auth, accounts=accounts, tokens=tokens, clock=clock)
        if auth.startswith("OSS2 "):
            return _v2_header(req, auth, accounts=accounts, tokens=tokens, clock=clock)
        raise errors.InvalidArgument(_BAD_AUTH_HEADER)
    version = req.q("x-oss-signature-version")
    if version is not None:
        if version == sigv4.ALGORITHM:
            return _v4_query(req, region=region, accounts=accounts, tokens=tokens, clock=clock)
        if version == "OSS2":
            return _v2_query(req, accounts=accounts, tokens=tokens, clock=clock)
        raise errors.InvalidArgument("Unsupported signature version.", ArgumentName="x-oss-signature-version",
                                     ArgumentValue=version)
    if req.has_q("OSSAccessKeyId") or req.has_q("Signature"):
        return _v1_query(req, accounts=accounts, tokens=tokens, clock=clock)
    return Principal(kind="anonymous")


def _v1_candidates(req: OssRequest, *, date: str | None = None) -> list[str]:
    """The distinct V1 strings to sign over every header view and sub-resource set."""
    out: list[str] = []
    for view in _signed_header_views(req.headers):
        for s in sigv1.string_to_sign_candidates(req.method, view, req.bucket, req.key, req.query, date=date):
            if s not in out:
                out.append(s)
    return out


def _v1_header(req: OssRequest, auth: str, *, accounts: Accounts, tokens: TokenAuthority,
               clock: Clock) -> Principal:
    ak, sep, provided = auth[len("OSS "):].strip().partition(":")
    if not sep or not ak or not provided:
        raise errors.InvalidArgument(_BAD_AUTH_HEADER)
    secret, principal = resolve_key(ak, request_token(req), accounts=accounts, tokens=tokens, clock=clock)
    _check_skew(_parse_http_date(req.headers.get("x-oss-date") or req.headers.get("date")), clock)
    candidates = _v1_candidates(req)
    _check_v1(secret, candidates, provided, ak)
    return replace(principal, auth_scheme="v1")


def _v1_query(req: OssRequest, *, accounts: Accounts, tokens: TokenAuthority, clock: Clock) -> Principal:
    ak, expires, provided = (_required(req, n) for n in ("OSSAccessKeyId", "Expires", "Signature"))
    secret, principal = resolve_key(ak, request_token(req), accounts=accounts, tokens=tokens, clock=clock)
    _check_not_expired(_int_param(expires, "Expires"), clock)
    # Signed URLs put Expires where the Date goes in the string to sign (§4.1).
    candidates = _v1_candidates(req, date=expires)
    _check_v1(secret, candidates, provided, ak)
    return replace(principal, auth_scheme="v1-query")


def _v4_header(req: OssRequest, auth: str, *, region: str, accounts: Accounts, tokens: TokenAuthority,
               clock: Clock) -> Principal:
    parsed = sigv4.parse_authorization(auth)
    cred = sigv4.parse_credential(parsed.credential) if parsed else None
    if parsed is None or cred is None:
        raise errors.InvalidArgument(_BAD_CREDENTIAL)
    secret, principal = resolve_key(cred.access_key_id, request_token(req), accounts=accounts, tokens=tokens,
                                 clock=clock)
    x_oss_date = req.headers.get("x-oss-date", "")
    _check_skew(_parse_iso_basic(x_oss_date), clock)
    if cred.date != x_oss_date[:8]:
        raise errors.InvalidArgument(_BAD_CREDENTIAL)
    _check_region_product(cred, region, form="header")
    creqs = [sigv4.canonical_request(req.method, req.bucket, req.key, req.query, view,
                                     parsed.additional_headers)
             for view in _signed_header_views(req.headers)]
    _check_v4(secret, cred, x_oss_date, creqs, parsed.signature)
    return replace(principal, auth_scheme="v4")


def _v4_query(req: OssRequest, *, region: str, accounts: Accounts, tokens: TokenAuthority,
              clock: Clock) -> Principal:
    values = {n: _required(req, n) for n in ("x-oss-credential", "x-oss-date", "x-oss-expires",
                                              "x-oss-signature")}
    cred = sigv4.parse_credential(values["x-oss-credential"])
    if cred is None:
        raise errors.InvalidArgument(_BAD_CREDENTIAL)
    secret, principal = resolve_key(cred.access_key_id, request_token(req), accounts=accounts, tokens=tokens,
                                 clock=clock)
    x_oss_date = values["x-oss-date"]
    signed_at = _parse_iso_basic(x_oss_date)
    expires = _int_param(values["x-oss-expires"], "x-oss-expires")
    if expires <= 0 or expires > MAX_V4_EXPIRES:
        # [unverified] code/message; S3 answers the same way for X-Amz-Expires > 7 days.
        raise errors.InvalidArgument(f"x-oss-expires must be between 1 and {MAX_V4_EXPIRES} seconds.",
                                     ArgumentName="x-oss-expires", ArgumentValue=str(expires))
    if cred.date != x_oss_date[:8]:
        raise errors.InvalidArgument(_BAD_CREDENTIAL)
    # x-oss-expires is relative to x-oss-date (V1's Expires is absolute).
    _check_not_expired(signed_at + expires, clock)
    _check_region_product(cred, region, form="query")
    addl = tuple(h.strip().lower() for h in (req.q("x-oss-additional-headers") or "").split(";") if h.strip())
    creqs = [sigv4.canonical_request(req.method, req.bucket, req.key, req.query, view, addl,
                                     exclude_query=frozenset({"x-oss-signature"}))
             for view in _signed_header_views(req.headers)]
    _check_v4(secret, cred, x_oss_date, creqs, values["x-oss-signature"])
    return replace(principal, auth_scheme="v4-query")


def _check_v2(secret: str, strings_to_sign: list[str], provided: str, ak: str) -> None:
    ok = False
    for s in strings_to_sign:
        ok = _same(sigv1.v2_signature(secret, s), provided) or ok
    if not ok:
        raise _mismatch(ak, provided, strings_to_sign[0])


def _v2_header(req: OssRequest, auth: str, *, accounts: Accounts, tokens: TokenAuthority,
               clock: Clock) -> Principal:
    fields: dict[str, str] = {}
    for item in auth[len("OSS2 "):].split(","):
        name, sep, value = item.strip().partition(":")
        if sep:
            fields[name] = value.strip()
    ak, provided = fields.get("AccessKeyId", ""), fields.get("Signature", "")
    if not ak or not provided:
        raise errors.InvalidArgument(_BAD_AUTH_HEADER)
    addl = [h for h in fields.get("AdditionalHeaders", "").split(";") if h]
    secret, principal = resolve_key(ak, request_token(req), accounts=accounts, tokens=tokens, clock=clock)
    _check_skew(_parse_http_date(req.headers.get("date")), clock)
    strings = [sigv1.v2_string_to_sign(req.method, view, req.bucket, req.key, req.query, addl)
               for view in _signed_header_views(req.headers)]
    _check_v2(secret, strings, provided, ak)
    return replace(principal, auth_scheme="v2")


def _v2_query(req: OssRequest, *, accounts: Accounts, tokens: TokenAuthority, clock: Clock) -> Principal:
    ak, expires, provided = (_required(req, n)
                             for n in ("x-oss-access-key-id", "x-oss-expires", "x-oss-signature"))
    secret, principal = resolve_key(ak, request_token(req), accounts=accounts, tokens=tokens, clock=clock)
    _check_not_expired(_int_param(expires, "x-oss-expires"), clock)
    addl = [h for h in (req.q("x-oss-additional-headers") or "").split(";") if h]
    query = [(n, v) for n, v in req.query if n != "x-oss-signature"]
    strings = [sigv1.v2_string_to_sign(req.method, view, req.bucket, req.key, query, addl, date=expires)
               for view in _signed_header_views(req.headers)]
    _check_v2(secret, strings, provided, ak)
    return replace(principal, auth_scheme="v2-query")


# --- PostObject ----------------------------------------------------------------------------------

def authenticate_post_form(fields: Mapping[str, str], *, bucket: str, accounts: Accounts,
                           tokens: TokenAuthority, clock: Clock, region: str) -> Principal:
    """The Principal that signed a PostObject form (§6.2); only the signature and credentials are
    checked here, the policy conditions elsewhere. `fields` has lower-cased names. `bucket` is
    accepted for symmetry with the request path (the form signature covers only the policy)."""
    del bucket
    token = fields.get("x-oss-security-token") or None
    policy = fields.get("policy", "")
    if fields.get("x-oss-signature-version") or "x-oss-credential" in fields or "x-oss-signature" in fields:
        version = fields.get("x-oss-signature-version", "")
        if version != sigv4.ALGORITHM:
            raise errors.InvalidArgument("Unsupported signature version.",
                                         ArgumentName="x-oss-signature-version", ArgumentValue=version)
        for name in ("x-oss-credential", "x-oss-date", "x-oss-signature", "policy"):
            if not fields.get(name):
                raise errors.InvalidArgument(f"Post form must contain a non-empty {name} field.",
                                             ArgumentName=name, ArgumentValue="")
        cred = sigv4.parse_credential(fields["x-oss-credential"])
        if cred is None or cred.date != fields["x-oss-date"][:8]:
            raise errors.InvalidArgument("The x-oss-credential field is invalid.", ec=EC_POST_BAD_CREDENTIAL,
                                         ArgumentName="x-oss-credential",
                                         ArgumentValue=fields["x-oss-credential"])
        secret, principal = resolve_key(cred.access_key_id, token, accounts=accounts, tokens=tokens,
                                        clock=clock)
        _check_region_product(cred, region, form="credential")
        key = sigv4.signing_key(secret, cred.date, cred.region, cred.product)
        provided = fields["x-oss-signature"]
        # The V4 form signature is over the base64 policy text itself (no canonical request).
        if not _same(sigv4.v4_signature(key, policy), provided):
            raise _mismatch(cred.access_key_id, provided, policy)
        return replace(principal, auth_scheme="post-v4")
    present = [n for n in ("ossaccesskeyid", "policy", "signature") if fields.get(n)]
    if not present:
        return Principal(kind="anonymous")
    names = {"ossaccesskeyid": "OSSAccessKeyId", "policy": "policy", "signature": "Signature"}
    for n in ("ossaccesskeyid", "policy", "signature"):
        if n not in present:
            ec = EC_POST_NO_AK if n == "ossaccesskeyid" else None
            raise errors.InvalidArgument(f"Post form must contain a non-empty {names[n]} field.", ec=ec,
                                         ArgumentName=names[n], ArgumentValue="")
    ak, provided = fields["ossaccesskeyid"], fields["signature"]
    secret, principal = resolve_key(ak, token, accounts=accounts, tokens=tokens, clock=clock)
    if not _same(sigv1.v1_signature(secret, policy), provided):
        raise _mismatch(ak, provided, policy)
    return replace(principal, auth_scheme="post-v1")
