"""Upload callbacks end to end: the real SDKs upload to the local cloud, which POSTs a signed callback to a
loopback app server (`callback_app`) that verifies the RSA-MD5 signature with the PEM fetched from the
`x-oss-pub-key-url` it was given, exactly as the official app-server sample does (reference §7).
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from helpers.localcloud.server import LocalCloudServer
from tests.sdk.conftest import (
    CallbackApp,
    ReceivedCallback,
    b64json,
    crc64,
    md5_b64,
    post_form_v1,
    send_post_form,
)

FORM_BODY = ("bucket=${bucket}&object=${object}&size=${size}&etag=${etag}&mimeType=${mimeType}"
             "&crc64=${crc64}&contentMd5=${contentMd5}&operation=${operation}&my_var=${x:my_var}")
JSON_BODY = ('{"bucket":${bucket},"object":${object},"size":${size},"etag":${etag},"mimeType":${mimeType},'
             '"crc64":${crc64},"contentMd5":${contentMd5},"operation":${operation},"my_var":${x:my_var}}')
APP_ANSWER = b'{"Status":"OK","from":"app"}'


def callback(url: str, body: str = FORM_BODY, body_type: str | None = None) -> str:
    doc = {"callbackUrl": url, "callbackBody": body}
    if body_type:
        doc["callbackBodyType"] = body_type
    return b64json(doc)


def assert_genuine(cb: ReceivedCallback, cloud: LocalCloudServer) -> None:
    """Signed by the local cloud, with the key it publishes on its own port."""
    assert cb.pub_key_url == f"{cloud.oss_endpoint}/_localcloud/callback_pub_key_v1.pem"
    assert cb.signature_ok
    assert cb.headers["x-oss-bucket"] == "workbook"
    assert cb.headers["content-md5"] == md5_b64(cb.body)


def failure_of(body: bytes) -> tuple[str, str]:
    root = ET.fromstring(body)
    return root.findtext("Code") or "", root.findtext("Message") or ""


@pytest.fixture
def app(callback_app: CallbackApp) -> CallbackApp:
    callback_app.answer = APP_ANSWER
    return callback_app


@pytest.fixture
def v2_client(admin_v2_client: oss.Client, workbook_bucket: oss2.Bucket) -> oss.Client:
    return admin_v2_client


# ------------------------------------------------------------------------------------------ success

@pytest.mark.parametrize("body_type", ["application/x-www-form-urlencoded", "application/json"])
def test_callback_oss2_put_object_relays_app_answer(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, app: CallbackApp,
        unique: Callable[[str], str], body_type: str) -> None:
    key = f"cb/{unique('put')} name.txt"
    content = b"callback me, please"
    body = FORM_BODY if body_type.endswith("urlencoded") else JSON_BODY
    headers = {"x-oss-callback": callback(f"{app.url}/notify?from=oss", body, body_type),
               "x-oss-callback-var": b64json({"x:my_var": "hello world/ä"}), "Content-Type": "text/plain"}
    result = workbook_bucket.put_object(key, content, headers=headers)
    assert result.status == 200
    assert result.resp.read() == APP_ANSWER
    assert result.resp.headers["Content-Type"] == "application/json"
    assert result.crc == crc64(content)
    cb = app.only()
    assert_genuine(cb, cloud)
    assert cb.path == "/notify?from=oss"
    assert cb.headers["content-type"] == body_type
    got = cb.form() if body_type.endswith("urlencoded") else cb.json()
    assert got == {"bucket": "workbook", "object": key, "size": str(len(content)), "etag": result.etag,
                   "mimeType": "text/plain", "crc64": str(crc64(content)), "contentMd5": md5_b64(content),
                   "operation": "PutObject", "my_var": "hello world/ä"}
    assert workbook_bucket.get_object(key).read() == content


def test_callback_v2_put_object_sets_callback_result(
        cloud: LocalCloudServer, v2_client: oss.Client, app: CallbackApp,
        unique: Callable[[str], str]) -> None:
    key = f"cb/{unique('v2')}"
    result = v2_client.put_object(oss.PutObjectRequest(
        bucket="workbook", key=key, body=b"from the v2 sdk",
        callback=callback(app.url, JSON_BODY, "application/json"),
        callback_var=b64json({"x:my_var": "v2"})))
    assert result.status_code == 200
    assert result.callback_result == APP_ANSWER.decode()
    cb = app.only()
    assert_genuine(cb, cloud)
    assert cb.json()["my_var"] == "v2"
    assert cb.json()["size"] == "15"


def test_callback_presigned_put_with_query_params(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, app: CallbackApp,
        unique: Callable[[str], str]) -> None:
    key = f"cb/{unique('url')}"
    url = workbook_bucket.sign_url("PUT", key, 60, params={
        "callback": callback(app.url), "callback-var": b64json({"x:my_var": "query"})})
    result = workbook_bucket.put_object_with_url(url, b"signed url body")
    assert result.status == 200
    assert result.resp.read() == APP_ANSWER
    cb = app.only()
    assert_genuine(cb, cloud)
    assert (cb.form()["object"], cb.form()["my_var"]) == (key, "query")


def test_callback_complete_multipart_upload_replaces_xml_with_app_answer(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, app: CallbackApp,
        unique: Callable[[str], str]) -> None:
    key = f"cb/{unique('mpu')}"
    parts = [b"a" * (100 * 1024), b"tail"]
    upload_id = workbook_bucket.init_multipart_upload(key).upload_id
    infos = [oss2.models.PartInfo(n, workbook_bucket.upload_part(key, upload_id, n, data).etag)
             for n, data in enumerate(parts, start=1)]
    result = workbook_bucket.complete_multipart_upload(
        key, upload_id, infos, headers={"x-oss-callback": callback(app.url),
                                        "x-oss-callback-var": b64json({"x:my_var": "mpu"})})
    assert result.status == 200
    assert result.resp.read() == APP_ANSWER
    cb = app.only()
    assert_genuine(cb, cloud)
    form = cb.form()
    whole = b"".join(parts)
    assert (form["operation"], form["size"], form["crc64"], form["contentMd5"], form["my_var"]) == (
        "CompleteMultipartUpload", str(len(whole)), str(crc64(whole)), "", "mpu")
    assert workbook_bucket.get_object(key).read() == whole


def test_callback_post_object_uses_callback_field_and_x_fields(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, creds: dict[str, Any], app: CallbackApp,
        unique: Callable[[str], str]) -> None:
    key = f"cb/{unique('post')}"
    fields = post_form_v1(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"], key,
                          [["content-length-range", 0, 1024]], callback=callback(app.url),
                          success_action_status="201", **{"x:my_var": "form field"})
    resp = send_post_form(cloud, fields, b"posted with callback")
    # The app's answer replaces the 201 PostResponse XML, status and type included.
    assert resp.status_code == 200, resp.text
    assert resp.content == APP_ANSWER
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.headers["x-oss-hash-crc64ecma"] == str(crc64(b"posted with callback"))
    cb = app.only()
    assert_genuine(cb, cloud)
    assert cb.headers["x-oss-requester"] == creds["account_id"]
    form = cb.form()
    assert (form["operation"], form["object"], form["my_var"], form["mimeType"]) == (
        "PostObject", key, "form field", "text/plain")


# ------------------------------------------------------------------------------------------ failures

def test_callback_app_answers_500_gives_203_and_keeps_object(
        workbook_bucket: oss2.Bucket, app: CallbackApp, unique: Callable[[str], str]) -> None:
    app.status = 500
    key = f"cb/{unique('500')}"
    result = workbook_bucket.put_object(key, b"kept", headers={"x-oss-callback": callback(app.url)})
    assert result.status == 203
    assert failure_of(result.resp.read()) == ("CallbackFailed", "Error status : 500.")
    assert len(app.received) == 1
    assert workbook_bucket.get_object(key).read() == b"kept"


def test_callback_app_never_answers_gives_203_after_timeout(
        workbook_bucket: oss2.Bucket, app: CallbackApp, unique: Callable[[str], str]) -> None:
    app.hang = True
    key = f"cb/{unique('slow')}"
    started = time.monotonic()
    result = workbook_bucket.put_object(key, b"slow app", headers={"x-oss-callback": callback(app.url)})
    elapsed = time.monotonic() - started
    assert result.status == 203
    assert failure_of(result.resp.read()) == ("CallbackFailed", "Cost too long time")
    assert 4.5 <= elapsed < 8
    assert workbook_bucket.get_object(key).read() == b"slow app"


@pytest.mark.parametrize(("header", "message"), [
    ("bm90IGpzb24$$$", "The callback configuration is not base64 encoded."),
    (b64json({"callbackBody": "a=${object}"}), "The callbackUrl of the callback configuration is empty or "
                                               "invalid."),
])
def test_callback_bad_parameters_refused_before_storing(
        workbook_bucket: oss2.Bucket, app: CallbackApp, unique: Callable[[str], str],
        header: str, message: str) -> None:
    key = f"cb/{unique('bad')}"
    with pytest.raises(oss2.exceptions.ServerError) as exc:
        workbook_bucket.put_object(key, b"never stored", headers={"x-oss-callback": header})
    assert (exc.value.status, exc.value.code, exc.value.message) == (400, "InvalidArgument", message)
    assert not workbook_bucket.object_exists(key)
    assert app.received == []


def test_callback_bad_parameters_in_post_form_refused_before_storing(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, creds: dict[str, Any],
        unique: Callable[[str], str]) -> None:
    key = f"cb/{unique('badpost')}"
    fields = post_form_v1(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"], key,
                          [["content-length-range", 0, 1024]], callback="%%%")
    resp = requests.post(f"{cloud.oss_endpoint}/workbook", data=fields,
                         files={"file": ("f.txt", b"never stored", "text/plain")}, timeout=10)
    root = ET.fromstring(resp.content)
    assert (resp.status_code, root.findtext("Code"), root.findtext("Message")) == (
        400, "InvalidArgument", "The callback configuration is not base64 encoded.")
    assert not workbook_bucket.object_exists(key)
