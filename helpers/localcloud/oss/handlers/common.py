"""Small wire helpers shared by the OSS handlers: XML responses, URL encoding, object headers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import ParamSpec, TypeVar
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from helpers.localcloud.clock import http_date
from helpers.localcloud.context import LocalCloud
from helpers.localcloud.errors import InvalidArgument
from helpers.localcloud.store.models import ObjectMeta, PartMeta
from helpers.localcloud.store.state import key_bytes
from helpers.localcloud.xml import Value, build

P = ParamSpec("P")
R = TypeVar("R")


def xml_response(root: str, children: Iterable[tuple[str, Value]], *, status: int = 200,
                 headers: dict[str, str] | None = None) -> Response:
    return Response(build(root, children), status_code=status, headers=headers, media_type="application/xml")


def url_encoder(encoding_type: str | None) -> Callable[[str], str]:
    """`encoding-type=url` encodes names with %20 for spaces (SDKs decode with unquote, not unquote_plus)."""
    if encoding_type is None or encoding_type == "":
        return lambda s: s
    if encoding_type != "url":
        raise InvalidArgument("The encoding-type you specified is not valid.", ArgumentName="encoding-type",
                              ArgumentValue=encoding_type)
    return lambda s: quote(s, safe="")


def owner(ctx: LocalCloud) -> list[tuple[str, Value]]:
    return [("ID", ctx.accounts.account_id), ("DisplayName", ctx.accounts.account_id)]


def check_key(key: str) -> None:
    """Object-name rules of real OSS (reference §2), checked before a body is read; the store's
    `key_bytes` is the one implementation."""
    key_bytes(key)


def int_param(value: str | None, name: str, default: int, lo: int, hi: int) -> int:
    """A bounded integer query parameter; InvalidArgument (with its name) when out of range."""
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except ValueError:
        n = lo - 1
    if not lo <= n <= hi:
        raise InvalidArgument(f"Argument {name} must be an integer between {lo} and {hi}.",
                              ArgumentName=name, ArgumentValue=value[:64])
    return n


def object_headers(meta: ObjectMeta) -> dict[str, str]:
    """The headers GetObject and HeadObject send for a stored object (reference §8.3)."""
    h = {
        "content-type": meta.content_type or "application/octet-stream",
        "etag": meta.etag,
        "last-modified": http_date(meta.last_modified),
        "x-oss-object-type": meta.object_type,
        "x-oss-hash-crc64ecma": str(meta.crc64),
        "x-oss-storage-class": meta.storage_class or "Standard",
        "accept-ranges": "bytes",
    }
    if meta.content_md5:
        h["content-md5"] = meta.content_md5
    for k, v in meta.headers.items():
        h[k.lower()] = v
    for k, v in meta.user_meta.items():
        h["x-oss-meta-" + k] = v
    return h


MAX_USER_META_BYTES = 8 * 1024
EC_USER_META_TOO_LARGE = "0011-00000002"


def user_meta_from(headers: Mapping[str, str], *, encoding: str = "latin-1") -> dict[str, str]:
    """`x-oss-meta-*` headers (or PostObject form fields); names and values together may not exceed
    8 KB [doc: EC 0011-00000002]. `encoding` is the one the values were decoded with (headers:
    latin-1, one character per byte; form fields: UTF-8), so the limit counts wire bytes."""
    meta = {k[len("x-oss-meta-"):]: v for k, v in headers.items() if k.startswith("x-oss-meta-")}
    total = sum(len("x-oss-meta-") + len(k.encode(encoding)) + len(v.encode(encoding))
                for k, v in meta.items())
    if total > MAX_USER_META_BYTES:
        # [unverified] code and wording; the EC and the 8 KB limit are from the OSS docs.
        raise InvalidArgument("Your metadata headers exceed the maximum allowed metadata size.",
                              ec=EC_USER_META_TOO_LARGE, ArgumentName="x-oss-meta-*",
                              ArgumentValue=str(total))
    return meta


STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "expires", "content-language")


def stored_headers_from(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: headers[k] for k in STORED_HEADERS if k in headers}


def upload_headers(meta: ObjectMeta | PartMeta) -> dict[str, str]:
    """ETag, CRC-64 and Content-MD5 as sent after PutObject / PostObject / UploadPart."""
    h = {"etag": meta.etag, "x-oss-hash-crc64ecma": str(meta.crc64)}
    if meta.content_md5:
        h["content-md5"] = meta.content_md5
    return h


async def in_thread(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run blocking store I/O off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)
