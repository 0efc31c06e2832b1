"""What the mobile client returns (small frozen dataclasses, never a secret) and how OSS answers
become them: SDK exceptions and plain-HTTP error documents -> `OssRequestError`, CRC-64 checks.

Wire rules: OSS "Error responses" (reference §9.4) and CRC-64 ECMA (§9.1); PostObject answers and
callback results (§6.4, §7.4). Imports nothing from `helpers.localcloud` or `helpers.appserver`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import oss2

from helpers.client.errors import (
    ClientError,
    CredentialsUnavailable,
    IntegrityError,
    OssRequestError,
    OssUnreachable,
    oss_error,
)
from helpers.protocol.errors import error_fields, parse_error  # error_fields: also read by exercises, tests

T = TypeVar("T")

# OSS codes after which cached STS credentials are useless and must be fetched again.
CREDENTIAL_CODES = frozenset({"InvalidAccessKeyId", "SecurityTokenExpired", "InvalidSecurityToken"})


@dataclass(frozen=True, slots=True)
class UploadResult:
    """One finished upload. `crc64` is OSS's `x-oss-hash-crc64ecma` (decimal string) when sent.

    `callback_reply` is the app server's JSON passed through by OSS (status 200) or, when OSS
    answered 203 CallbackFailed (the object is stored anyway), `{"Code": ..., "Message": ..., "EC": ...}`.
    """

    key: str
    status: int
    etag: str
    crc64: str | None
    size: int
    request_id: str = ""
    callback_reply: Any = None


@dataclass(frozen=True, slots=True)
class DownloadResult:
    key: str
    status: int
    etag: str
    crc64: str | None
    size: int
    content_type: str = ""
    content_disposition: str = ""
    request_id: str = ""
    data: bytes = field(default=b"", repr=False)


def crc64(chunks: bytes | Iterable[bytes]) -> str:
    """CRC-64/ECMA-182 as OSS reports it (decimal), computed with oss2's implementation."""
    crc = oss2.utils.Crc64(0)
    for chunk in [chunks] if isinstance(chunks, bytes | bytearray | memoryview) else chunks:
        crc.update(bytes(chunk))
    return str(crc.crc)


def check_crc(what: str, local: str, remote: str | None) -> None:
    if remote is not None and remote != local:
        raise IntegrityError(f"{what}: CRC-64 mismatch (local {local}, OSS {remote})")


def crc_str(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


# ------------------------------------------------------------------------------- SDK exceptions

def call_oss2(fn: Callable[[], T], *, on_credential_error: Callable[[], None] | None = None) -> T:
    """Run an oss2 call, translating its exceptions into the client's hierarchy."""
    try:
        return fn()
    except oss2.exceptions.ServerError as exc:
        if exc.code in CREDENTIAL_CODES and on_credential_error is not None:
            on_credential_error()
        # `from None`: OSS error documents echo the SecurityToken (and StringToSign), which oss2's
        # str(exc) prints; a chained traceback would put them in logs. The fields are copied.
        raise oss_error(exc.status, exc.code or f"HTTP{exc.status}", exc.message, exc.request_id,
                        ec=exc.ec or "", recommend_doc=exc.details.get("RecommendDoc", "")) from None
    except oss2.exceptions.RequestError as exc:
        raise OssUnreachable(f"OSS unreachable: {type(exc.exception).__name__}") from exc
    except oss2.exceptions.InconsistentError as exc:
        raise IntegrityError(f"oss2 reported a CRC-64 mismatch (request id {exc.request_id})") from exc
    except oss2.exceptions.OssError as exc:
        raise ClientError(f"oss2 refused the call: {type(exc).__name__} {exc.message}") from exc


def call_v2(fn: Callable[[], T], *, on_credential_error: Callable[[], None] | None = None) -> T:
    """Run an alibabacloud_oss_v2 call, translating `OperationError` by what it wraps."""
    import alibabacloud_oss_v2 as oss_v2  # already loaded by whoever built the call

    try:
        return fn()
    except oss_v2.exceptions.OperationError as exc:
        inner = exc.unwrap()
        if isinstance(inner, oss_v2.exceptions.ServiceError):
            if inner.code in CREDENTIAL_CODES and on_credential_error is not None:
                on_credential_error()
            raise oss_error(int(inner.status_code), str(inner.code or f"HTTP{inner.status_code}"),
                            str(inner.message or ""), str(inner.request_id or ""), ec=str(inner.ec or ""),
                            recommend_doc=str((inner.error_fileds or {}).get("RecommendDoc") or "")
                            ) from None  # as above
        if isinstance(inner, oss_v2.exceptions.CredentialsFetchError):
            cause = inner.kwargs.get("error")
            if isinstance(cause, ClientError):
                raise cause from exc
            raise CredentialsUnavailable("the v2 SDK could not get STS credentials") from exc
        if isinstance(inner, oss_v2.exceptions.InconsistentError):
            raise IntegrityError("alibabacloud_oss_v2 reported a CRC-64 mismatch") from exc
        if isinstance(inner, oss_v2.exceptions.RequestError):
            raise OssUnreachable(f"OSS unreachable: {type(inner).__name__}") from exc
        raise ClientError(f"alibabacloud_oss_v2 refused the call: {type(inner).__name__}") from exc


# -------------------------------------------------------------------------------- plain HTTP

def raise_for_oss(response: httpx.Response) -> None:
    """Raise `OssRequestError` for a non-2xx OSS answer, from its XML error document."""
    if response.status_code < 300:
        return
    raise http_error(response)


def http_error(response: httpx.Response) -> OssRequestError:
    """The client error of a non-2xx OSS answer: its error document (body, or HEAD's `x-oss-err`)."""
    status, headers = response.status_code, response.headers
    doc = parse_error(response.content, headers)
    if doc is None:
        return oss_error(status, f"HTTP{status}", "", headers.get("x-oss-request-id", ""),
                         ec=headers.get("x-oss-ec", ""))
    return oss_error(status, doc.code or f"HTTP{status}", doc.message, doc.request_id, ec=doc.ec,
                     recommend_doc=doc.recommend_doc)


def callback_reply(response: httpx.Response) -> Any:
    """The callback part of an upload answer: JSON passed through (200), the error (203), or None."""
    if response.status_code == 203:
        fields = error_fields(response.content)
        reply = {"Code": fields.get("Code", "CallbackFailed"), "Message": fields.get("Message", "")}
        return reply | ({"EC": fields["EC"]} if fields.get("EC") else {})
    if response.content and "json" in response.headers.get("content-type", ""):
        try:
            return json.loads(response.content)
        except ValueError:
            return response.text
    return None
