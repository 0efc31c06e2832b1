"""`callback-var` as real OSS takes it (oss-behaviours §5), through oss2 signed URLs and the v2 SDK's
`x-oss-callback-var` header against the local cloud.

* oss2 2.19.1 `test_sign_url_with_callback`: a presigned PUT with `callback` + `callback-var` query
  parameters and a callbackUrl host that does not resolve gets 203 CallbackFailed; the object is kept.
* Variables whose names lack the `x:` prefix do not make the request fail; they are never substituted
  [unverified: the older doc says "returns an error" without a Code or EC].
"""

from __future__ import annotations

import base64
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from tests.sdk.conftest import CallbackApp, b64json

# RFC 6761: never resolves, and the local cloud fails it without a DNS lookup.
UNRESOLVABLE = "http://nonexistent.invalid"
CONNECT_FAILED = "Error Status : -1.OSS can not connect to your callbackUrl, please check it"


def encode_callback(doc: dict[str, str]) -> str:
    """What oss2's test helper meant to do: json.dumps, strip, base64."""
    return oss2.compat.to_string(base64.b64encode(oss2.compat.to_bytes(json.dumps(doc).strip())))


def callback_failed(status: int, body: bytes, headers: Mapping[str, str], request_id: str) -> None:
    """A 203 CallbackFailed for a callbackUrl OSS cannot connect to, in the OSS error format."""
    root = ET.fromstring(body)
    assert status == 203
    assert (root.tag, root.findtext("Code"), root.findtext("Message")) == ("Error", "CallbackFailed",
                                                                           CONNECT_FAILED)
    assert (root.findtext("EC"), headers["x-oss-ec"]) == ("0007-00000203", "0007-00000203")
    assert root.findtext("RequestId") == request_id


def test_oss2_sign_url_with_callback_unresolvable_host_gives_203(workbook_bucket: oss2.Bucket,
                                                                  unique: Callable[[str], str]) -> None:
    """oss2 tests/test_object.py `test_sign_url_with_callback`, with an RFC 6761 host.

    Its `encode_callback(cb_dict)` ignores its argument and encodes the enclosing `callback_params`,
    so the `callback-var` real OSS got was `{"callbackUrl": ..., "callbackBody": ...}`: keys without
    `x:`. OSS still answered 203, which is the evidence that such keys are not refused.
    """
    key = f"cbv/{unique('signurl')}"

    def encode_callback(cb_dict: dict[str, str]) -> str:
        cb_str = json.dumps(callback_params).strip()
        return oss2.compat.to_string(base64.b64encode(oss2.compat.to_bytes(cb_str)))

    callback_params = {"callbackUrl": UNRESOLVABLE, "callbackBody": "bucket=${bucket}&object=${object}"}
    encoded_callback = encode_callback(callback_params)
    callback_var_params = {"x:my_var1": "my_val1", "x:my_var2": "my_val2"}
    encoded_callback_var = encode_callback(callback_var_params)
    assert json.loads(base64.b64decode(encoded_callback_var)) == callback_params

    params = {"callback": encoded_callback, "callback-var": encoded_callback_var}
    url = workbook_bucket.sign_url("PUT", key, 60, params=params)
    started = time.monotonic()
    resp = requests.put(url, timeout=30)
    assert time.monotonic() - started < 3
    assert resp.status_code == 203
    callback_failed(resp.status_code, resp.content, resp.headers, resp.headers["x-oss-request-id"])
    assert workbook_bucket.get_object(key).read() == b""     # the upload itself stands


def test_oss2_sign_url_with_x_callback_var_unresolvable_host_gives_203(
        workbook_bucket: oss2.Bucket, unique: Callable[[str], str]) -> None:
    """The same test as its author meant it: `x:` variables in the signed query."""
    key = f"cbv/{unique('signurlx')}"
    params = {"callback": encode_callback({"callbackUrl": UNRESOLVABLE, "callbackBody": "o=${object}"}),
              "callback-var": encode_callback({"x:my_var1": "my_val1", "x:my_var2": "my_val2"})}
    resp = requests.put(workbook_bucket.sign_url("PUT", key, 60, params=params), data=b"x", timeout=30)
    callback_failed(resp.status_code, resp.content, resp.headers, resp.headers["x-oss-request-id"])
    assert workbook_bucket.get_object(key).read() == b"x"


