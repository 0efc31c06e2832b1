"""Virtual-hosted-style requests: the bucket named by the Host header, the connection to 127.0.0.1.

The SDKs build virtual-host URLs for a real endpoint (`http://workbook.oss-cn-hangzhou.aliyuncs.com/k`)
and alibabacloud-oss-v2 for a `localhost` one (`http://workbook.localhost:PORT/k`). Here those exact
URLs are sent to the local cloud's loopback port with their Host header, as ali-oss does for an IP
endpoint and as a browser does for *.localhost. Signatures (V1 `/<bucket>/<key>`, V4 canonical URI
`/<bucket>/<key>`), signed URLs, PostObject, CORS preflights, HostId and the callback's ${bucket}
must come out as on path style.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import alibabacloud_oss_v2 as oss
import httpx
import oss2
import pytest
from oss2.models import BucketCors, CorsRule

from helpers.localcloud.server import LocalCloudServer
from tests.sdk.conftest import BUCKET, REGION, CallbackApp, b64json, post_form_v4

REAL_ENDPOINT = f"http://oss-{REGION}.aliyuncs.com"
ORIGIN = "http://127.0.0.1:8000"


def via_loopback(cloud: LocalCloudServer, method: str, sdk_url: str, **kw: Any) -> httpx.Response:
    """Send `sdk_url` to the local cloud's port, keeping its host in the Host header."""
    parts = urlsplit(sdk_url)
    target = f"{cloud.oss_endpoint}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
    headers = {"Host": parts.netloc, **kw.pop("headers", {})}
    return httpx.request(method, target, headers=headers, trust_env=False, timeout=30, **kw)


def xml_field(resp: httpx.Response, name: str) -> str:
    return ET.fromstring(resp.content).findtext(name) or ""


@pytest.fixture
def real_endpoint_bucket(creds: dict[str, Any],
                         workbook_bucket: oss2.Bucket) -> Callable[[bool], oss2.Bucket]:
    """oss2 pointed at the real service's endpoint (its URLs are virtual host), V1 or V4."""
    key_id, secret = creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"]

    def make(v4: bool) -> oss2.Bucket:
        if v4:
            return oss2.Bucket(oss2.AuthV4(key_id, secret), REAL_ENDPOINT, BUCKET, region=REGION)
        return oss2.Bucket(oss2.Auth(key_id, secret), REAL_ENDPOINT, BUCKET)
    return make


@pytest.mark.parametrize("v4", [False, True], ids=["v1", "v4"])
def test_signed_urls_of_a_real_endpoint_work_by_host_header(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket,
        real_endpoint_bucket: Callable[[bool], oss2.Bucket], unique: Callable[[str], str], v4: bool) -> None:
    bucket = real_endpoint_bucket(v4)
    key = f"vhost/{unique('url')}/a b+c.txt"
    put_url = bucket.sign_url("PUT", key, 60)
    assert urlsplit(put_url).netloc == f"{BUCKET}.oss-{REGION}.aliyuncs.com"
    assert via_loopback(cloud, "PUT", put_url, content=b"by host").status_code == 200
    assert workbook_bucket.get_object(key).read() == b"by host"      # the same object, path style
    got = via_loopback(cloud, "GET", bucket.sign_url("GET", key, 60))
    assert (got.status_code, got.content) == (200, b"by host")


def test_error_host_id_is_the_virtual_host(
        cloud: LocalCloudServer, real_endpoint_bucket: Callable[[bool], oss2.Bucket],
        unique: Callable[[str], str]) -> None:
    url = real_endpoint_bucket(True).sign_url("GET", f"vhost/{unique('missing')}", 60)
    resp = via_loopback(cloud, "GET", url)
    assert (resp.status_code, xml_field(resp, "Code")) == (404, "NoSuchKey")
    assert xml_field(resp, "HostId") == f"{BUCKET}.oss-{REGION}.aliyuncs.com"
    # A tampered signature is checked against `/<bucket>/<key>` too: refused, not misrouted.
    bad = via_loopback(cloud, "GET", url.replace("x-oss-signature=", "x-oss-signature=0"))
    assert (bad.status_code, xml_field(bad, "Code")) == (403, "SignatureDoesNotMatch")


