"""Secret masking (the only place it is written) and the workbook's logging setup.

    mask_secret("abcdefghij")            -> "abcd…(10 chars)"
    mask_headers({"Authorization": ...}) -> same mapping, secret header values masked
    mask_url("http://h/k?Signature=…")   -> same URL, secret query values masked
    mask_json({"AccessKeySecret": ...})  -> deep copy, secret fields masked (any nesting)
    mask_body(b'{"password": …}', "application/json") -> a masked, bounded rendering of a body
    mask_header_once(name, value)        -> a header from another process, masked unless it already is
    mask_text("… security-token=CAIS…")  -> free text with `name=value`, `"name": "value"` and
                                            `Authorization: …` secrets masked
    mask_error("… AccessKeyId=LTAI…")    -> mask_text, and AccessKey IDs in `name=value` shortened
                                            (error texts shown to a reader: SDK errors hold URLs)
    SecretMaskingFilter                  -> logging.Filter applying mask_text to every record
    configure_logging(level)             -> one stderr handler with the filter (idempotent)

What counts as secret (style.md §2.5): Authorization, x-oss-security-token, x-oss-signature, query
`Signature` / `security-token` / `x-oss-signature` / `x-oss-security-token`, the key id part of
`x-oss-credential` stays but nothing else in it is secret, PostObject `policy` / `signature`, STS
`AccessKeySecret` / `SecurityToken`, `password`, `access_token`, `session_secret`. Names are
compared case-insensitively. `helpers.trace` builds on these; keep them general.
This module is named like the standard library's: inside `helpers` always import the stdlib as
`import logging` with absolute imports (the default in Python 3). Imports nothing from `helpers`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

SECRET_HEADERS = frozenset({
    "authorization", "x-oss-security-token", "x-oss-signature", "x-acs-security-token", "cookie",
    "set-cookie", "proxy-authorization",
})
SECRET_QUERY = frozenset({
    "signature", "security-token", "x-oss-signature", "x-oss-security-token", "securitytoken",
    "access_token", "password",
})
SECRET_FIELDS = frozenset({
    "accesskeysecret", "access_key_secret", "securitytoken", "security_token", "password", "access_token",
    "policy", "signature", "x-oss-signature", "x-oss-security-token", "session_secret", "secret",
})
ALL_NAMES = SECRET_HEADERS | SECRET_QUERY | SECRET_FIELDS

_PREFIX = 4


def mask_secret(value: object) -> str:
    """`abcd…(40 chars)`: the first four characters and the length; short values show nothing."""
    text = "" if value is None else str(value)
    if len(text) <= 2 * _PREFIX:
        return f"…({len(text)} chars)"
    return f"{text[:_PREFIX]}…({len(text)} chars)"


def mask_key_id(value: str) -> str:
    """An AccessKey ID for display: its first 8 characters and an ellipsis (IDs are not secret,
    but the whole ID is not needed to recognise one)."""
    return f"{value[:8]}…"


def mask_headers(headers: Mapping[str, str] | Any) -> dict[str, str]:
    """A copy of `headers` (any mapping or list of pairs) with secret values masked.

    `Authorization` keeps its scheme and, for OSS/OSS4, the AccessKey ID: only the signature goes.
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in items:
        lname = str(name).lower()
        if lname == "authorization":
            out[name] = _mask_authorization(str(value))
        elif lname in SECRET_HEADERS:
            out[name] = mask_secret(value)
        else:
            out[name] = str(value)
    return out


_OSS1_AUTH = re.compile(r"^(OSS)\s+([^:\s]+):(\S+)$")
_OSS4_SIG = re.compile(r"(Signature=)([0-9a-fA-F]+)")


def _mask_authorization(value: str) -> str:
    m = _OSS1_AUTH.match(value.strip())
    if m:
        return f"{m.group(1)} {m.group(2)}:{mask_secret(m.group(3))}"
    if value.startswith(("OSS4-HMAC-SHA256", "ACS3-HMAC-SHA256")):
        return _OSS4_SIG.sub(lambda x: x.group(1) + mask_secret(x.group(2)), value)
    scheme, _, rest = value.partition(" ")
    return f"{scheme} {mask_secret(rest)}" if rest else mask_secret(value)


