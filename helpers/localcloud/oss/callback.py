"""Upload callback of the local cloud: parse and validate the callback parameters, substitute
`${var}` placeholders, sign with the stand-in's RSA key (`oss.callback_signer`) and POST to the app server.

Wire rules follow the OSS "Callback" API page and the 0007-* error-code pages (reference §7):
parameters come from the `x-oss-callback`/`x-oss-callback-var` headers, the `callback`/`callback-var`
query parameters or the PostObject form (`callback` + `x:*` fields); they are validated before
the upload is stored. On failure the object is kept and the client gets 203 CallbackFailed.

This module imports nothing from Starlette; httpx is used only for the outgoing POST.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import quote, urlsplit

import httpx

from helpers import http_clients
from helpers.localcloud.errors import CallbackFailed, InvalidArgument, OssError
from helpers.localcloud.oss.callback_signer import CallbackSigner, string_to_sign

logger = logging.getLogger(__name__)

FORM_TYPE: Final = "application/x-www-form-urlencoded"
JSON_TYPE: Final = "application/json"
BodyType = Literal["application/x-www-form-urlencoded", "application/json"]

MAX_URLS = 5
MAX_CALLBACK_VAR_LEN = 5 * 1024          # EC 0007-00000101: base64 callback-var ≤ 5 KB
MAX_RESPONSE_BODY = 1024 * 1024          # app server answer ≤ 1 MB
DEFAULT_TIMEOUT = 5.0                    # fixed on real OSS, not configurable there

# EC codes from the OSS 0007-* error pages; "inferred" ones have no page and follow the numbering.
EC_CALLBACK_BASE64 = "0007-00000002"
EC_CALLBACK_JSON = "0007-00000003"
EC_CALLBACK_URL = "0007-00000004"
EC_TOO_MANY_URLS = "0007-00000005"
EC_CALLBACK_HOST = "0007-00000006"       # inferred
EC_CALLBACK_BODY = "0007-00000011"
EC_BODY_TYPE = "0007-00000012"
EC_CALLBACK_SNI = "0007-00000013"        # inferred
EC_VAR_TOO_LONG = "0007-00000101"
EC_VAR_BASE64 = "0007-00000102"          # inferred (mirrors 0007-00000002)
EC_VAR_JSON = "0007-00000103"
EC_VAR_KEY = "0007-00000104"             # inferred
EC_CB_FAILED = "0007-00000203"
EC_CB_NOT_JSON = "0007-00000205"

# 203 CallbackFailed messages, verbatim from the OSS "HTTP status code 203" page.
MSG_CONNECT = "Error Status : -1.OSS can not connect to your callbackUrl, please check it"
MSG_TIMEOUT = "Cost too long time"
MSG_NOT_JSON = "Response body is not valid json format"
MSG_TOO_LONG = "Error Status : 400.User server return too long content-length value"

_VAR_RE = re.compile(r"\$\{([^{}]*)\}")


# ------------------------------------------------------------------------------------ parameters

@dataclass(frozen=True, slots=True)
class CallbackSpec:
    """A validated callback: URLs in try order (scheme always explicit), body template and type."""

    urls: tuple[str, ...]
    body_template: str
    body_type: BodyType = FORM_TYPE
    host: str | None = None
    sni: bool = False
    custom_vars: Mapping[str, str] = field(default_factory=dict)


def _invalid(message: str, ec: str) -> OssError:
    return InvalidArgument(message, ec=ec)


def _b64_json(value: str, *, what: str, ec_b64: str, ec_json: str) -> object:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid(f"The {what} configuration is not base64 encoded.", ec_b64) from exc
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _invalid(f"The {what} configuration is not json format.", ec_json) from exc


def _parse_url(candidate: str) -> str:
    # OSS accepts scheme-less URLs such as "www.oss-callback.com/test.php" (0007-* examples): http.
    url = candidate if "://" in candidate else "http://" + candidate
    bad = _invalid(f"The callbackUrl is invalid: {candidate}", EC_CALLBACK_URL)
    if not url.isascii() or any(c.isspace() or ord(c) < 0x20 for c in url):
        raise bad  # non-ASCII must be URL-encoded by the client (Callback page)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for "host:test"
    except ValueError as exc:
        raise bad from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise bad
    if port == 0:
        raise bad
    # Loopback and private addresses are deliberately NOT rejected: real OSS refuses them
    # (EC 0007-00000008), but the local cloud's app server lives on 127.0.0.1.
    return url


def parse_callback(callback_b64: str, callback_var_b64: str | None = None, *,
                   form_vars: Mapping[str, str] | None = None) -> CallbackSpec:
    """Decode and validate the callback parameters; raise 400 InvalidArgument (EC 0007-*) if bad.

    `form_vars` are PostObject form fields: only those named `x:*` are used; they override
    same-named `callback-var` entries. Call this before the upload is stored.
    """
    doc = _b64_json(callback_b64, what="callback", ec_b64=EC_CALLBACK_BASE64, ec_json=EC_CALLBACK_JSON)
    if not isinstance(doc, dict):
        raise _invalid("The callback configuration is not json format.", EC_CALLBACK_JSON)

    raw_url = doc.get("callbackUrl")
    if not isinstance(raw_url, str) or not raw_url.strip():
        raise _invalid("The callbackUrl of the callback configuration is empty or invalid.",
                       EC_CALLBACK_URL)
    # Empty segments (a trailing ";") are ignored, as the 0007-00000005 example counts them.
    candidates = [u.strip() for u in raw_url.split(";") if u.strip()]
    if len(candidates) > MAX_URLS:
        raise _invalid(f"The number of callbackUrl exceeds the limit of {MAX_URLS}.", EC_TOO_MANY_URLS)
    urls = tuple(_parse_url(c) for c in candidates)

    body = doc.get("callbackBody")
    if not isinstance(body, str) or body == "":
        raise _invalid("The callbackBody of the callback configuration is empty.", EC_CALLBACK_BODY)

    body_type = doc.get("callbackBodyType", FORM_TYPE)
    if not isinstance(body_type, str) or body_type.strip().lower() not in (FORM_TYPE, JSON_TYPE):
        raise _invalid("The callbackBodyType is invalid, it must be application/x-www-form-urlencoded "
                       "or application/json.", EC_BODY_TYPE)
    chosen: BodyType = JSON_TYPE if body_type.strip().lower() == JSON_TYPE else FORM_TYPE

    host = doc.get("callbackHost")
    if host is not None and (not isinstance(host, str) or any(c.isspace() for c in host)
                             or not host.isascii()):
        raise _invalid("The callbackHost of the callback configuration is invalid.", EC_CALLBACK_HOST)

    sni = doc.get("callbackSNI", False)
    if isinstance(sni, str) and sni.lower() in ("true", "false"):
        sni = sni.lower() == "true"
    if not isinstance(sni, bool):
        raise _invalid("The callbackSNI of the callback configuration must be true or false.",
                       EC_CALLBACK_SNI)

    custom: dict[str, str] = {}
    if callback_var_b64 is not None:
        if len(callback_var_b64) > MAX_CALLBACK_VAR_LEN:
            raise _invalid("The callback-var is too long, it must not exceed 5 KB.", EC_VAR_TOO_LONG)
        var_doc = _b64_json(callback_var_b64, what="callback-var", ec_b64=EC_VAR_BASE64,
                            ec_json=EC_VAR_JSON)
        if not isinstance(var_doc, dict):
            raise _invalid("The callback-var configuration is not json format.", EC_VAR_JSON)
        for k, v in var_doc.items():
            if not k.startswith("x:"):
                # Taken, not refused: oss2's `test_sign_url_with_callback` (run against real OSS)
                # sends, through a helper bug, the callback document itself as callback-var
                # (keys callbackUrl/callbackBody) and gets 203, not 400. An older doc's "returns an
                # error" names no Code/EC. Such keys are never substituted: only `${x:...}` names
                # a custom variable [unverified].
                continue
            if not isinstance(v, str):
                raise _invalid(f"The value of callback-var {k!r} must be a string.", EC_VAR_KEY)
            custom[k] = v
    for k, v in (form_vars or {}).items():
        if k.startswith("x:"):
            custom[k] = v

    return CallbackSpec(urls=urls, body_template=body, body_type=chosen,
                        host=host or None, sni=sni, custom_vars=custom)


# ------------------------------------------------------------------------------------------ body

def system_variables(*, bucket: str, key: str, etag: str, size: int, mime_type: str, crc64: str,
                     client_ip: str, request_id: str, operation: str, content_md5: str = "",
                     image_height: str = "", image_width: str = "", image_format: str = "",
                     vpc_id: str = "") -> dict[str, str]:
    """The `${...}` system variables of one upload (etag without quotes; image fields empty for
    non-images; contentMd5 only for PutObject/PostObject)."""
    return {"bucket": bucket, "object": key, "etag": etag.strip('"'), "size": str(size),
            "mimeType": mime_type, "imageInfo.height": image_height, "imageInfo.width": image_width,
            "imageInfo.format": image_format, "crc64": crc64, "contentMd5": content_md5,
            "vpcId": vpc_id, "clientIp": client_ip, "reqId": request_id, "operation": operation}


def render_body(spec: CallbackSpec, variables: Mapping[str, str]) -> bytes:
    """Substitute `${var}` in the template: system `variables`, then `x:` vars of the spec.

    Form type: each value URL-encoded (space → %20). JSON type: each value inserted as a JSON
    string literal (templates are written without quotes). Unknown variables → empty string.
    """
    lookup: dict[str, str] = dict(spec.custom_vars)
    lookup.update(variables)
    as_json = spec.body_type == JSON_TYPE

    def sub(m: re.Match[str]) -> str:
        value = lookup.get(m.group(1), "")
        if as_json:
            return json.dumps(value, ensure_ascii=False)
        return quote(value, safe="")

    return _VAR_RE.sub(sub, spec.body_template).encode("utf-8")


# -------------------------------------------------------------------------------------- delivery

@dataclass(frozen=True, slots=True)
class CallbackResult:
    """Outcome of a callback. ok: `body` is the app server's JSON, relayed with `content_type`.

    Not ok: `error` is the 203 CallbackFailed to render (the object stays stored); `status` is the
    last app server's HTTP status if it answered, else None.
    """

    ok: bool
    status: int | None = None
    body: bytes = b""
    content_type: str = JSON_TYPE
    error: CallbackFailed | None = None
    url: str | None = None


class _Failure(Exception):
    def __init__(self, message: str, ec: str = EC_CB_FAILED, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.ec = ec
        self.status = status  # the app server's HTTP status, when it answered at all


def _safe_url(url: str) -> str:
    # For logs: the query may carry app tokens, so only scheme, host and path are shown.
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}{p.path}"


def _never_resolves(url: str) -> bool:
    # RFC 6761 §6.4: names under .invalid never resolve, so no DNS lookup is needed to fail.
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    return host == "invalid" or host.endswith(".invalid")


async def _post_once(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str],
                     signer: CallbackSigner) -> tuple[int, bytes]:
    if _never_resolves(url):
        raise _Failure(MSG_CONNECT)
    request = client.build_request("POST", url, content=body, headers=headers)
    # Sign exactly the path+query httpx puts on the request line.
    raw_path = request.url.raw_path.decode("ascii")
    request.headers["Authorization"] = base64.b64encode(signer.sign(string_to_sign(raw_path, body))).decode()
    for name in ("accept", "accept-encoding"):
        request.headers.pop(name, None)
    try:
        response = await client.send(request, stream=True)
    except httpx.TimeoutException:
        raise
    except httpx.TransportError as exc:
        raise _Failure(MSG_CONNECT) from exc
    try:
        if response.status_code != 200:
            raise _Failure(f"Error status : {response.status_code}.", status=response.status_code)
        length = response.headers.get("content-length")
        if length is None or not length.strip().isdigit() or int(length) > MAX_RESPONSE_BODY:
            raise _Failure(MSG_TOO_LONG, status=200)
        chunks: list[bytes] = []
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > MAX_RESPONSE_BODY:
                raise _Failure(MSG_TOO_LONG, status=200)
            chunks.append(chunk)
        data = b"".join(chunks)
    except httpx.TimeoutException:
        raise
    except httpx.TransportError as exc:
        raise _Failure(MSG_CONNECT) from exc
    finally:
        await response.aclose()
    try:
        json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Failure(MSG_NOT_JSON, EC_CB_NOT_JSON, status=200) from exc
    return response.status_code, data


async def perform_callback(spec: CallbackSpec, body: bytes, *, signer: CallbackSigner, pub_key_url: str,
                           bucket: str, request_id: str, timeout: float = DEFAULT_TIMEOUT,
                           requester: str | None = None) -> CallbackResult:
    """POST `body` to each callbackUrl in order until one answers 200 with JSON (≤ 1 MB).

    Each attempt gets `timeout` seconds in total (connect + send + read). No redirects, no
    retries of the same URL, no proxies. On failure the error of the last URL tried is returned
    as 203 CallbackFailed with the documented message. One httpx client per call, so a signer can
    be shared across event loops and threads.
    """
    headers = {
        "Content-Type": spec.body_type,
        "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),
        "Date": email.utils.formatdate(usegmt=True),
        "User-Agent": "aliyun-oss-callback",
        "x-oss-bucket": bucket,
        "x-oss-request-id": request_id,
        "x-oss-pub-key-url": base64.b64encode(pub_key_url.encode()).decode(),
        "x-oss-signature-version": "1.0",
        "x-oss-tag": "CALLBACK",
    }
    if requester:
        headers["x-oss-requester"] = requester
    if spec.host:
        headers["Host"] = spec.host
    failure = _Failure(MSG_CONNECT)
    async with http_clients.async_client(follow_redirects=False, timeout=httpx.Timeout(timeout)) as client:
        for url in spec.urls:
            try:
                async with asyncio.timeout(timeout):
                    status, data = await _post_once(client, url, body, headers, signer)
            except (TimeoutError, httpx.TimeoutException):
                failure = _Failure(MSG_TIMEOUT)
            except _Failure as exc:
                failure = exc
            else:
                logger.info("callback to %s answered %d (%d bytes)", _safe_url(url), status, len(data))
                return CallbackResult(ok=True, status=status, body=data, url=url)
            logger.info("callback to %s failed: %s", _safe_url(url), failure.message)
    return CallbackResult(ok=False, status=failure.status, body=b"",
                          error=CallbackFailed(failure.message, ec=failure.ec),
                          url=spec.urls[-1] if spec.urls else None)