def test_v2_sdk_localhost_endpoint_presigns_bucket_dot_localhost(
        cloud: LocalCloudServer, creds: dict[str, Any], workbook_bucket: oss2.Bucket,
        unique: Callable[[str], str]) -> None:
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"])
    cfg.region = REGION
    cfg.endpoint = cloud.oss_endpoint.replace("127.0.0.1", "localhost")
    client = oss.Client(cfg)
    key = f"vhost/{unique('v2')}.bin"
    put = client.presign(oss.PutObjectRequest(bucket=BUCKET, key=key))
    assert urlsplit(put.url).hostname == f"{BUCKET}.localhost"
    assert via_loopback(cloud, "PUT", put.url, content=b"v2 by host").status_code == 200
    got = via_loopback(cloud, "GET", client.presign(oss.GetObjectRequest(bucket=BUCKET, key=key)).url)
    assert (got.status_code, got.content) == (200, b"v2 by host")
    assert workbook_bucket.get_object(key).read() == b"v2 by host"


def test_post_object_to_bucket_dot_localhost(
        cloud: LocalCloudServer, creds: dict[str, Any], workbook_bucket: oss2.Bucket,
        unique: Callable[[str], str]) -> None:
    admin = creds["admin"]
    key = f"vhost/{unique('form')}.txt"
    fields = post_form_v4(admin["access_key_id"], admin["access_key_secret"], key, [])
    port = urlsplit(cloud.oss_endpoint).port
    resp = via_loopback(cloud, "POST", f"http://{BUCKET}.localhost:{port}/", data=fields,
                        files={"file": ("f.txt", b"form by host", "text/plain")})
    assert resp.status_code == 204, resp.text
    assert workbook_bucket.get_object(key).read() == b"form by host"


def test_cors_preflight_on_bucket_dot_localhost(
        cloud: LocalCloudServer, admin_auth: oss2.Auth, unique: Callable[[str], str]) -> None:
    name = unique("vcors")
    bucket = oss2.Bucket(admin_auth, cloud.oss_endpoint, name)
    bucket.create_bucket()
    try:
        bucket.put_bucket_cors(BucketCors([CorsRule(allowed_origins=[ORIGIN], allowed_methods=["PUT"],
                                                    allowed_headers=["*"], expose_headers=["ETag"])]))
        port = urlsplit(cloud.oss_endpoint).port
        resp = via_loopback(cloud, "OPTIONS", f"http://{name}.localhost:{port}/users/alice/a.bin",
                            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PUT",
                                     "Access-Control-Request-Headers": "authorization,x-oss-date"})
        assert resp.status_code == 200, resp.text
        assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "ETag" in resp.headers["Access-Control-Expose-Headers"]
    finally:
        bucket.delete_bucket_cors()
        bucket.delete_bucket()


def test_callback_bucket_variable_on_virtual_host(
        cloud: LocalCloudServer, workbook_bucket: oss2.Bucket, callback_app: CallbackApp,
        real_endpoint_bucket: Callable[[bool], oss2.Bucket], unique: Callable[[str], str]) -> None:
    key = f"vhost/{unique('cb')}.txt"
    cb = b64json({"callbackUrl": callback_app.url, "callbackBody": "bucket=${bucket}&object=${object}"})
    url = real_endpoint_bucket(True).sign_url("PUT", key, 60, params={"callback": cb})
    resp = via_loopback(cloud, "PUT", url, content=b"called back")
    assert resp.status_code == 200, resp.text
    got = callback_app.only()
    assert got.signature_ok
    assert got.form() == {"bucket": BUCKET, "object": key}
