"""PostObject (HTML form upload) policy: the policy document (decode, validate, check conditions)
and the success response (204/200/201/303). The form itself is read by `post_form`.

Wire rules follow the OSS PostObject page, its "Appendix: Policy" and the 0006-xxxxxxxx error pages;
reference §6. This module imports nothing from Starlette.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from helpers.localcloud import xml
from helpers.localcloud.errors import (
    AccessDenied,
    EntityTooLarge,
    EntityTooSmall,
    InvalidPolicyDocument,
    OssError,
)

V4_POLICY_FIELDS = ("x-oss-signature-version", "x-oss-credential", "x-oss-date")
_EXPIRATION = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")
_OPERATORS = ("eq", "starts-with", "content-length-range", "in", "not-in")


# --------------------------------------------------------------------------------------------------
# Policy document


def _invalid(message: str, ec: str = "0006-00000201") -> OssError:
    return InvalidPolicyDocument(f"Invalid Policy: {message}", ec=ec)


def parse_expiration(value: object) -> float:
    """Epoch seconds of an ISO 8601 UTC `expiration` (`2014-12-01T12:00:00.000Z`, fraction optional)."""
    m = _EXPIRATION.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        raise _invalid(f"Invalid 'expiration' value: '{value}'")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise _invalid(f"Invalid 'expiration' value: '{value}'") from exc
    fraction = float(f"0.{m.group(7)}") if m.group(7) else 0.0
    return moment.timestamp() + fraction


def _field_ref(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise _invalid("Invalid Condition: the field name must be a string.", "0006-00000224")
    # OSS samples write `$key`; a bare name is accepted too (whether OSS rejects it is unverified).
    return value[1:] if value.startswith("$") else value


def _validate_condition(cond: object) -> None:
    if isinstance(cond, dict):
        if len(cond) != 1:
            raise _invalid("Invalid Simple-Condition: Simple-Conditions must have exactly one property "
                           "specified.")
        (name, value), = cond.items()
        if not isinstance(value, str):
            raise _invalid("Invalid Simple-Condition: the value must be a string.", "0006-00000224")
        return
    if not isinstance(cond, list):
        raise _invalid("Invalid 'conditions' value: each condition must be a map or a list.", "0006-00000222")
    if not cond or not isinstance(cond[0], str) or cond[0].lower() not in _OPERATORS:
        raise _invalid("Invalid 'conditions' value: unknown matching mode.", "0006-00000216")
    if len(cond) != 3:
        raise _invalid(f"Invalid Condition: wrong number of arguments for '{cond[0]}'.", "0006-00000216")
    op = cond[0].lower()
    if op == "content-length-range":
        low, high = cond[1], cond[2]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (low, high)):
            raise _invalid("Invalid Condition: content-length-range bounds must be non-negative integers.",
                           "0006-00000221")
        if high < low:
            raise _invalid("Invalid Condition: content-length-range max must not be less than min.",
                           "0006-00000219")
        return
    _field_ref(cond[1])
    if op in ("in", "not-in"):
        if not isinstance(cond[2], list) or not all(isinstance(v, str) for v in cond[2]):
            raise _invalid(f"Invalid Condition: the value of '{op}' must be a list of strings.",
                           "0006-00000224")
    elif not isinstance(cond[2], str):
        raise _invalid(f"Invalid Condition: the value of '{op}' must be a string.", "0006-00000224")


def decode_policy(policy_b64: str) -> dict[str, Any]:
    """Decode and validate the `policy` field; 400 InvalidPolicyDocument on any defect."""
    try:
        raw = base64.b64decode(policy_b64.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid("Invalid Base64 Encoding.") from exc
    try:
        policy = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _invalid("Invalid JSON.") from exc
    if not isinstance(policy, dict):
        raise _invalid("Invalid JSON.")
    for key in policy:
        if key not in ("expiration", "conditions"):
            # Only expiration and conditions are allowed [doc: EC 0006-00000206].
            raise _invalid(f"Unsupported field '{key}'.", "0006-00000206")
    if "expiration" not in policy:
        raise _invalid("Policy missing expiration.", "0006-00000209")
    if "conditions" not in policy:
        raise _invalid("Policy missing conditions.", "0006-00000209")
    parse_expiration(policy["expiration"])
    if not isinstance(policy["conditions"], list):
        raise _invalid("Invalid 'conditions' value: must be a List.")
    for cond in policy["conditions"]:
        _validate_condition(cond)
    return policy


def render_condition(cond: object) -> str:
    """A condition as OSS quotes it in errors: JSON with `", "` separators."""
    return json.dumps(cond, separators=(", ", ": "), ensure_ascii=False)


def content_length_bounds(policy: Mapping[str, Any]) -> tuple[int, int] | None:
    """(min, max) allowed file size from the content-length-range conditions (intersected), or None."""
    bounds: tuple[int, int] | None = None
    for cond in policy.get("conditions", ()):
        if isinstance(cond, list) and cond and str(cond[0]).lower() == "content-length-range":
            low, high = int(cond[1]), int(cond[2])
            bounds = (low, high) if bounds is None else (max(bounds[0], low), min(bounds[1], high))
    return bounds


def check_policy(policy: Mapping[str, Any], *, fields: Mapping[str, str], bucket: str, now: float,
                 file_size: int | None, signature_version: str) -> None:
    """Raise unless the policy is unexpired and every condition holds for these form fields.

    `file_size=None` skips content-length-range (check it after streaming, or stream with
    `file_chunks(max_size=...)`). Real OSS does not require a condition per form field (S3 does);
    with V4 the policy must name x-oss-signature-version, x-oss-credential and x-oss-date, which the
    POST V4 page requires ("x-oss-date ... must match the value in the policy"; exact error unverified).
    """
    if parse_expiration(policy.get("expiration")) <= now:
        raise AccessDenied("Invalid according to Policy: Policy expired.")
    form = {k.lower(): v for k, v in fields.items()}
    form["bucket"] = bucket
    conditions = policy.get("conditions", ())
    referenced: set[str] = set()
    for cond in conditions:
        if isinstance(cond, dict):
            (name, expected), = cond.items()
            referenced.add(name.lower())
            ok = form.get(name.lower()) == expected
        else:
            op = str(cond[0]).lower()
            if op == "content-length-range":
                _check_size(int(cond[1]), int(cond[2]), file_size)
                continue
            name = _field_ref(cond[1]).lower()
            referenced.add(name)
            ok = _holds(op, form.get(name), cond[2])
        if not ok:
            failed = render_condition(cond)
            raise AccessDenied(f"Invalid according to Policy: Policy Condition failed: {failed}")
    if signature_version.lower() in ("v4", "oss4-hmac-sha256"):
        missing = [name for name in V4_POLICY_FIELDS if name not in referenced]
        if missing:
            raise AccessDenied(f"Invalid according to Policy: Extra input fields: {', '.join(missing)}")


def _holds(op: str, actual: str | None, expected: Any) -> bool:
    if op == "not-in":
        return actual is None or actual not in expected
    if actual is None:
        return False
    if op == "eq":
        return bool(actual == expected)
    if op == "starts-with":
        return actual.startswith(expected)
    return actual in expected  # "in"


def _check_size(low: int, high: int, size: int | None) -> None:
    if size is None:
        return
    if size < low:
        raise EntityTooSmall(ec="0006-00000004")
    if size > high:
        raise EntityTooLarge(ec="0006-00000003")


# --------------------------------------------------------------------------------------------------
# Success response


@dataclass(frozen=True, slots=True)
class PostResult:
    """What to send after the object is stored (the caller adds request id, CRC64 and Content-MD5)."""

    status: int
    headers: dict[str, str]
    body: bytes = b""


def success_response(fields: Mapping[str, str], *, bucket: str, key: str, etag: str,
                     location: str) -> PostResult:
    """204 by default; 200 / 201 (PostResponse XML) from `success_action_status`; 303 to
    `success_action_redirect` with bucket/key/etag query parameters (S3's behaviour; unverified for OSS).
    """
    form = {k.lower(): v for k, v in fields.items()}
    quoted = etag if etag.startswith('"') else f'"{etag}"'
    headers = {"ETag": quoted}
    redirect = form.get("success_action_redirect")
    if redirect:
        query = urlencode({"bucket": bucket, "key": key, "etag": quoted})
        headers["Location"] = f"{redirect}{'&' if '?' in redirect else '?'}{query}"
        return PostResult(303, headers)
    status = form.get("success_action_status")
    if status == "201":
        body = xml.build("PostResponse", [("Bucket", bucket), ("Location", location), ("Key", key),
                                          ("ETag", quoted)])
        return PostResult(201, {**headers, "Content-Type": "application/xml"}, body)
    if status == "200":
        return PostResult(200, headers)
    return PostResult(204, headers)
