"""PostObject's form: a streaming multipart/form-data reader (reference §6.1).

Form field names are case-insensitive, values case-sensitive; the text fields before `file` are
collected (within OSS's limits), and the `file` field's bytes are never buffered whole:
`PostForm.file_chunks()` yields them as they arrive. Anything after the file part is ignored.

This module imports nothing from Starlette; multipart framing comes from `python_multipart`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from helpers.localcloud.errors import (
    EntityTooLarge,
    FieldItemTooLong,
    IncorrectNumberOfFilesInPOSTRequest,
    MalformedPOSTRequest,
)

# Limits [doc: PostObject]: total size of the field names <= 8 KB, each value <= 2 MB (the 5 GB object
# limit is enforced where the file is stored: handlers/upload.py).
MAX_FIELD_NAMES_BYTES = 8 * 1024
MAX_FIELD_VALUE_BYTES = 2 * 1024 * 1024

FILE_FIELD = "file"


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
