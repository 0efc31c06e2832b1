"""helpers.protocol.post_form: signatures equal the official SDKs' own HMAC code, and forms signed
here are accepted by a local cloud (and refused once tampered) through plain HTTP."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import oss2
import pytest
import requests
from alibabacloud_oss_v2.signer import SignerV1, SignerV4

from helpers.localcloud.server import LocalCloudServer
from helpers.protocol import post_form

REGION = "cn-hangzhou"
SECRET = "secret-of-the-test-key"


def test_sign_v1_equals_v2_sdk_signer_v1() -> None:
    policy = post_form.encode_policy(0, [{"bucket": "b"}])
    assert post_form.sign_v1(SECRET, policy) == SignerV1()._calc_signature(SECRET, policy)


@pytest.mark.parametrize("product", ["oss", "other"])
def test_sign_v4_equals_v2_sdk_signer_v4(product: str) -> None:
    policy = post_form.encode_policy(0, [{"bucket": "b"}])
    ours = post_form.sign_v4(SECRET, policy, date="20260101", region=REGION, product=product)
    assert ours == SignerV4()._calc_signature(SECRET, "20260101", REGION, product, policy)


def test_encode_policy_formats_epoch_expiration_with_millis() -> None:
    doc = json.loads(base64.b64decode(post_form.encode_policy(86400.9, [["eq", "$key", "k"]])))
    assert doc == {"expiration": "1970-01-02T00:00:00.000Z", "conditions": [["eq", "$key", "k"]]}


def test_form_v4_names_its_three_fields_in_the_policy() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    fields = post_form.form_v4(access_key_id="AK", secret=SECRET, region=REGION, expires=0,
                               conditions=[{"bucket": "b"}], security_token="tok", now=now)
    assert fields["x-oss-credential"] == f"AK/20260102/{REGION}/oss/aliyun_v4_request"
    assert fields["x-oss-date"] == "20260102T030405Z"
    conditions = json.loads(base64.b64decode(fields["policy"]))["conditions"]
    assert conditions[0] == {"bucket": "b"}
    for name in ("x-oss-signature-version", "x-oss-credential", "x-oss-date"):
        assert {name: fields[name]} in conditions
    assert fields["x-oss-security-token"] == "tok"


def test_form_v1_without_token_has_no_token_field() -> None:
    fields = post_form.form_v1(access_key_id="AK", secret=SECRET, expires=0, conditions=[])
    assert set(fields) == {"OSSAccessKeyId", "policy", "Signature"}


def _post(cloud: LocalCloudServer, fields: dict[str, str], key: str) -> requests.Response:
    return requests.post(f"{cloud.oss_endpoint}/workbook", data={"key": key, **fields},
                         files={"file": ("f.txt", b"hello", "text/plain")}, timeout=10)


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_signed_form_is_accepted_by_local_cloud_and_tampered_one_refused(
        cloud: LocalCloudServer, creds: dict[str, Any], workbook_bucket: oss2.Bucket, unique: Any,
        version: str) -> None:
    ak, secret = creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"]
    key = unique("protocol-form") + ".txt"
    conditions: list[Any] = [{"bucket": "workbook"}, ["eq", "$key", key]]
    if version == "v1":
        fields = post_form.form_v1(access_key_id=ak, secret=secret, expires=time.time() + 300,
                                   conditions=conditions)
    else:
        fields = post_form.form_v4(access_key_id=ak, secret=secret, region=REGION, expires=time.time() + 300,
                                   conditions=conditions)
    assert _post(cloud, fields, key).status_code in (200, 204), "a form signed here is accepted"
    other = post_form.encode_policy(time.time() + 300, [{"bucket": "workbook"}])
    r = _post(cloud, {**fields, "policy": other}, key)
    assert r.status_code == 403 and b"SignatureDoesNotMatch" in r.content
