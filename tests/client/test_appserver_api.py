"""AppServerClient: Date recording and error mapping against the real app server, and skew
correction end to end with an app server whose clock is an hour off (an httpx transport plays it)."""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import httpx
import pytest

from helpers.client.appserver_api import AppServerClient
from helpers.client.credentials import CachingCredentialsProvider
from helpers.client.errors import BadRequest, NotAuthenticated


def test_api_sts_records_server_date_and_prefix(appserver: Any, users: dict[str, str]) -> None:
    api = AppServerClient(appserver.url)
    api.login("alice", users["alice"])
    token = api.sts("download")
    assert token.prefix == "users/alice/" and token.bucket == appserver.settings.bucket
    assert token.credentials.server_date is not None
    assert abs(token.credentials.server_date - time.time()) < 5
    lifetime = token.credentials.expiration - time.time()
    assert lifetime == pytest.approx(appserver.settings.sts_duration_seconds, abs=10)
    assert token.credentials.access_key_secret not in repr(token)


def test_api_without_login_not_authenticated(appserver: Any) -> None:
    with pytest.raises(NotAuthenticated):
        AppServerClient(appserver.url).uploads()


def test_api_validation_error_is_bad_request_with_detail(appserver: Any, users: dict[str, str]) -> None:
    api = AppServerClient(appserver.url)
    api.login("alice", users["alice"])
    with pytest.raises(BadRequest) as info:
        api.signed_url("DELETE", "x.txt")  # type: ignore[arg-type]
    assert info.value.status == 422 and "method" in info.value.detail


def _skewed_appserver(skew: float) -> httpx.MockTransport:
    """An app server whose clock runs `skew` seconds ahead of ours (Date and Expiration alike)."""
    def handle(request: httpx.Request) -> httpx.Response:
        server_now = time.time() + skew
        headers = {"Date": email.utils.formatdate(server_now, usegmt=True)}
        if request.url.path == "/api/login":
            return httpx.Response(200, json={"access_token": "t", "token_type": "bearer", "expires_in": 60},
                                  headers=headers)
        expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(server_now + 900))
        body = {"StatusCode": "200", "AccessKeyId": "STS.abcdefghijk", "AccessKeySecret": "s" * 30,
                "SecurityToken": "CAIS" + "t" * 40, "Expiration": expiration, "Bucket": "b",
                "Region": "cn-hangzhou", "Endpoint": "http://127.0.0.1:1", "Prefix": "users/alice/"}
        return httpx.Response(200, content=json.dumps(body), headers=headers)
    return httpx.MockTransport(handle)


@pytest.mark.parametrize("skew", [3600.0, -3600.0])
def test_api_skewed_server_provider_sees_full_lifetime(skew: float) -> None:
    api = AppServerClient("http://app.test", transport=_skewed_appserver(skew))
    api.login("alice", "pw")
    provider = CachingCredentialsProvider(lambda: api.sts("upload").credentials)
    provider.get()
    assert provider.skew == pytest.approx(skew, abs=2)
    remaining = provider.remaining()
    assert remaining is not None and remaining == pytest.approx(900, abs=2)
    provider.get()
    assert provider.fetch_count == 1
