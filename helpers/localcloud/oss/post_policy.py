"""PostObject (HTML form upload) model: a streaming multipart/form-data reader, the policy document
(decode, validate, check conditions) and the success response (204/200/201/303).

Wire rules follow the OSS PostObject page, its "Appendix: Policy" and the 0006-xxxxxxxx error pages;
reference §6. Form field names are case-insensitive, values case-sensitive; the `file` field's bytes are
never buffered whole: `PostForm.file_chunks()` yields them as they arrive.

This module imports nothing from Starlette; multipart framing comes from `python_multipart`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from helpers.localcloud import xml
from helpers.localcloud.errors import (
    AccessDenied,
    EntityTooLarge,
    EntityTooSmall,
    FieldItemTooLong,
    IncorrectNumberOfFilesInPOSTRequest,
    InvalidPolicyDocument,
    MalformedPOSTRequest,
)

# Limits [doc: PostObject]: total size of the field names <= 8 KB, each value <= 2 MB, object <= 5 GB.
MAX_FIELD_NAMES_BYTES = 8 * 1024
MAX_FIELD_VALUE_BYTES = 2 * 1024 * 1024
MAX_OBJECT_BYTES = 5 * 1024**3

FILE_FIELD = "file"
V4_POLICY_FIELDS = ("x-oss-signature-version", "x-oss-credential", "x-oss-date")
_EXPIRATION = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")
_OPERATORS = ("eq", "starts-with", "content-length-range", "in", "not-in")


# --------------------------------------------------------------------------------------------------
# Streaming form reader


@dataclass(slots=True)
class _State:
    """What the multipart callbacks have seen so far (python_multipart calls them synchronously)."""

    max_value: int
    max_names: int
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[str, bytes] = field(default_factory=dict)
    kind: str = "ignore"  # "field" | "file" | "ignore" for the part being read
    name: str = ""
    value: bytearray = field(default_factory=bytearray)
    names_total: int = 0
    fields: dict[str, str] = field(default_factory=dict)
    file_started: bool = False
    file_done: bool = False
    filename: str | None = None
    file_content_type: str | None = None
    pending: list[bytes] = field(default_factory=list)
    ended: bool = False

    def on_part_begin(self) -> None:
        self.headers = {}
        self.value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        name = bytes(self.header_field).decode("latin-1").strip().lower()
        self.headers.setdefault(name, bytes(self.header_value).strip())
        self.header_field = bytearray()
        self.header_value = bytearray()

    def on_headers_finished(self) -> None:
        disposition, params = parse_options_header(self.headers.get("content-disposition", b""))
        raw_name = params.get(b"name")
        if disposition != b"form-data" or raw_name is None:
            raise MalformedPOSTRequest()
        if self.file_done:
            self.kind = "ignore"  # anything after the file is ignored [doc: PostObject]
            return
        name = _utf8(raw_name)
        if name.lower() == FILE_FIELD:
            self.kind = "file"
            self.file_started = True
            raw_filename = params.get(b"filename")
            self.filename = _utf8(raw_filename) if raw_filename is not None else None
            ctype = self.headers.get("content-type")
            self.file_content_type = ctype.decode("latin-1") if ctype else None
            return
        self.names_total += len(raw_name)
        if self.names_total > self.max_names:
            raise FieldItemTooLong()
        self.kind, self.name = "field", name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.kind == "field":
            self.value += data[start:end]
            if len(self.value) > self.max_value:
                raise FieldItemTooLong()
        elif self.kind == "file":
            self.pending.append(bytes(data[start:end]))

    def on_part_end(self) -> None:
        if self.kind == "field":
            # First occurrence wins (duplicate-field handling on real OSS is unverified).
            self.fields.setdefault(self.name.lower(), _utf8(bytes(self.value)))
        elif self.kind == "file":
            self.file_done = True
        self.kind = "ignore"

    def on_end(self) -> None:
        self.ended = True


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPOSTRequest() from exc


class PostForm:
    """The text fields that precede `file` (lower-cased names) plus a one-shot stream of the file's bytes.

    Read `fields` / `get()` first; then consume `file_chunks()` exactly once; on any error, or when the
    file part is done, call `drain()` so the connection can be reused (reference §14 item 26).
    """

    def __init__(self, state: _State, parser: MultipartParser, stream: AsyncIterator[bytes]) -> None:
        self._state = state
        self._parser = parser
        self._stream = stream
        self._consumed = False
        self.file_size = 0

    @property
    def fields(self) -> Mapping[str, str]:
        return self._state.fields

    @property
    def filename(self) -> str | None:
        return self._state.filename

    @property
    def file_content_type(self) -> str | None:
        return self._state.file_content_type

    def get(self, name: str, default: str | None = None) -> str | None:
        """A form field by case-insensitive name."""
        return self._state.fields.get(name.lower(), default)

    def object_key(self) -> str:
        """The `key` field with `${filename}` replaced by the file part's filename.

        A missing or empty key is 400 IncorrectNumberOfFilesInPOSTRequest: the OSS error page ties this
        code to a missing key (reference §6.3); `${filename}` appears in the OSS error-page samples.
        """
        key = self.get("key")
        if not key:
            raise IncorrectNumberOfFilesInPOSTRequest()
        if "${filename}" in key:
            key = key.replace("${filename}", (self.filename or "").replace("\\", "/").rsplit("/", 1)[-1])
        return key

    async def file_chunks(self, *, max_size: int | None = None) -> AsyncIterator[bytes]:
        """Yield the file part's bytes as they arrive; MalformedPOSTRequest if the body ends inside it.

        With `max_size`, raise EntityTooLarge as soon as more bytes than that have arrived, so a caller
        enforcing content-length-range (or the 5 GB cap) can stop early.
        """
        if self._consumed:
            raise RuntimeError("file_chunks() can only be consumed once")
        self._consumed = True
        st = self._state
        while True:
            pending, st.pending = st.pending, []
            for chunk in pending:
                self.file_size += len(chunk)
                if max_size is not None and self.file_size > max_size:
                    raise EntityTooLarge(ec="0006-00000003")
                yield chunk
            if st.file_done:
                return
            try:
                data = await self._stream.__anext__()
            except StopAsyncIteration:
                raise MalformedPOSTRequest() from None
            _write(self._parser, data)

    async def drain(self) -> None:
        """Read and discard whatever is left of the request body (nothing after the file is parsed)."""
        async for _ in self._stream:
            pass


def _write(parser: MultipartParser, data: bytes) -> None:
    try:
        parser.write(data)
    except FormParserError as exc:
        raise MalformedPOSTRequest() from exc


async def parse_form(content_type: str, stream: AsyncIterator[bytes], *,
                     max_field_bytes: int = MAX_FIELD_VALUE_BYTES,
                     max_names_bytes: int = MAX_FIELD_NAMES_BYTES) -> PostForm:
    """Read the body up to the start of the `file` part and return the fields seen so far.

    400 MalformedPOSTRequest for a non-multipart Content-Type, a missing boundary, bad framing or a body
    that ends early; 400 IncorrectNumberOfFilesInPOSTRequest for a well-formed form without `file`;
    400 FieldItemTooLong when a value or the field names exceed the limits.
    """
    ctype, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise MalformedPOSTRequest()
    state = _State(max_value=max_field_bytes, max_names=max_names_bytes)
    callbacks: Any = {name: getattr(state, name) for name in (
        "on_part_begin", "on_header_field", "on_header_value", "on_header_end", "on_headers_finished",
        "on_part_data", "on_part_end", "on_end")}
    try:
        parser = MultipartParser(boundary, callbacks)
    except FormParserError as exc:
        raise MalformedPOSTRequest() from exc
    it = aiter(stream)
    while not state.file_started:
        try:
            data = await anext(it)
        except StopAsyncIteration:
            if state.ended or parser.state == MultipartState.END:
                raise IncorrectNumberOfFilesInPOSTRequest() from None
            raise MalformedPOSTRequest() from None
        _write(parser, data)
    return PostForm(state, parser, it)


# --------------------------------------------------------------------------------------------------
# Policy document


def _invalid(message: str, ec: str = "0006-00000201") -> InvalidPolicyDocument:
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
