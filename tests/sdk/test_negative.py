"""Negative conformance of the OSS port: every refusal has the real service's status, code and (where the
reference gives one) message, and nothing malformed ever yields a 5xx.

Requests come from oss2 (unmodified; `Bucket._do` is its own sign-and-send path, used where a request
must carry a body or header no public method sends), from plain `requests`, or from a raw socket.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import oss2
import pytest
import requests

from helpers.localcloud.oss import routing
from helpers.localcloud.oss.request import Headers, OssRequest
from helpers.localcloud.server import LocalCloudServer
from tests.sdk.conftest import v2_error

REGION = "cn-hangzhou"
BUCKET = "workbook"
MISMATCH = ("The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.")
ACL_DENIED = "You have no right to access this object because of bucket acl."


@pytest.fixture(params=["v1", "v4"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_auth(ak: str, secret: str, version: str, token: str | None = None) -> Any:
    if token is not None:
        return oss2.StsAuth(ak, secret, token, auth_version=version)
    return oss2.Auth(ak, secret) if version == "v1" else oss2.AuthV4(ak, secret)


@pytest.fixture
def admin(creds: dict[str, Any]) -> tuple[str, str]:
    return creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"]


@pytest.fixture
def bucket(cloud: LocalCloudServer, admin: tuple[str, str], version: str,
           workbook_bucket: oss2.Bucket) -> oss2.Bucket:
    return oss2.Bucket(make_auth(*admin, version), cloud.oss_endpoint, BUCKET, region=REGION)


@pytest.fixture
def key(unique: Callable[[str], str]) -> str:
    return unique("neg") + "/obj.bin"


def server_error(fn: Callable[[], Any]) -> oss2.exceptions.OssError:
    with pytest.raises(oss2.exceptions.OssError) as info:
        fn()
    assert info.value.status > 0, info.value   # a server answer, not a client-side error
    return info.value


def xml_error(resp: requests.Response) -> dict[str, str]:
    assert resp.headers["content-type"] == "application/xml"
    return {child.tag: child.text or "" for child in ET.fromstring(resp.content)}


def head_error(resp: requests.Response) -> dict[str, str]:
    assert resp.content == b""
    root = ET.fromstring(base64.b64decode(resp.headers["x-oss-err"]))
    return {child.tag: child.text or "" for child in root}


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def assume(cloud: LocalCloudServer, creds: dict[str, Any], duration: int = 900) -> dict[str, str]:
    from aliyunsdkcore.client import AcsClient
    from aliyunsdksts.request.v20150401.AssumeRoleRequest import AssumeRoleRequest

    req = AssumeRoleRequest()
    req.set_endpoint(cloud.sts_endpoint.split("://", 1)[1])
    req.set_protocol_type("http")
    req.set_RoleArn(creds["role_arn"])
    req.set_RoleSessionName("negative")
    req.set_DurationSeconds(duration)
    client = AcsClient(creds["appserver"]["access_key_id"], creds["appserver"]["access_key_secret"], REGION,
                       auto_retry=False)
    return dict(json.loads(client.do_action_with_exception(req))["Credentials"])


# ---- signatures ------------------------------------------------------------------------------------

def test_wrong_secret_signature_does_not_match(cloud: LocalCloudServer, admin: tuple[str, str],
                                               version: str, key: str, workbook_bucket: oss2.Bucket) -> None:
    b = oss2.Bucket(make_auth(admin[0], "not-the-secret", version), cloud.oss_endpoint, BUCKET, region=REGION)
    err = server_error(lambda: b.put_object(key, b"x"))
    assert isinstance(err, oss2.exceptions.SignatureDoesNotMatch)
    assert (err.status, err.code, err.message) == (403, "SignatureDoesNotMatch", MISMATCH)
    assert err.details["OSSAccessKeyId"] == admin[0]
    assert "not-the-secret" not in str(err.details)
    assert not workbook_bucket.object_exists(key)


def test_unknown_access_key_invalid_access_key_id(cloud: LocalCloudServer, version: str, key: str,
                                                  workbook_bucket: oss2.Bucket) -> None:
    b = oss2.Bucket(make_auth("LTAI5tNoSuchKey0000000000", "x", version), cloud.oss_endpoint, BUCKET,
                    region=REGION)
    err = server_error(lambda: b.get_object(key))
    assert (err.status, err.code) == (403, "InvalidAccessKeyId")
    assert err.message == "The OSS Access Key Id you provided does not exist in our records."


def test_tampered_header_signature_does_not_match(bucket: oss2.Bucket, key: str) -> None:
    class Tamper:
        """Signs with the real auth, then flips one character of the signature."""

        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def _sign_request(self, req: Any, bucket_name: str, key: str) -> None:
            self.inner._sign_request(req, bucket_name, key)
            sig = req.headers["authorization"]
            req.headers["authorization"] = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]

    tampered = oss2.Bucket(Tamper(bucket.auth), bucket.endpoint, BUCKET, region=REGION)
    err = server_error(lambda: tampered.put_object(key, b"x"))
    assert (err.status, err.code) == (403, "SignatureDoesNotMatch")
    assert not bucket.object_exists(key)


def test_signed_url_edited_to_other_key_refused(bucket: oss2.Bucket, key: str) -> None:
    bucket.put_object(key, b"a")
    bucket.put_object(key + "2", b"b")
    url = bucket.sign_url("GET", key, 60)
    parts = urlsplit(url)
    edited = urlunsplit(parts._replace(path=parts.path + "2"))
    resp = requests.get(edited, timeout=5)
    assert resp.status_code == 403
    assert xml_error(resp)["Code"] == "SignatureDoesNotMatch"
    assert requests.get(url, timeout=5).content == b"a"


def test_signed_url_tampered_signature_refused(bucket: oss2.Bucket, key: str) -> None:
    bucket.put_object(key, b"a")
    url = bucket.sign_url("GET", key, 60)
    name = "Signature" if "Signature=" in url else "x-oss-signature"
    value = dict(parse_qsl(urlsplit(url).query))[name]
    resp = requests.get(with_query(url, **{name: value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB")}),
                        timeout=5)
    assert resp.status_code == 403 and xml_error(resp)["Code"] == "SignatureDoesNotMatch"


def test_signed_url_expired_access_denied(bucket: oss2.Bucket, key: str, clock: Any) -> None:
    bucket.put_object(key, b"a")
    url = bucket.sign_url("GET", key, 60)
    assert requests.get(url, timeout=5).status_code == 200
    clock.advance(61)
    resp = requests.get(url, timeout=5)
    assert resp.status_code == 403
    body = xml_error(resp)
    assert (body["Code"], body["Message"]) == ("AccessDenied", "Request has expired.")


def test_v4_signed_url_expires_too_long_refused(cloud: LocalCloudServer, admin: tuple[str, str], key: str,
                                               workbook_bucket: oss2.Bucket) -> None:
    b = oss2.Bucket(make_auth(*admin, "v4"), cloud.oss_endpoint, BUCKET, region=REGION)
    url = b.sign_url("GET", key, 60)
    resp = requests.get(with_query(url, **{"x-oss-expires": "604801"}), timeout=5)
    assert resp.status_code == 400 and xml_error(resp)["Code"] == "InvalidArgument"


def test_v4_wrong_region_invalid_argument(cloud: LocalCloudServer, admin: tuple[str, str], key: str,
                                          workbook_bucket: oss2.Bucket) -> None:
    b = oss2.Bucket(make_auth(*admin, "v4"), cloud.oss_endpoint, BUCKET, region="cn-beijing")
    err = server_error(lambda: b.put_object(key, b"x"))
    assert (err.status, err.code, err.ec) == (400, "InvalidArgument", "0002-00000226")
    assert err.message == "Invalid signing region in Authorization header."


# ---- STS tokens --------------------------------------------------------------------------------------

def test_sts_expired_token_security_token_expired(cloud: LocalCloudServer, creds: dict[str, Any],
                                                  version: str, key: str, clock: Any,
                                                  workbook_bucket: oss2.Bucket) -> None:
    c = assume(cloud, creds, duration=900)
    b = oss2.Bucket(make_auth(c["AccessKeyId"], c["AccessKeySecret"], version, c["SecurityToken"]),
                    cloud.oss_endpoint, BUCKET, region=REGION)
    b.put_object(key, b"ok")
    clock.advance(901)
    err = server_error(lambda: b.get_object(key))
    assert (err.status, err.code) == (403, "SecurityTokenExpired")
    assert err.message == "The security token you provided has expired."
    assert err.ec == "0002-00000007"


def test_sts_key_without_token_invalid_access_key_id(cloud: LocalCloudServer, creds: dict[str, Any],
                                                     version: str, key: str,
                                                     workbook_bucket: oss2.Bucket) -> None:
    c = assume(cloud, creds)
    b = oss2.Bucket(make_auth(c["AccessKeyId"], c["AccessKeySecret"], version), cloud.oss_endpoint, BUCKET,
                    region=REGION)
    err = server_error(lambda: b.put_object(key, b"x"))
    assert (err.status, err.code, err.ec) == (403, "InvalidAccessKeyId", "0002-00000003")
    assert err.message == ("The OSS Access Key Id you provided does not exist in our records. "
                           "The Security Token may be lost to specify that it is a STS Access Id.")


@pytest.mark.parametrize("forge", ["garbage", "flip-tail", "other-session"])
def test_sts_bogus_token_invalid_security_token(cloud: LocalCloudServer, creds: dict[str, Any], version: str,
                                                key: str, forge: str, workbook_bucket: oss2.Bucket) -> None:
    c = assume(cloud, creds)
    real = c["SecurityToken"]
    token = {"garbage": "CAISnotarealtoken==",
             "flip-tail": real[:-6] + ("AAAA" if real[-6:-2] != "AAAA" else "BBBB") + real[-2:],
             "other-session": assume(cloud, creds)["SecurityToken"]}[forge]
    b = oss2.Bucket(make_auth(c["AccessKeyId"], c["AccessKeySecret"], version, token), cloud.oss_endpoint,
                    BUCKET, region=REGION)
    err = server_error(lambda: b.put_object(key, b"x"))
    assert (err.status, err.code, err.ec) == (403, "InvalidSecurityToken", "0002-00000006")
    assert err.message == "The security token you provided is invalid."


# ---- time --------------------------------------------------------------------------------------------

def test_v1_skewed_x_oss_date_request_time_too_skewed(cloud: LocalCloudServer, admin: tuple[str, str],
                                                       key: str, workbook_bucket: oss2.Bucket) -> None:
    b = oss2.Bucket(make_auth(*admin, "v1"), cloud.oss_endpoint, BUCKET)
    skewed = oss2.utils.http_date(int(time.time()) - 3600)
    err = server_error(lambda: b.put_object(key, b"x", headers={"x-oss-date": skewed}))
    assert (err.status, err.code, err.ec) == (403, "RequestTimeTooSkewed", "0002-00000504")
    assert err.message == "The difference between the request time and the current time is too large."
    assert err.details["MaxAllowedSkewMilliseconds"] == "900000"


def test_v4_skewed_clock_request_time_too_skewed(cloud: LocalCloudServer, admin: tuple[str, str], key: str,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 workbook_bucket: oss2.Bucket) -> None:
    class Skewed(datetime):
        @classmethod
        def utcnow(cls) -> datetime:   # type: ignore[override]
            return datetime.utcnow() + timedelta(minutes=16)

    monkeypatch.setattr(oss2.auth, "datetime", Skewed)   # oss2 V4 takes x-oss-date from datetime.utcnow()
    b = oss2.Bucket(make_auth(*admin, "v4"), cloud.oss_endpoint, BUCKET, region=REGION)
    err = server_error(lambda: b.put_object(key, b"x"))
    assert (err.status, err.code) == (403, "RequestTimeTooSkewed")


def test_skew_ignores_moved_clock(bucket: oss2.Bucket, key: str, clock: Any) -> None:
    clock.advance(3600)   # the movable clock drives expiry only; skew is measured against real time
    assert bucket.put_object(key, b"x").status == 200


# ---- bodies and digests ------------------------------------------------------------------------------

def test_put_object_wrong_content_md5_invalid_digest(bucket: oss2.Bucket, key: str) -> None:
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    err = server_error(lambda: bucket.put_object(key, b"payload", headers={"Content-MD5": wrong}))
    assert isinstance(err, oss2.exceptions.InvalidDigest)
    assert (err.status, err.code) == (400, "InvalidDigest")
    assert err.message == "The Content-MD5 you specified was invalid."
    assert not bucket.object_exists(key)


@pytest.mark.parametrize("value", ["not base64!!", "AAAA", ""])
def test_put_object_bad_base64_content_md5_invalid_digest(bucket: oss2.Bucket, key: str, value: str) -> None:
    err = server_error(lambda: bucket.put_object(key, b"payload", headers={"Content-MD5": value}))
    assert (err.status, err.code) == (400, "InvalidDigest")
    assert not bucket.object_exists(key)


def test_complete_multipart_junk_xml_malformed(bucket: oss2.Bucket, key: str) -> None:
    upload_id = bucket.init_multipart_upload(key).upload_id
    for junk in (b"<CompleteMultipartUpload><Part>", b"\x00\xff not xml", b"<Other/>",
                 b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>e</ETag></Part>"
                 b"</CompleteMultipartUpload>"):
        err = server_error(lambda junk=junk: bucket._do("POST", BUCKET, key, data=junk,
                                                        params={"uploadId": upload_id}))
        assert (err.status, err.code) == (400, "MalformedXML"), junk
    bucket.abort_multipart_upload(key, upload_id)


@pytest.mark.parametrize("junk", [
    b"<Delete><Object>", b"[]", b"<Delete></Delete>", b"<Delete><Object/></Delete>",
    b"<!DOCTYPE x [<!ENTITY a 'b'>]><Delete><Object><Key>&a;</Key></Object></Delete>"])
def test_delete_multiple_junk_xml_malformed(bucket: oss2.Bucket, junk: bytes) -> None:
    md5 = base64.b64encode(hashlib.md5(junk).digest()).decode()
    err = server_error(lambda: bucket._do("POST", BUCKET, "", data=junk, params={"delete": ""},
                                          headers={"Content-MD5": md5}))
    assert (err.status, err.code) == (400, "MalformedXML")


def test_put_bucket_junk_xml_malformed(bucket: oss2.Bucket) -> None:
    err = server_error(lambda: bucket._do("PUT", BUCKET, "", data=b"<CreateBucketConfiguration><"))
    assert (err.status, err.code) == (400, "MalformedXML")


# ---- names and headers -------------------------------------------------------------------------------

def test_put_object_1024_byte_key_invalid_object_name(bucket: oss2.Bucket,
                                                      unique: Callable[[str], str]) -> None:
    long_key = (unique("k") + "/" + "a" * 1024)[:1024]
    err = server_error(lambda: bucket.put_object(long_key, b"x"))
    assert isinstance(err, oss2.exceptions.InvalidObjectName)
    assert (err.status, err.code) == (400, "InvalidObjectName")
    assert err.message == "The Length of Object name must be less than 1024"
    assert bucket.put_object(long_key[:1023], b"x").status == 200   # the limit itself is fine


def test_user_meta_over_8k_invalid_argument(bucket: oss2.Bucket, key: str) -> None:
    err = server_error(lambda: bucket.put_object(key, b"x", headers={"x-oss-meta-big": "v" * 9000}))
    assert (err.status, err.code, err.ec) == (400, "InvalidArgument", "0011-00000002")
    assert not bucket.object_exists(key)
    assert bucket.put_object(key, b"x", headers={"x-oss-meta-big": "v" * 8000}).status == 200


def test_huge_header_block_never_5xx(cloud: LocalCloudServer, bucket: oss2.Bucket, key: str) -> None:
    resp = requests.get(f"{cloud.oss_endpoint}/{BUCKET}/{key}", headers={"x-junk": "j" * 70000}, timeout=5)
    assert 400 <= resp.status_code < 500


# ---- anonymous and HEAD ------------------------------------------------------------------------------

def test_anonymous_get_private_bucket_access_denied(cloud: LocalCloudServer, bucket: oss2.Bucket,
                                                    key: str) -> None:
    bucket.put_object(key, b"secret")
    resp = requests.get(f"{cloud.oss_endpoint}/{BUCKET}/{key}", timeout=5)
    assert resp.status_code == 403
    body = xml_error(resp)
    assert (body["Code"], body["Message"]) == ("AccessDenied", ACL_DENIED)
    assert resp.headers["x-oss-request-id"] == body["RequestId"]
    assert "secret" not in resp.text


def test_head_missing_key_x_oss_err_no_such_key(cloud: LocalCloudServer, bucket: oss2.Bucket,
                                                key: str) -> None:
    url = bucket.sign_url("HEAD", key, 60)
    resp = requests.head(url, timeout=5)
    assert resp.status_code == 404
    err = head_error(resp)
    assert (err["Code"], err["Key"]) == ("NoSuchKey", key)
    assert resp.headers["x-oss-ec"] == "0026-00000001"


def test_head_missing_bucket_x_oss_err_no_such_bucket(cloud: LocalCloudServer, admin: tuple[str, str],
                                                      version: str, unique: Callable[[str], str]) -> None:
    name = unique("gone")
    b = oss2.Bucket(make_auth(*admin, version), cloud.oss_endpoint, name, region=REGION)
    resp = requests.head(b.sign_url("HEAD", "k", 60), timeout=5)
    assert resp.status_code == 404
    err = head_error(resp)
    assert (err["Code"], err["BucketName"]) == ("NoSuchBucket", name)
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        b.head_object("k")


# ---- truncated bodies ----------------------------------------------------------------------------------

def test_truncated_body_client_gone_object_not_stored(cloud: LocalCloudServer, bucket: oss2.Bucket,
                                                      key: str) -> None:
    req = oss2.http.Request("PUT", bucket._make_url(BUCKET, key), region=REGION, product="oss")
    bucket.auth._sign_request(req, BUCKET, key)
    target = urlsplit(req.url)
    path = target.path + ("?" + urlencode(req.params) if req.params else "")
    lines = [f"PUT {path} HTTP/1.1", f"Host: {target.netloc}", "Content-Length: 1000"]
    lines += [f"{k}: {v}" for k, v in req.headers.items() if v is not None]
    host, port = target.netloc.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + b"0123456789")
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(5)
        try:
            reply = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            reply = b""
    assert not reply.startswith(b"HTTP/1.1 200")
    assert not bucket.object_exists(key)
    assert bucket.put_object(key, b"after").status == 200   # the server is still healthy


# ---- every operation refuses anonymous callers on a private bucket ---------------------------------------

_UPLOAD = "0" * 32
_SRC = {"x-oss-copy-source": f"/{BUCKET}/src"}
_CORS = (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
         b"</CORSRule></CORSConfiguration>")
# op name -> (method, key or None for bucket level or "" for service level, query, headers, body)
ANONYMOUS_CASES: dict[str, tuple[str, str | None, str, dict[str, str], bytes]] = {
    "ListBuckets": ("GET", "", "", {}, b""),
    "PutBucket": ("PUT", None, "", {}, b""),
    "DeleteBucket": ("DELETE", None, "", {}, b""),
    "GetBucketInfo": ("GET", None, "bucketInfo", {}, b""),
    "GetBucketLocation": ("GET", None, "location", {}, b""),
    "PutBucketAcl": ("PUT", None, "acl", {"x-oss-acl": "public-read-write"}, b""),
    "GetBucketAcl": ("GET", None, "acl", {}, b""),
    "PutBucketCors": ("PUT", None, "cors", {}, _CORS),
    "GetBucketCors": ("GET", None, "cors", {}, b""),
    "DeleteBucketCors": ("DELETE", None, "cors", {}, b""),
    "ListObjects": ("GET", None, "", {}, b""),
    "ListObjectsV2": ("GET", None, "list-type=2", {}, b""),
    "ListMultipartUploads": ("GET", None, "uploads", {}, b""),
    "ListLiveChannel": ("GET", None, "live", {}, b""),
    "ListObjectVersions": ("GET", None, "versions", {}, b""),
    "DeleteMultipleObjects": ("POST", None, "delete", {},
                              b"<Delete><Object><Key>victim</Key></Object></Delete>"),
    "PostObject": ("POST", None, "", {"content-type": "multipart/form-data; boundary=XX"},
                   b"--XX\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nvictim\r\n"
                   b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\ndata\r\n"
                   b"--XX--\r\n"),
    "PutObject": ("PUT", "victim", "", {}, b"data"),
    "CopyObject": ("PUT", "victim", "", _SRC, b""),
    "AppendObject": ("POST", "victim", "append&position=0", {}, b"data"),
    "GetObject": ("GET", "victim", "", {}, b""),
    "HeadObject": ("HEAD", "victim", "", {}, b""),
    "GetObjectMeta": ("HEAD", "victim", "objectMeta", {}, b""),
    "DeleteObject": ("DELETE", "victim", "", {}, b""),
    "PutObjectAcl": ("PUT", "victim", "acl", {"x-oss-object-acl": "public-read"}, b""),
    "GetObjectAcl": ("GET", "victim", "acl", {}, b""),
    "InitiateMultipartUpload": ("POST", "victim", "uploads", {}, b""),
    "UploadPart": ("PUT", "victim", f"partNumber=1&uploadId={_UPLOAD}", {}, b"data"),
    "UploadPartCopy": ("PUT", "victim", f"partNumber=1&uploadId={_UPLOAD}", _SRC, b""),
    "CompleteMultipartUpload": ("POST", "victim", f"uploadId={_UPLOAD}", {}, b"<CompleteMultipartUpload/>"),
    "AbortMultipartUpload": ("DELETE", "victim", f"uploadId={_UPLOAD}", {}, b""),
    "ListParts": ("GET", "victim", f"uploadId={_UPLOAD}", {}, b""),
}


def test_anonymous_table_covers_every_operation() -> None:
    assert set(ANONYMOUS_CASES) == set(routing.OPERATIONS)
    for name, (method, key, query, headers, _) in ANONYMOUS_CASES.items():
        req = OssRequest(method=method, bucket=BUCKET if key != "" else None, key=key or None,
                         query=routing.parse_query(query), headers=Headers(headers), raw_path="/",
                         raw_query=query, host="127.0.0.1", client_ip="127.0.0.1", request_id="t")
        assert routing.operation_for(req).name == name


@pytest.mark.parametrize("op", sorted(ANONYMOUS_CASES))
def test_anonymous_operation_on_private_bucket_access_denied(cloud: LocalCloudServer, op: str,
                                                             workbook_bucket: oss2.Bucket) -> None:
    method, key, query, headers, body = ANONYMOUS_CASES[op]
    path = "/" if key == "" else f"/{BUCKET}/{key or ''}"
    url = cloud.oss_endpoint + path + (f"?{query}" if query else "")
    resp = requests.request(method, url, headers=headers, data=body, timeout=5)
    assert resp.status_code == 403, resp.text
    err = head_error(resp) if method == "HEAD" else xml_error(resp)
    assert err["Code"] == "AccessDenied"
    assert workbook_bucket.get_bucket_acl().acl == "private"
    assert not workbook_bucket.object_exists("victim")


def test_options_preflight_needs_no_signature(cloud: LocalCloudServer) -> None:
    # Preflight is the one request that is never signed: with no CORS rules it is refused by CORS
    # (AccessForbidden), not by authentication.
    resp = requests.options(f"{cloud.oss_endpoint}/{BUCKET}/k", timeout=5,
                            headers={"Origin": "http://example.com", "Access-Control-Request-Method": "PUT"})
    assert resp.status_code == 403
    assert xml_error(resp)["Code"] == "AccessForbidden"


# ---- the v2 SDK sees the same errors ---------------------------------------------------------------------

def v2_client(cloud: LocalCloudServer, ak: str, secret: str, version: str, token: str | None = None,
              region: str = REGION) -> Any:
    import alibabacloud_oss_v2 as oss

    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(ak, secret, token)
    cfg.region, cfg.endpoint, cfg.signature_version = region, cloud.oss_endpoint, version
    cfg.retry_max_attempts = 1
    return oss.Client(cfg)


def test_v2_wrong_secret_signature_does_not_match(cloud: LocalCloudServer, admin: tuple[str, str],
                                                  version: str, key: str,
                                                  workbook_bucket: oss2.Bucket) -> None:
    import alibabacloud_oss_v2 as oss

    client = v2_client(cloud, admin[0], "wrong", version)
    err = v2_error(lambda: client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key, body=b"x")))
    assert (err.status_code, err.code, err.message) == (403, "SignatureDoesNotMatch", MISMATCH)
    head = v2_error(lambda: client.head_object(oss.HeadObjectRequest(bucket=BUCKET, key=key)))
    assert (head.status_code, head.code) == (403, "SignatureDoesNotMatch")


def test_v2_expired_sts_token_security_token_expired(cloud: LocalCloudServer, creds: dict[str, Any],
                                                     version: str, key: str, clock: Any,
                                                     workbook_bucket: oss2.Bucket) -> None:
    import alibabacloud_oss_v2 as oss

    c = assume(cloud, creds, duration=900)
    client = v2_client(cloud, c["AccessKeyId"], c["AccessKeySecret"], version, c["SecurityToken"])
    client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key, body=b"x"))
    clock.advance(901)
    err = v2_error(lambda: client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key)))
    assert (err.status_code, err.code, err.ec) == (403, "SecurityTokenExpired", "0002-00000007")


def test_v2_v4_wrong_region_invalid_argument(cloud: LocalCloudServer, admin: tuple[str, str], key: str,
                                             workbook_bucket: oss2.Bucket) -> None:
    import alibabacloud_oss_v2 as oss

    client = v2_client(cloud, *admin, "v4", region="beijing")
    err = v2_error(lambda: client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key)))
    assert (err.status_code, err.code, err.ec) == (400, "InvalidArgument", "0002-00000226")
