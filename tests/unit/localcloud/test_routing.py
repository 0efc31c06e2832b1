"""Addressing: which (bucket, key) a request names, from its Host header and raw path.

Virtual host follows the Host header whatever address the connection went to: ali-oss sends
`Host: <bucket>.oss-<region>.aliyuncs.com` to an IP endpoint, browsers send `<bucket>.localhost`.
Path style stays for IP literals, plain `localhost` and unknown hosts.
"""

from __future__ import annotations

import pytest

from helpers.localcloud.errors import InvalidRequest
from helpers.localcloud.oss.routing import split_target, vhost_bucket


@pytest.mark.parametrize(("host", "path", "expected"), [
    # ali-oss with an IP endpoint: bucket only in Host, path is the key.
    ("workbook.oss-cn-hangzhou.aliyuncs.com", "/users/alice/a.txt", ("workbook", "users/alice/a.txt")),
    ("workbook.oss-cn-hangzhou-internal.aliyuncs.com", "/k", ("workbook", "k")),
    ("workbook.oss-cn-hangzhou.aliyuncs.com:8080", "/k", ("workbook", "k")),
    ("Workbook.OSS-cn-hangzhou.Aliyuncs.com", "/k", ("workbook", "k")),
    ("workbook.oss-cn-hangzhou.aliyuncs.com", "/", ("workbook", None)),
    ("workbook.oss-cn-hangzhou.aliyuncs.com", "", ("workbook", None)),
    # Browsers (Chromium resolves *.localhost to loopback) and alibabacloud-oss-v2 on `localhost`.
    ("workbook.localhost:43210", "/users/alice/big%20file.bin", ("workbook", "users/alice/big file.bin")),
    ("workbook.localhost", "/", ("workbook", None)),
    # A key that looks like a bucket path stays a key on a virtual host.
    ("workbook.localhost:1", "/other/x", ("workbook", "other/x")),
    ("workbook.localhost:1", "/_localcloud/clock", ("workbook", "_localcloud/clock")),
    ("workbook.localhost:1", "/a%2Fb/c", ("workbook", "a/b/c")),
    # Path style: IP literals and plain localhost (oss2 and alibabacloud-oss-v2 on 127.0.0.1).
    ("127.0.0.1:9000", "/workbook/users/alice/a.txt", ("workbook", "users/alice/a.txt")),
    ("127.0.0.1:9000", "/workbook", ("workbook", None)),
    ("127.0.0.1:9000", "/workbook/", ("workbook", None)),
    ("127.0.0.1:9000", "/", (None, None)),
    ("[::1]:9000", "/workbook/k", ("workbook", "k")),
    ("localhost:9000", "/workbook/k", ("workbook", "k")),
    ("localhost", "/", (None, None)),
    # The service endpoint without a bucket label, and unknown hosts: path style.
    ("oss-cn-hangzhou.aliyuncs.com", "/workbook/k", ("workbook", "k")),
    ("example.com", "/workbook/k", ("workbook", "k")),
    ("a.b.localhost", "/workbook/k", ("workbook", "k")),
])
def test_split_target(host: str, path: str, expected: tuple[str | None, str | None]) -> None:
    assert split_target(path, host) == expected


def test_configured_service_domain_is_virtual_host() -> None:
    assert split_target("/k", "b1.oss.example.test:80", ("oss.example.test",)) == ("b1", "k")
    assert split_target("/b1/k", "oss.example.test", ("oss.example.test",)) == ("b1", "k")


def test_vhost_bucket() -> None:
    assert vhost_bucket("workbook.oss-cn-shanghai.aliyuncs.com") == "workbook"
    assert vhost_bucket("127.0.0.1:80") is None
    assert vhost_bucket("localhost:80") is None
    assert vhost_bucket("") is None


def test_bad_path_refused() -> None:
    with pytest.raises(InvalidRequest):
        split_target("*", "workbook.localhost")
    with pytest.raises(InvalidRequest):
        split_target("//k", "127.0.0.1")
