"""helpers.protocol.endpoints: the URL style is oss2's own rule, and URLs equal what oss2 builds."""

from __future__ import annotations

import oss2
import pytest
from alibabacloud_oss_v2.endpoints import is_ip
from oss2.utils import is_ip_or_localhost

from helpers.protocol import endpoints

NETLOCS = ["127.0.0.1", "127.0.0.1:9000", "10.0.0.7:80", "[::1]:9000", "[::1]", "localhost", "localhost:9000",
           "oss-cn-hangzhou.aliyuncs.com", "oss-cn-hangzhou.aliyuncs.com:443", "workbook.localhost:9000",
           "example.com", "1.2.3.4.example.com"]


@pytest.mark.parametrize("netloc", NETLOCS)
def test_is_path_style_is_oss2_rule(netloc: str) -> None:
    assert endpoints.is_path_style(netloc) is is_ip_or_localhost(netloc)


@pytest.mark.parametrize("netloc", NETLOCS)
def test_is_ip_literal_is_v2_sdk_rule(netloc: str) -> None:
    assert endpoints.is_ip_literal(netloc) is bool(is_ip(netloc))


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9000", "http://localhost:9000",
                                      "https://oss-cn-hangzhou.aliyuncs.com", "http://oss-cn-beijing.aliyuncs.com"])
@pytest.mark.parametrize("key", ["a.txt", "users/alice/photos/cat 1.jpg", "users/bob/中文.txt"])
def test_object_url_equals_oss2_url(endpoint: str, key: str) -> None:
    bucket = oss2.Bucket(oss2.Auth("ak", "sk"), endpoint, "workbook")
    signed = bucket.sign_url("GET", key, 60, slash_safe=True)
    assert endpoints.object_url(endpoint, "workbook", key) == signed.split("?", 1)[0]


def test_bucket_url_styles() -> None:
    assert endpoints.bucket_url("http://127.0.0.1:9000", "wb") == "http://127.0.0.1:9000/wb"
    assert endpoints.bucket_url("https://oss-cn-hangzhou.aliyuncs.com", "wb") == \
        "https://wb.oss-cn-hangzhou.aliyuncs.com"


@pytest.mark.parametrize(("host", "bucket"), [
    ("workbook.oss-cn-hangzhou.aliyuncs.com", "workbook"),    # ali-oss's Host to an IP endpoint
    ("workbook.oss-cn-hangzhou-internal.aliyuncs.com:9000", "workbook"),
    ("workbook.localhost:9000", "workbook"),                  # ali-oss / v2 SDK from a localhost endpoint
    ("WORKBOOK.LOCALHOST", "workbook"),
    ("127.0.0.1:9000", None), ("localhost:9000", None), ("[::1]:9000", None), ("example.com", None),
    ("workbook.example.com", None),
])
def test_vhost_bucket(host: str, bucket: str | None) -> None:
    assert endpoints.vhost_bucket(host) == bucket


def test_vhost_bucket_configured_domain() -> None:
    assert endpoints.vhost_bucket("wb.oss.example.test:8080", ("oss.example.test",)) == "wb"


def test_default_endpoints() -> None:
    assert endpoints.default_oss_endpoint("cn-beijing") == "https://oss-cn-beijing.aliyuncs.com"
    assert endpoints.default_sts_endpoint("cn-beijing") == "https://sts.cn-beijing.aliyuncs.com"
