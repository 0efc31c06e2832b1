"""AssumeRole through the official STS SDK (alibabacloud-sts20150401): the one place it is called,
shared by the app server (`helpers.appserver.services.sts.SdkAssumeRole`) and the notebooks' developer
view (`helpers.workbook.Book.assume_role`).

    answer = assume_role(endpoint="https://sts.cn-hangzhou.aliyuncs.com", region="cn-hangzhou",
                         access_key_id=..., access_key_secret=..., role_arn=..., session_name="s",
                         policy='{"Version": "1", ...}', duration=900)
    answer.access_key_id, answer.expiration, answer.date    # `date`: the STS server's Date header

The endpoint's scheme decides the protocol (the SDK wants the host without it plus `protocol`,
reference §10.6); without a scheme it is HTTPS. HTTPS verifies the server's certificate against
certifi's bundle, or `SSL_CERT_FILE` when set (what httpx and `helpers.http_clients` do too).
Errors never carry the signed request: `StsRefused` has STS's own status, code and message,
`StsUnreachable` names the host only. Imports nothing from `helpers` but `helpers.logging`.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from helpers.logging import mask_text


class StsUnreachable(Exception):
    """No answer from STS (connection refused, TLS failure, timeout)."""


class StsRefused(Exception):
    """STS answered with an error document: `status`, `code`, `message`, `request_id`."""

    def __init__(self, status: int | None, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"STS {status} {code}: {message}")
        self.status, self.code, self.message, self.request_id = status, code, message, request_id


@dataclass(frozen=True, slots=True)
class StsAnswer:
    """The Credentials block of one AssumeRole answer, and the server's `Date` header (or None)."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str = field(repr=False)
    expiration: str
    date: str | None


def endpoint_parts(endpoint: str) -> tuple[str, str]:
    """(protocol, host[:port]) of an STS endpoint written with or without a scheme (default https)."""
    parts = urlsplit(endpoint if "://" in endpoint else "https://" + endpoint)
    return parts.scheme, parts.netloc


@functools.cache
def load_sdk() -> tuple[Any, Any, Any, type[Exception], type[Exception]]:
    """The STS SDK's modules and exceptions, imported once (~150 ms: callers may pay it up front)."""
    from alibabacloud_sts20150401 import models as sts_models
    from alibabacloud_sts20150401.client import Client
    from alibabacloud_tea_openapi import models as api_models
    from Tea.exceptions import TeaException, UnretryableException

    return sts_models, Client, api_models, TeaException, UnretryableException


def assume_role(*, endpoint: str, region: str, access_key_id: str, access_key_secret: str, role_arn: str,
                session_name: str, policy: str | None, duration: int) -> StsAnswer:
    """One AssumeRole call signed with the given RAM key; `policy` None means no session policy."""
    sts_models, Client, api_models, TeaException, UnretryableException = load_sdk()  # noqa: N806
    protocol, host = endpoint_parts(endpoint)
    config = api_models.Config(access_key_id=access_key_id, access_key_secret=access_key_secret,
                               endpoint=host, protocol=protocol, region_id=region,
                               connect_timeout=5000, read_timeout=10000,
                               ca=os.environ.get("SSL_CERT_FILE") or None)
    request = sts_models.AssumeRoleRequest(role_arn=role_arn, role_session_name=session_name,
                                           policy=policy, duration_seconds=duration)
    try:
        response = Client(config).assume_role(request)
    except UnretryableException as exc:
        # The SDK wraps every transport error in this one class; its text holds the signed URL.
        raise StsUnreachable(f"STS at {host} is unreachable ({_transport_reason(exc)})") from None
    except TeaException as exc:
        raise _refused(exc) from None
    c = response.body.credentials
    date = {k.lower(): v for k, v in (response.headers or {}).items()}.get("date")
    return StsAnswer(str(c.access_key_id), str(c.access_key_secret), str(c.security_token),
                     str(c.expiration), date)


# Words of a transport error's text that say what went wrong, without quoting the text (it holds the URL).
_REASONS = (("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"), ("SSL", "TLS handshake failed"),
            ("Connection refused", "connection refused"), ("timed out", "timed out"),
            ("Name or service not known", "unknown host"), ("nodename nor servname", "unknown host"))


def _transport_reason(exc: BaseException) -> str:
    inner = getattr(exc, "inner_exception", None) or exc
    text = str(getattr(inner, "message", "") or inner)
    return next((reason for word, reason in _REASONS if word in text), type(inner).__name__)


def _refused(exc: Any) -> StsRefused:
    data = exc.data if isinstance(getattr(exc, "data", None), dict) else {}
    status = (getattr(exc, "status_code", None) or getattr(exc, "statusCode", None)
              or data.get("statusCode"))
    code = str(getattr(exc, "code", None) or data.get("Code") or type(exc).__name__)
    # STS's own Message (the SDK's `message` wraps it in "code: 400, ... request id: ...").
    message = mask_text(str(data.get("Message") or getattr(exc, "message", None) or ""))
    return StsRefused(int(str(status)) if str(status).isdigit() else None, code, message,
                      str(data.get("RequestId", "")))
