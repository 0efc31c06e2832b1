"""PostObject (browser form upload) over HTTP against the running local cloud.

Forms are built the way the official samples build them — oss2 `examples/object_post.py` (V1:
OSSAccessKeyId + policy + Signature, empty x-oss-security-token) and alibabacloud_oss_v2
`sample/post_object.py` (V4: x-oss-signature-version / x-oss-credential / x-oss-date in the policy,
hex HMAC-SHA256 with the aliyun_v4 key chain) — and sent with `requests.post(files=...)` to
`<oss_endpoint>/workbook` (path style). Stored objects are read back with oss2.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import oss2
import pytest
import requests

from helpers.localcloud.server import LocalCloudServer
from tests.sdk.conftest import (
    BUCKET,
    StsCredentials,
    assume_role,
    crc64,
    oss_error,
    post_form_v1,
    post_form_v4,
    send_post_form,
)

pytestmark = pytest.mark.usefixtures("workbook_bucket")


@pytest.fixture
def admin_keys(creds: dict[str, Any]) -> tuple[str, str]:
    return creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"]


RANGE = [["content-length-range", 0, 104857600]]


# ------------------------------------------------------------------------------------------- success

def test_post_object_v1_admin_key_stores_object_and_answers_204(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, admin_keys: tuple[str, str],
        unique: Callable[[str], str]) -> None:
    key = f"post/{unique('v1')}.txt"
    content = b"hello from a browser form\n"
    fields = post_form_v1(*admin_keys, key, [["eq", "$bucket", BUCKET], *RANGE],
                     **{"Content-Disposition": "attachment;filename=cc.txt", "x-oss-meta-uuid": "uuid-xxx",
                        "x:var1": "callback-var1-val"})
    resp = send_post_form(cloud, fields, content)
    assert resp.status_code == 204, resp.text
    assert resp.content == b""
    assert resp.headers["x-oss-hash-crc64ecma"] == str(crc64(content))
    assert resp.headers["ETag"] == f'"{hashlib.md5(content).hexdigest().upper()}"'
    assert resp.headers["x-oss-request-id"]
    stored = workbook_bucket.get_object(key)
    assert stored.read() == content
    assert stored.content_type == "text/plain"
    assert stored.headers["x-oss-meta-uuid"] == "uuid-xxx"
    assert stored.headers["Content-Disposition"] == "attachment;filename=cc.txt"


def test_post_object_v4_sts_credentials_stores_object(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, sts_credentials: StsCredentials,
        unique: Callable[[str], str]) -> None:
    key = f"post/{unique('v4')}.bin"
    content = b"hi oss"
    fields = post_form_v4(sts_credentials.access_key_id, sts_credentials.access_key_secret, key,
                     [["content-length-range", 1, 1024]], token=sts_credentials.security_token,
                     **{"x-oss-meta-who": "sts"})
    resp = send_post_form(cloud, fields, content, content_type=None)
    assert resp.status_code == 204, resp.text
    assert resp.headers["x-oss-hash-crc64ecma"] == str(crc64(content))
    stored = workbook_bucket.get_object(key)
    assert stored.read() == content
    assert stored.headers["x-oss-meta-who"] == "sts"
    assert stored.server_crc == crc64(content)


@pytest.mark.parametrize("status", ["200", "201", "204"])
def test_post_object_success_action_status_sets_status(
        cloud: LocalCloudServer, admin_keys: tuple[str, str], unique: Callable[[str], str],
        status: str) -> None:
    key = f"post/{unique('status')}"
    content = b"status test"
    resp = send_post_form(cloud, post_form_v1(*admin_keys, key, RANGE, success_action_status=status), content)
    assert resp.status_code == int(status), resp.text
    etag = f'"{hashlib.md5(content).hexdigest().upper()}"'
    assert resp.headers["ETag"] == etag
    if status == "201":
        assert resp.headers["Content-Type"] == "application/xml"
        root = ET.fromstring(resp.content)
        assert root.tag == "PostResponse"
        assert (root.findtext("Bucket"), root.findtext("Key"), root.findtext("ETag")) == (BUCKET, key, etag)
        assert root.findtext("Location", "").endswith(f"/{key}")
    else:
        assert resp.content == b""


def test_post_object_x_oss_content_type_overrides_file_part(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, admin_keys: tuple[str, str],
        unique: Callable[[str], str]) -> None:
    key = f"post/{unique('ctype')}"
    fields = post_form_v1(*admin_keys, key, RANGE, **{"x-oss-content-type": "image/png"})
    resp = send_post_form(cloud, fields, b"\x89PNG")
    assert resp.status_code == 204, resp.text
    assert workbook_bucket.head_object(key).content_type == "image/png"


# ------------------------------------------------------------------------------------------ failures

def test_post_object_expired_policy_is_access_denied(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, admin_keys: tuple[str, str],
        unique: Callable[[str], str], clock: Any) -> None:
    key = f"post/{unique('expired')}"
    fields = post_form_v1(*admin_keys, key, RANGE, expires_in=60)
    clock.advance(120)
    resp = send_post_form(cloud, fields, b"late")
    assert oss_error(resp) == (403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    assert not workbook_bucket.object_exists(key)


def test_post_object_key_outside_starts_with_is_access_denied(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, admin_keys: tuple[str, str],
        unique: Callable[[str], str]) -> None:
    key = f"elsewhere/{unique('key')}"
    fields = post_form_v1(*admin_keys, key, [["starts-with", "$key", "user/eric/"]])
    resp = send_post_form(cloud, fields, b"x")
    assert oss_error(resp) == (403, "AccessDenied", 'Invalid according to Policy: Policy Condition failed: '
                                                    '["starts-with", "$key", "user/eric/"]')
    assert not workbook_bucket.object_exists(key)


@pytest.mark.parametrize(("size", "code", "message"), [
    (11, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size."),
    (4, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size."),
])
def test_post_object_size_outside_content_length_range_stores_nothing(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, admin_keys: tuple[str, str],
        unique: Callable[[str], str], size: int, code: str, message: str) -> None:
    key = f"post/{unique('range')}"
    fields = post_form_v1(*admin_keys, key, [["content-length-range", 5, 10]])
    resp = send_post_form(cloud, fields, b"z" * size)
    assert oss_error(resp) == (400, code, message)
    assert not workbook_bucket.object_exists(key)


def test_post_object_bad_signature_is_signature_does_not_match(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, admin_keys: tuple[str, str],
        unique: Callable[[str], str]) -> None:
    key = f"post/{unique('badsig')}"
    resp = send_post_form(cloud, post_form_v1(admin_keys[0], admin_keys[1] + "x", key, RANGE), b"x")
    assert oss_error(resp) == (403, "SignatureDoesNotMatch",
                               "The request signature we calculated does not match the signature you "
                               "provided. Check your key and signing method.")
    assert not workbook_bucket.object_exists(key)


def test_post_object_unknown_access_key_is_invalid_access_key_id(
        cloud: LocalCloudServer, unique: Callable[[str], str]) -> None:
    fields = post_form_v1("LTAI5tUnknownKey000000", "secret", f"post/{unique('ak')}", RANGE)
    resp = send_post_form(cloud, fields, b"x")
    assert oss_error(resp) == (403, "InvalidAccessKeyId",
                               "The OSS Access Key Id you provided does not exist in our records.")
    assert ET.fromstring(resp.content).findtext("OSSAccessKeyId") == "LTAI5tUnknownKey000000"


def test_post_object_without_file_field_is_incorrect_number_of_files(
        cloud: LocalCloudServer, admin_keys: tuple[str, str], unique: Callable[[str], str]) -> None:
    fields = post_form_v1(*admin_keys, f"post/{unique('nofile')}", RANGE)
    # (None, value) parts make requests send multipart/form-data with text fields only.
    resp = requests.post(f"{cloud.oss_endpoint}/{BUCKET}", files={k: (None, v) for k, v in fields.items()},
                         timeout=10)
    assert oss_error(resp) == (400, "IncorrectNumberOfFilesInPOSTRequest",
                               "POST requires exactly one file upload per request.")


def test_post_object_urlencoded_body_is_malformed_post_request(
        cloud: LocalCloudServer, admin_keys: tuple[str, str], unique: Callable[[str], str]) -> None:
    resp = requests.post(f"{cloud.oss_endpoint}/{BUCKET}",
                         data=post_form_v1(*admin_keys, f"post/{unique('form')}", RANGE), timeout=10)
    assert resp.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert oss_error(resp) == (400, "MalformedPOSTRequest",
                               "The body of your POST request is not well-formed multipart/form-data.")


def test_post_object_truncated_body_is_malformed_and_stores_nothing(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, admin_keys: tuple[str, str],
        unique: Callable[[str], str]) -> None:
    key = f"post/{unique('cut')}"
    prepared = requests.Request("POST", f"{cloud.oss_endpoint}/{BUCKET}",
                                data=post_form_v1(*admin_keys, key, RANGE),
                                files={"file": ("a.txt", b"0123456789" * 100, "text/plain")}).prepare()
    body = prepared.body
    assert isinstance(body, bytes)
    cut = body[: body.rindex(b"0123456789") + 5]   # the body ends inside the file part
    resp = requests.post(prepared.url, data=cut, headers={"Content-Type": prepared.headers["Content-Type"]},
                         timeout=10)
    assert oss_error(resp) == (400, "MalformedPOSTRequest",
                               "The body of your POST request is not well-formed multipart/form-data.")
    assert not workbook_bucket.object_exists(key)


def test_post_object_key_outside_session_policy_is_access_denied(
        cloud: LocalCloudServer, creds: dict[str, Any], workbook_bucket: oss2.Bucket,
        unique: Callable[[str], str]) -> None:
    session_policy = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:PutObject",
                                                     "Resource": f"acs:oss:*:*:{BUCKET}/uploads/alice/*"}]}
    sts = assume_role(creds, cloud, policy=session_policy, session_name="alice")
    allowed, denied = f"uploads/alice/{unique('ok')}", f"uploads/bob/{unique('no')}"
    for key, expected in ((allowed, 204), (denied, 403)):
        fields = post_form_v4(sts.access_key_id, sts.access_key_secret, key, RANGE, token=sts.security_token)
        resp = send_post_form(cloud, fields, b"session policy")
        assert resp.status_code == expected, resp.text
    assert oss_error(resp) == (403, "AccessDenied", "Access denied by authorizer's policy.")
    assert workbook_bucket.object_exists(allowed)
    assert not workbook_bucket.object_exists(denied)


def test_post_object_anonymous_to_private_bucket_is_access_denied(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, unique: Callable[[str], str]) -> None:
    key = f"post/{unique('anon')}"
    resp = send_post_form(cloud, {"key": key}, b"anonymous")
    assert oss_error(resp) == (403, "AccessDenied",
                               "You have no right to access this object because of bucket acl.")
    assert not workbook_bucket.object_exists(key)
