"""Bucket CORS over HTTP: PutBucketCors / GetBucketCors / DeleteBucketCors through both SDKs, browser
preflights (OPTIONS) sent with httpx, and the CORS headers on an actual request carrying `Origin`.

Every test works on its own bucket, so CORS rules never leak into other tests.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

import alibabacloud_oss_v2 as oss
import httpx
import oss2
import pytest
import requests
from oss2.models import BucketCors, CorsRule

from helpers.localcloud.server import LocalCloudServer
from tests.sdk.conftest import oss_error, post_form_v1

APP_ORIGIN = "https://app.example.com"
FORBIDDEN = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
             "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "
             "are not whitelisted by the resource's CORS spec.")


@pytest.fixture
def cors_bucket(cloud: LocalCloudServer, admin_auth: oss2.Auth,
                unique: Callable[[str], str]) -> Iterator[oss2.Bucket]:
    """A fresh private bucket with no CORS rules, deleted afterwards."""
    bucket = oss2.Bucket(admin_auth, cloud.oss_endpoint, unique("cors"))
    bucket.create_bucket(oss2.BUCKET_ACL_PRIVATE)
    yield bucket
    for obj in oss2.ObjectIterator(bucket):
        bucket.delete_object(obj.key)
    bucket.delete_bucket()


def upload_rule() -> CorsRule:
    return CorsRule(allowed_origins=[APP_ORIGIN, "http://*.dev.example.com"], allowed_methods=["PUT", "POST"],
                    allowed_headers=["x-oss-*", "Content-Type"], expose_headers=["ETag", "x-oss-request-id"],
                    max_age_seconds=600)


def preflight(cloud: LocalCloudServer, bucket: str, origin: str, method: str = "PUT",
              request_headers: str | None = None) -> httpx.Response:
    """What a browser sends before a cross-origin upload: unsigned OPTIONS on the object URL."""
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers:
        headers["Access-Control-Request-Headers"] = request_headers
    return httpx.options(f"{cloud.oss_endpoint}/{bucket}/uploads/photo.jpg", headers=headers, trust_env=False)


# ------------------------------------------------------------------------------------ configuration

def test_cors_oss2_put_get_delete_round_trip(cors_bucket: oss2.Bucket) -> None:
    cors_bucket.put_bucket_cors(BucketCors([upload_rule(), CorsRule(allowed_origins=["*"],
                                                                    allowed_methods=["GET"])]))
    got = cors_bucket.get_bucket_cors()
    assert [(r.allowed_origins, r.allowed_methods, r.allowed_headers, r.expose_headers, r.max_age_seconds)
            for r in got.rules] == [
        # OSS answers AllowedHeader lowercased (oss-behaviours.md §6).
        ([APP_ORIGIN, "http://*.dev.example.com"], ["PUT", "POST"], ["x-oss-*", "content-type"],
         ["ETag", "x-oss-request-id"], 600),
        (["*"], ["GET"], [], [], None)]
    cors_bucket.delete_bucket_cors()
    with pytest.raises(oss2.exceptions.NoSuchCors) as exc:
        cors_bucket.get_bucket_cors()
    assert (exc.value.status, exc.value.message) == (404, "The CORS Configuration does not exist.")


def test_cors_v2_put_get_delete_round_trip_keeps_response_vary(
        admin_v2_client: oss.Client, cors_bucket: oss2.Bucket) -> None:
    name = cors_bucket.bucket_name
    config = oss.CORSConfiguration(
        cors_rules=[oss.CORSRule(allowed_origins=[APP_ORIGIN], allowed_methods=["GET", "HEAD"],
                                 allowed_headers=["*"], max_age_seconds=30)],
        response_vary=True)
    admin_v2_client.put_bucket_cors(oss.PutBucketCorsRequest(bucket=name, cors_configuration=config))
    got = admin_v2_client.get_bucket_cors(oss.GetBucketCorsRequest(bucket=name)).cors_configuration
    (rule,) = got.cors_rules
    assert (rule.allowed_origins, rule.allowed_methods, rule.allowed_headers, rule.max_age_seconds) == (
        [APP_ORIGIN], ["GET", "HEAD"], ["*"], 30)
    assert got.response_vary is True
    admin_v2_client.delete_bucket_cors(oss.DeleteBucketCorsRequest(bucket=name))
    with pytest.raises(oss.exceptions.OperationError) as exc:
        admin_v2_client.get_bucket_cors(oss.GetBucketCorsRequest(bucket=name))
    err = exc.value.unwrap()
    assert isinstance(err, oss.exceptions.ServiceError)
    assert (err.status_code, err.code) == (404, "NoSuchCORSConfiguration")


def test_cors_put_unsupported_method_is_invalid_argument(cors_bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.InvalidArgument) as exc:
        cors_bucket.put_bucket_cors(BucketCors([CorsRule(allowed_origins=["*"], allowed_methods=["PATCH"])]))
    assert exc.value.message == "Found unsupported HTTP method in CORS config. Unsupported method is PATCH."


# ---------------------------------------------------------------------------------------- preflight

def test_cors_preflight_allowed_origin_gets_allow_headers(cloud: LocalCloudServer,
                                                          cors_bucket: oss2.Bucket) -> None:
    cors_bucket.put_bucket_cors(BucketCors([upload_rule()]))
    resp = preflight(cloud, cors_bucket.bucket_name, APP_ORIGIN, "PUT", "Content-Type, x-oss-meta-owner")
    assert resp.status_code == 200, resp.text
    assert resp.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert resp.headers["Access-Control-Allow-Methods"] == "PUT, POST"
    assert resp.headers["Access-Control-Allow-Headers"] == "content-type, x-oss-meta-owner"
    assert resp.headers["Access-Control-Expose-Headers"] == "ETag, x-oss-request-id"
    assert resp.headers["Access-Control-Max-Age"] == "600"
    assert resp.headers["x-oss-request-id"]
    assert "Vary" not in resp.headers
    wildcard = preflight(cloud, cors_bucket.bucket_name, "http://web.dev.example.com", "POST")
    assert wildcard.headers["Access-Control-Allow-Origin"] == "http://web.dev.example.com"


def test_cors_preflight_through_v2_option_object(admin_v2_client: oss.Client,
                                                 cors_bucket: oss2.Bucket) -> None:
    cors_bucket.put_bucket_cors(BucketCors([upload_rule()]))
    result = admin_v2_client.option_object(oss.OptionObjectRequest(
        bucket=cors_bucket.bucket_name, key="a.txt", origin=APP_ORIGIN, access_control_request_method="PUT"))
    assert (result.status_code, result.access_control_allow_origin, result.access_control_max_age) == (
        200, APP_ORIGIN, 600)


@pytest.mark.parametrize(("origin", "method", "request_headers"), [
    ("https://evil.example.com", "PUT", None),              # origin not listed
    (APP_ORIGIN, "DELETE", None),                           # method not allowed
    (APP_ORIGIN, "PUT", "Authorization"),                   # header not whitelisted
])
def test_cors_preflight_not_allowed_is_403_access_forbidden(
        cloud: LocalCloudServer, cors_bucket: oss2.Bucket, origin: str, method: str,
        request_headers: str | None) -> None:
    cors_bucket.put_bucket_cors(BucketCors([upload_rule()]))
    resp = preflight(cloud, cors_bucket.bucket_name, origin, method, request_headers)
    assert oss_error(resp) == (403, "AccessForbidden", FORBIDDEN)
    assert resp.headers["Content-Type"] == "application/xml"
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_cors_preflight_bucket_without_rules_is_403(cloud: LocalCloudServer,
                                                    cors_bucket: oss2.Bucket) -> None:
    resp = preflight(cloud, cors_bucket.bucket_name, APP_ORIGIN)
    assert oss_error(resp) == (403, "AccessForbidden", FORBIDDEN)


# ---------------------------------------------------------------------------------- actual requests

def test_cors_actual_put_with_origin_carries_allow_origin(cors_bucket: oss2.Bucket) -> None:
    cors_bucket.put_bucket_cors(BucketCors([upload_rule()]))
    result = cors_bucket.put_object("uploads/a.txt", b"from the browser", headers={"Origin": APP_ORIGIN})
    assert result.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert result.headers["Access-Control-Expose-Headers"] == "ETag, x-oss-request-id"
    other = cors_bucket.put_object("uploads/b.txt", b"elsewhere", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers
    # GET is not in the rule: no CORS headers, but the request itself still succeeds.
    got = cors_bucket.get_object("uploads/a.txt", headers={"Origin": APP_ORIGIN})
    assert got.read() == b"from the browser"
    assert "Access-Control-Allow-Origin" not in got.headers


def test_cors_post_object_from_browser_origin_carries_allow_origin(
        cloud: LocalCloudServer, cors_bucket: oss2.Bucket, creds: dict[str, Any]) -> None:
    cors_bucket.put_bucket_cors(BucketCors([upload_rule()]))
    fields = post_form_v1(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"], "form.txt",
                          [["content-length-range", 0, 100]])
    resp = requests.post(f"{cloud.oss_endpoint}/{cors_bucket.bucket_name}", data=fields,
                         files={"file": ("form.txt", b"form", "text/plain")}, headers={"Origin": APP_ORIGIN},
                         timeout=10)
    assert resp.status_code == 204, resp.text
    assert resp.headers["Access-Control-Allow-Origin"] == APP_ORIGIN


def test_cors_response_vary_sends_vary_origin_everywhere(cloud: LocalCloudServer,
                                                         cors_bucket: oss2.Bucket) -> None:
    cors_bucket.put_bucket_cors(BucketCors([upload_rule()], response_vary=True))
    assert cors_bucket.get_bucket_cors().response_vary is True
    assert preflight(cloud, cors_bucket.bucket_name, APP_ORIGIN).headers["Vary"] == "Origin"
    refused = preflight(cloud, cors_bucket.bucket_name, "https://evil.example.com")
    assert (refused.status_code, refused.headers["Vary"]) == (403, "Origin")
    put = cors_bucket.put_object("v.txt", b"v", headers={"Origin": APP_ORIGIN})
    assert (put.headers["Vary"], put.headers["Access-Control-Allow-Origin"]) == ("Origin", APP_ORIGIN)
    # No Origin at all: still Vary, so a shared cache never serves a CORS-less copy to a browser.
    assert cors_bucket.get_object("v.txt").headers["Vary"] == "Origin"


def test_cors_error_xml_is_parsed_like_oss(cloud: LocalCloudServer, cors_bucket: oss2.Bucket) -> None:
    resp = preflight(cloud, cors_bucket.bucket_name, APP_ORIGIN)
    root = ET.fromstring(resp.content)
    assert root.tag == "Error"
    assert root.findtext("RequestId") == resp.headers["x-oss-request-id"]
    assert root.findtext("HostId")
