"""PostObject keeps PutObject's metadata rules: user metadata over 8 KB (x-oss-meta-* form fields, counted
in UTF-8 bytes as sent) and an unknown x-oss-object-acl are refused exactly as PutObject refuses the same
headers, and nothing is stored. Forms are built as the official samples build them (tests/sdk/conftest.py).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import oss2
import pytest
import requests

from helpers.localcloud.server import LocalCloudServer
from tests.sdk.conftest import BUCKET, post_form_v1, send_post_form

pytestmark = pytest.mark.usefixtures("workbook_bucket")

RANGE = [["content-length-range", 0, 1024]]


@pytest.fixture
def admin_keys(creds: dict[str, Any]) -> tuple[str, str]:
    return creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"]


def _refusal(resp: requests.Response) -> tuple[int, str, str, str]:
    root = ET.fromstring(resp.content)
    code, message, ec = (root.findtext(n) or "" for n in ("Code", "Message", "EC"))
    return resp.status_code, code, message, ec


def _put_refusal(bucket: oss2.Bucket, key: str, headers: dict[str, Any]) -> tuple[int, str, str, str]:
    with pytest.raises(oss2.exceptions.OssError) as info:
        bucket.put_object(key, b"x", headers=headers)
    err = info.value
    return err.status, err.code, err.message, err.ec


def _post(cloud: LocalCloudServer, keys: tuple[str, str], key: str, **fields: str) -> requests.Response:
    form = post_form_v1(*keys, key, [["eq", "$bucket", BUCKET], *RANGE], **fields)
    return send_post_form(cloud, form, b"x")


def test_post_object_refuses_user_meta_over_8k_like_put_object(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, admin_keys: tuple[str, str],
        unique: Callable[[str], str]) -> None:
    key = f"post-meta/{unique('big')}"
    put = _put_refusal(workbook_bucket, key, {"x-oss-meta-big": "v" * 9000})
    assert put[:2] == (400, "InvalidArgument") and put[3] == "0011-00000002"
    resp = _post(cloud, admin_keys, key, **{"x-oss-meta-big": "v" * 9000})
    assert _refusal(resp) == put
    assert not workbook_bucket.object_exists(key)
    assert _post(cloud, admin_keys, key, **{"x-oss-meta-big": "v" * 8000}).status_code == 204
    assert workbook_bucket.head_object(key).headers["x-oss-meta-big"] == "v" * 8000


def test_post_object_meta_limit_counts_utf8_bytes(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, admin_keys: tuple[str, str],
        unique: Callable[[str], str]) -> None:
    room = 8192 - len("x-oss-meta-big")
    at_limit = "测" * (room // 3) + "x" * (room % 3)
    assert len(at_limit.encode()) == room
    key = f"post-meta/{unique('utf8')}"
    assert _post(cloud, admin_keys, key, **{"x-oss-meta-big": at_limit}).status_code == 204
    # One byte more is refused, though the value has fewer than 3000 characters.
    resp = _post(cloud, admin_keys, key + "2", **{"x-oss-meta-big": at_limit + "y"})
    assert _refusal(resp)[:2] == (400, "InvalidArgument") and _refusal(resp)[3] == "0011-00000002"
    assert not workbook_bucket.object_exists(key + "2")


def test_post_object_refuses_unknown_acl_like_put_object(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, admin_keys: tuple[str, str],
        unique: Callable[[str], str]) -> None:
    key = f"post-meta/{unique('acl')}"
    put = _put_refusal(workbook_bucket, key, {"x-oss-object-acl": "world-writable"})
    resp = _post(cloud, admin_keys, key, **{"x-oss-object-acl": "world-writable"})
    assert _refusal(resp) == put and put[:2] == (400, "InvalidArgument")
    assert not workbook_bucket.object_exists(key)
    assert _post(cloud, admin_keys, key, **{"x-oss-object-acl": "public-read"}).status_code == 204
    assert workbook_bucket.get_object_acl(key).acl == "public-read"