def mask_url(url: str) -> str:
    """`url` with secret query values masked; everything else stays byte for byte (names kept,
    `x-oss-credential` is not secret)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_text(url)
    if not parts.query:
        return url
    pieces = []
    for piece in parts.query.split("&"):
        name, sep, value = piece.partition("=")
        if sep and unquote(name).lower() in SECRET_QUERY:
            piece = f"{name}={mask_secret(unquote(value))}"
        pieces.append(piece)
    return urlunsplit(parts._replace(query="&".join(pieces)))


def mask_json(doc: Any, *, also: frozenset[str] = frozenset()) -> Any:
    """A deep copy of a JSON-like value with secret fields masked (dict keys compared lower-case);
    `also` names further lower-case fields to mask (a trace masks `accesskeyid` too)."""
    fields = SECRET_FIELDS | also
    if isinstance(doc, Mapping):
        return {k: (mask_secret(v) if isinstance(k, str) and k.lower() in fields
                    and isinstance(v, str | bytes) else mask_json(v, also=also))
                for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [mask_json(v, also=also) for v in doc]
    return doc


MASKED_MARK = "…("    # what mask_secret leaves: `abcd…(40 chars)`


def mask_header_once(name: str, value: str) -> tuple[str, str]:
    """A header received from another process: masked unless it already carries the masked form
    (masking a masked value twice garbles it)."""
    if MASKED_MARK in value:
        return name, value
    return next(iter(mask_headers([(name, value)]).items()))


def mask_body(content: bytes | str | None, content_type: str = "", *, limit: int = 2000,
              also: frozenset[str] = frozenset()) -> str:
    """A masked rendering of a body, at most `limit` characters: JSON (fields in `also` masked
    too) and url-encoded forms masked field by field, anything else (multipart forms, XML such as
    OSS error documents, which echo the security token, binary) only as `<N bytes type>`. A `str`
    without a content type is text already rendered (a summary) and is masked as free text."""
    if not content:
        return ""
    kind = content_type.split(";", 1)[0].strip().lower()
    if isinstance(content, str) and not kind:
        text = mask_text(content)
        return text if len(text) <= limit else text[:limit] + "…"
    raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    rendered: str | None = None
    if kind == "application/json" or kind.endswith("+json"):
        try:
            rendered = json.dumps(mask_json(json.loads(raw), also=also), ensure_ascii=False,
                                  separators=(",", ":"))
        except (UnicodeDecodeError, ValueError):
            rendered = None
    elif kind == "application/x-www-form-urlencoded":
        try:
            rendered = mask_text(raw.decode("utf-8"))
        except UnicodeDecodeError:
            rendered = None
    if rendered is None:
        return f"<{len(raw)} bytes{' ' + kind if kind else ''}>"
    return rendered if len(rendered) <= limit else rendered[:limit] + "…"


_NAMES_RE = "|".join(sorted((re.escape(n) for n in ALL_NAMES), key=len, reverse=True))
# name=value in query strings and form bodies (value ends at &, whitespace, quote or comma)
_KV = re.compile(rf"(?i)(?<![\w-])({_NAMES_RE})=([^&\s\"',;]+)")
# "name": "value" and 'name': 'value' in JSON and Python reprs
_QUOTED = re.compile(rf"(?i)([\"'])({_NAMES_RE})\1(\s*:\s*)([\"'])(.*?)(?<!\\)\4")
# Authorization: <value> in header dumps
_AUTH_LINE = re.compile(r"(?i)\b(authorization|x-oss-security-token|x-oss-signature)(\s*:\s*)([^\r\n\"']+)")


def mask_text(text: str) -> str:
    """Mask secrets embedded in free text (log messages, canonical requests, reprs)."""
    text = _QUOTED.sub(lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{mask_secret(m[5])}{m[4]}", text)
    text = _AUTH_LINE.sub(lambda m: f"{m[1]}{m[2]}{_mask_authorization(m[3].strip())}", text)
    text = _KV.sub(lambda m: f"{m[1]}={mask_secret(m[2])}", text)
    return text


# AccessKeyId=, OSSAccessKeyId= (query strings of signed requests)
_KEY_ID_KV = re.compile(r"(?i)(?<![\w-])((?:oss)?accesskeyid)=([^&\s\"',;]+)")


def mask_error(text: str) -> str:
    """An error text fit for a notebook's output: `mask_text`, and AccessKey IDs in `name=value`
    shortened as `mask_key_id` does (an ID is not a secret, but a signed URL quoted by an SDK
    error need not name the key that signed it)."""
    return _KEY_ID_KV.sub(lambda m: f"{m[1]}={mask_key_id(m[2])}", mask_text(text))


class SecretMaskingFilter(logging.Filter):
    """Rewrites each record's final message through `mask_text` (args are formatted first).

    Attach it to handlers (a logger's filter does not see records propagated from child loggers)
    and to `uvicorn.access`, whose `args[2]` is the path with its raw query string.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # let the handler report the broken format string as usual
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        return True


_HANDLER_NAME = "workbook-masked"


def configure_logging(level: int | str = logging.INFO) -> logging.Handler:
    """Install one stderr handler with SecretMaskingFilter on the root logger (idempotent).

    Also filters `uvicorn.access` at the source. Only `helpers.stack`, CLIs and notebooks call this.
    """
    root = logging.getLogger()
    for h in root.handlers:
        if h.get_name() == _HANDLER_NAME:
            root.setLevel(level)
            return h
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretMaskingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, SecretMaskingFilter) for f in access.filters):
        access.addFilter(SecretMaskingFilter())
    return handler