def test_oss2_put_object_with_url_keys_without_x_prefix_are_taken(workbook_bucket: oss2.Bucket,
                                                                   unique: Callable[[str], str]) -> None:
    key = f"cbv/{unique('noprefix')}"
    params = {"callback": encode_callback({"callbackUrl": UNRESOLVABLE, "callbackBody": "o=${object}"}),
              "callback-var": encode_callback({"my_var": "v", "UPPER": "w", "x:ok": "fine"})}
    url = workbook_bucket.sign_url("PUT", key, 60, params=params)
    started = time.monotonic()
    result = workbook_bucket.put_object_with_url(url, b"kept despite the callback")
    assert time.monotonic() - started < 3
    callback_failed(result.status, result.resp.read(), result.headers, result.request_id)
    assert workbook_bucket.get_object(key).read() == b"kept despite the callback"


def test_oss2_signed_url_keys_without_x_prefix_are_not_substituted(workbook_bucket: oss2.Bucket,
                                                                    callback_app: CallbackApp,
                                                                    unique: Callable[[str], str]) -> None:
    key = f"cbv/{unique('subst')}"
    body = "object=${object}&plain=${my_var}&prefixed=${x:my_var}&bucket=${bucket}"
    params = {"callback": encode_callback({"callbackUrl": callback_app.url, "callbackBody": body}),
              "callback-var": encode_callback({"my_var": "plain", "x:my_var": "prefixed", "bucket": "x"})}
    result = workbook_bucket.put_object_with_url(workbook_bucket.sign_url("PUT", key, 60, params=params),
                                                 b"body")
    assert (result.status, result.resp.read()) == (200, b'{"Status":"OK"}')
    received = callback_app.only()
    assert received.signature_ok
    assert received.form() == {"object": key, "plain": "", "prefixed": "prefixed", "bucket": "workbook"}


@pytest.fixture
def v2(admin_v2_client: oss.Client, workbook_bucket: oss2.Bucket) -> oss.Client:
    return admin_v2_client


def test_v2_header_callback_var_without_x_prefix_unresolvable_host_gives_203(
        v2: oss.Client, workbook_bucket: oss2.Bucket, unique: Callable[[str], str]) -> None:
    key = f"cbv/{unique('v2')}"
    started = time.monotonic()
    result = v2.put_object(oss.PutObjectRequest(
        bucket="workbook", key=key, body=b"v2 body",
        callback=b64json({"callbackUrl": UNRESOLVABLE, "callbackBody": "o=${object}&v=${var}"}),
        callback_var=b64json({"var": "no prefix", "x:var": "prefix"})))
    assert time.monotonic() - started < 3
    assert result.callback_result is not None
    callback_failed(result.status_code, result.callback_result.encode(), result.headers, result.request_id)
    assert workbook_bucket.get_object(key).read() == b"v2 body"


def test_v2_header_callback_var_without_x_prefix_reaches_app(
        v2: oss.Client, callback_app: CallbackApp, unique: Callable[[str], str]) -> None:
    key = f"cbv/{unique('v2ok')}"
    result = v2.put_object(oss.PutObjectRequest(
        bucket="workbook", key=key, body=b"v2 body",
        callback=b64json({"callbackUrl": callback_app.url, "callbackBodyType": "application/json",
                          "callbackBody": '{"v":${var},"x":${x:var},"size":${size}}'}),
        callback_var=b64json({"var": "no prefix", "x:var": "prefix"})))
    assert (result.status_code, result.callback_result) == (200, '{"Status":"OK"}')
    assert callback_app.only().json() == {"v": "", "x": "prefix", "size": "7"}


def test_non_string_x_value_is_still_refused(workbook_bucket: oss2.Bucket, callback_app: CallbackApp,
                                             unique: Callable[[str], str]) -> None:
    key = f"cbv/{unique('nonstr')}"
    with pytest.raises(oss2.exceptions.ServerError) as exc:
        workbook_bucket.put_object(key, b"never stored", headers={
            "x-oss-callback": b64json({"callbackUrl": callback_app.url, "callbackBody": "a=${x:n}"}),
            "x-oss-callback-var": b64json({"x:n": 1})})
    assert (exc.value.status, exc.value.code, exc.value.message) == (
        400, "InvalidArgument", "The value of callback-var 'x:n' must be a string.")
    assert not workbook_bucket.object_exists(key)
    assert callback_app.received == []
