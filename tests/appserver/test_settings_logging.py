"""helpers/settings.py and helpers/logging.py: one Settings from env/credentials file; masking helpers."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from helpers.logging import SecretMaskingFilter, mask_headers, mask_json, mask_secret, mask_text, mask_url
from helpers.protocol.callback_keys import REAL_OSS_KEY_URL_PREFIXES
from helpers.settings import Settings, explain, load_settings

SECRET = "S3cr3tValueThatMustNotLeak0123456789abcd"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith("WORKBOOK_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_settings_from_env_aliyun_target(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("WORKBOOK_TARGET", "aliyun")
    clean_env.setenv("WORKBOOK_ACCESS_KEY_SECRET", SECRET)
    clean_env.setenv("WORKBOOK_APP_USERS", json.dumps({"alice": "pw"}))
    clean_env.setenv("WORKBOOK_OSS_ENDPOINT", "https://oss-cn-shanghai.aliyuncs.com/")
    clean_env.setenv("WORKBOOK_STS_ENDPOINT", "sts.cn-shanghai.aliyuncs.com")  # as the README writes it
    for name, value in (("BUCKET", "my-bucket"), ("ROLE_ARN", "acs:ram::1:role/r"),
                        ("ACCESS_KEY_ID", "LTAIx"), ("SESSION_SECRET", "s" * 32)):
        clean_env.setenv(f"WORKBOOK_{name}", value)
    s = Settings()
    assert s.target == "aliyun"
    assert s.oss_endpoint == "https://oss-cn-shanghai.aliyuncs.com"
    assert s.sts_endpoint == "https://sts.cn-shanghai.aliyuncs.com"
    assert s.access_key_secret.get_secret_value() == SECRET
    assert SECRET not in repr(s) and SECRET not in str(s)
    assert s.allowed_key_urls() == REAL_OSS_KEY_URL_PREFIXES


def test_settings_from_credentials_file_adds_local_key_url(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    doc: dict[str, Any] = {
        "appserver": {"access_key_id": "LTAIx", "access_key_secret": SECRET},
        "role_arn": "acs:ram::1:role/r",
        "app_users": [{"username": "alice", "password": "p"}],
    }
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(doc))
    s = Settings.from_credentials_file(
        path, oss_endpoint="http://127.0.0.1:9", sts_endpoint="http://127.0.0.1:8"
    )
    assert (s.target, s.access_key_id, s.role_arn, list(s.app_users)) == (
        "local",
        "LTAIx",
        "acs:ram::1:role/r",
        ["alice"],
    )
    assert s.allowed_key_urls()[-1] == "http://127.0.0.1:9/_localcloud/callback_pub_key_v1.pem"
    clean_env.setenv("WORKBOOK_CREDENTIALS_FILE", str(path))
    assert load_settings(oss_endpoint="http://127.0.0.1:9").access_key_id == "LTAIx"


@pytest.mark.parametrize(
    "bad",
    [
        {"sts_duration_seconds": 100},
        {"sts_refresh_margin_seconds": 900},
        {"app_users": {"../x": "p"}},
        {"oss_endpoint": "ftp://x"},
        {"sts_endpoint": "http://:9"},
        {"session_secret": "too-short"},
    ],
)
def test_settings_invalid_values_raise_without_echo(
    clean_env: pytest.MonkeyPatch, bad: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(access_key_secret=SECRET, **bad)
    assert SECRET not in str(info.value)
    given = next(iter(bad.values()))
    assert not isinstance(given, str) or given not in str(info.value)  # e.g. a too-short session secret
    lines = explain(info.value)
    assert len(lines) == 1 and lines[0].startswith(f"WORKBOOK_{next(iter(bad)).upper()}: "), lines


@pytest.mark.parametrize(("given", "url"), [
    ("sts.cn-hangzhou.aliyuncs.com", "https://sts.cn-hangzhou.aliyuncs.com"),
    ("oss-cn-hangzhou.aliyuncs.com/", "https://oss-cn-hangzhou.aliyuncs.com"),
    ("127.0.0.1:9000", "https://127.0.0.1:9000"),
    ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
    ("", ""),
])
def test_endpoints_without_scheme_get_https(clean_env: pytest.MonkeyPatch, given: str, url: str) -> None:
    s = Settings(oss_endpoint=given, sts_endpoint=given, appserver_public_url=given)
    assert (s.oss_endpoint, s.sts_endpoint, s.appserver_public_url) == (url, url, url)


def test_mask_secret_shows_prefix_and_length() -> None:
    assert mask_secret("abcdefghijklmnopqrstuvwxyz0123456789ABCD") == "abcd…(40 chars)"
    assert mask_secret("short") == "…(5 chars)"


def test_mask_headers_keeps_key_id_masks_signature() -> None:
    out = mask_headers(
        {
            "Authorization": f"OSS LTAIabc:{SECRET}",
            "x-oss-security-token": SECRET,
            "Content-Type": "text/plain",
        }
    )
    assert out["Authorization"].startswith("OSS LTAIabc:") and SECRET not in out["Authorization"]
    assert SECRET not in out["x-oss-security-token"]
    assert out["Content-Type"] == "text/plain"
    v4 = mask_headers(
        [
            (
                "authorization",
                f"OSS4-HMAC-SHA256 Credential=LTAI/20260101/r/oss/aliyun_v4_request, Signature={'ab' * 32}",
            )
        ]
    )
    assert "Credential=LTAI/20260101" in v4["authorization"] and "ab" * 32 not in v4["authorization"]


def test_mask_url_masks_signature_and_token_keeps_credential() -> None:
    url = (
        f"http://h/b/k?x-oss-security-token={SECRET}&x-oss-credential=STS.abc%2F20260101%2Fr%2Foss"
        f"%2Faliyun_v4_request&x-oss-signature={SECRET}&Signature={SECRET}&security-token={SECRET}&x=1"
    )
    masked = mask_url(url)
    assert SECRET not in masked
    assert "x-oss-credential=STS.abc%2F20260101" in masked and "x=1" in masked


def test_mask_json_masks_nested_secret_fields() -> None:
    doc = {
        "Credentials": {"AccessKeyId": "STS.x", "AccessKeySecret": SECRET, "SecurityToken": SECRET},
        "fields": [{"policy": SECRET, "signature": SECRET, "key": "k"}],
        "password": SECRET,
        "access_token": SECRET,
    }
    masked = mask_json(doc)
    assert SECRET not in json.dumps(masked)
    assert masked["Credentials"]["AccessKeyId"] == "STS.x" and masked["fields"][0]["key"] == "k"


def test_mask_text_and_filter_mask_free_text() -> None:
    text = (
        f'GET /k?security-token={SECRET}&Expires=1 {{"AccessKeySecret": "{SECRET}"}} '
        f"{{'password': '{SECRET}'}}\nAuthorization: OSS ak:{SECRET}"
    )
    assert SECRET not in mask_text(text)
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "token %s", (f"x-oss-signature={SECRET}",), None
    )
    SecretMaskingFilter().filter(record)
    assert SECRET not in record.getMessage()
