"""Which error comes first (oss-behaviours.md §1): OSS looks the bucket up before it checks the AccessKey,
so a request to a bucket that does not exist answers 404 NoSuchBucket whatever the key; only PutBucket and
PutBucketAcl check the key first. On an existing bucket a bad key stays 403 InvalidAccessKeyId and a bad
signature stays 403 SignatureDoesNotMatch.

Through oss2 (V1 and V4) and alibabacloud-oss-v2 (its `is_bucket_exist` / `is_object_exist` rely on this
order, as its integration tests against real OSS show), against the local cloud on loopback.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from helpers.localcloud.server import LocalCloudServer

REGION = "cn-hangzhou"
BUCKET = "workbook"
BAD_AK = "LTAI5tNoSuchKey0000000000"
NO_SUCH_BUCKET = "The specified bucket does not exist."
BAD_AK_MESSAGE = "The OSS Access Key Id you provided does not exist in our records."

# (name, call on an oss2.Bucket): reads and object-level requests, each answered NoSuchBucket on a
# missing bucket whatever the key (§1 table; object-level rows are inferred by the reference).
_CORS_RULE = oss2.models.CorsRule(allowed_origins=["*"], allowed_methods=["GET"])
BUCKET_FIRST: list[tuple[str, Callable[[oss2.Bucket], Any]]] = [
    ("GetBucketInfo", lambda b: b.get_bucket_info()),
    ("GetBucketLocation", lambda b: b.get_bucket_location()),
    ("GetBucketAcl", lambda b: b.get_bucket_acl()),
    ("GetBucketCors", lambda b: b.get_bucket_cors()),
    ("ListObjects", lambda b: b.list_objects()),
    ("ListObjectsV2", lambda b: b.list_objects_v2(prefix="p/", max_keys=5)),
    ("ListMultipartUploads", lambda b: b.list_multipart_uploads()),
    ("ListObjectVersions", lambda b: b.list_object_versions()),
    ("ListLiveChannel", lambda b: b.list_live_channel()),
    ("DeleteBucket", lambda b: b.delete_bucket()),
    ("PutBucketCors", lambda b: b.put_bucket_cors(oss2.models.BucketCors([_CORS_RULE]))),
    ("GetObject", lambda b: b.get_object("k")),
    ("HeadObject", lambda b: b.head_object("k")),
    ("GetObjectMeta", lambda b: b.get_object_meta("k")),
    ("PutObject", lambda b: b.put_object("k", b"data")),
    ("AppendObject", lambda b: b.append_object("k", 0, b"data")),
    ("DeleteObject", lambda b: b.delete_object("k")),
    ("GetObjectAcl", lambda b: b.get_object_acl("k")),
    ("InitiateMultipartUpload", lambda b: b.init_multipart_upload("k")),
    ("ListParts", lambda b: b.list_parts("k", "0" * 32)),
    ("BatchDelete", lambda b: b.batch_delete_objects(["k"])),
]
# APIs the local cloud refuses (InvalidRequest on an existing bucket) still meet the bucket look-up first:
# GetBucketStat and Put/GetBucketVersioning answer NoSuchBucket on a missing bucket [§1 table].
UNSERVED: list[tuple[str, Callable[[oss2.Bucket], Any]]] = [
    ("GetBucketStat", lambda b: b.get_bucket_stat()),
    ("GetBucketVersioning", lambda b: b.get_bucket_versioning()),
    ("PutBucketVersioning", lambda b: b.put_bucket_versioning(
        oss2.models.BucketVersioningConfig(oss2.BUCKET_VERSIONING_ENABLE))),
]
KEY_FIRST: list[tuple[str, Callable[[oss2.Bucket], Any]]] = [
    ("PutBucket", lambda b: b.create_bucket()),
    ("PutBucketAcl", lambda b: b.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)),
]


@pytest.fixture(params=["v1", "v4"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _auth(ak: str, secret: str, version: str) -> Any:
    return oss2.Auth(ak, secret) if version == "v1" else oss2.AuthV4(ak, secret)


def _server_error(fn: Callable[[], Any]) -> oss2.exceptions.OssError:
    with pytest.raises(oss2.exceptions.OssError) as info:
        fn()
    assert info.value.status > 0, info.value   # a server answer, not a client-side error
    return info.value


@pytest.fixture
def missing(unique: Callable[[str], str]) -> str:
    return unique("gone")


@pytest.mark.parametrize(("op", "call"), BUCKET_FIRST + UNSERVED, ids=[n for n, _ in BUCKET_FIRST + UNSERVED])
def test_missing_bucket_unknown_key_no_such_bucket(cloud: LocalCloudServer, version: str, missing: str,
                                                   op: str, call: Callable[[oss2.Bucket], Any]) -> None:
    b = oss2.Bucket(_auth(BAD_AK, "x", version), cloud.oss_endpoint, missing, region=REGION)
    err = _server_error(lambda: call(b))
    assert isinstance(err, oss2.exceptions.NoSuchBucket), (op, err)
    assert (err.status, err.code, err.message) == (404, "NoSuchBucket", NO_SUCH_BUCKET)
    assert err.details["BucketName"] == missing
    assert err.ec == "0015-00000101"


@pytest.mark.parametrize(("op", "call"), KEY_FIRST, ids=[n for n, _ in KEY_FIRST])
def test_bucket_creating_requests_check_the_key_first(cloud: LocalCloudServer, version: str, missing: str,
                                                      op: str, call: Callable[[oss2.Bucket], Any],
                                                      admin_auth: oss2.Auth) -> None:
    b = oss2.Bucket(_auth(BAD_AK, "x", version), cloud.oss_endpoint, missing, region=REGION)
    err = _server_error(lambda: call(b))
    assert (err.status, err.code, err.message) == (403, "InvalidAccessKeyId", BAD_AK_MESSAGE)
    assert err.details["OSSAccessKeyId"] == BAD_AK
    with pytest.raises(oss2.exceptions.NoSuchBucket):   # and nothing was created
        oss2.Bucket(admin_auth, cloud.oss_endpoint, missing).get_bucket_info()


@pytest.mark.parametrize(("op", "call"), BUCKET_FIRST + KEY_FIRST,
                         ids=[n for n, _ in BUCKET_FIRST + KEY_FIRST])
def test_existing_bucket_unknown_key_invalid_access_key_id(cloud: LocalCloudServer, version: str,
                                                           workbook_bucket: oss2.Bucket, op: str,
                                                           call: Callable[[oss2.Bucket], Any]) -> None:
    b = oss2.Bucket(_auth(BAD_AK, "x", version), cloud.oss_endpoint, BUCKET, region=REGION)
    err = _server_error(lambda: call(b))
    assert (err.status, err.code) == (403, "InvalidAccessKeyId"), (op, err)
    assert err.message == BAD_AK_MESSAGE
    assert workbook_bucket.get_bucket_acl().acl == "private"


_SIGNED_READS = [(n, f) for n, f in BUCKET_FIRST
                 if n in ("GetBucketInfo", "GetBucketAcl", "ListObjects", "GetObject", "HeadObject",
                          "GetObjectMeta")]


@pytest.mark.parametrize(("op", "call"), _SIGNED_READS, ids=[n for n, _ in _SIGNED_READS])
def test_existing_bucket_wrong_secret_signature_does_not_match(
        cloud: LocalCloudServer, version: str, creds: dict[str, Any], workbook_bucket: oss2.Bucket, op: str,
        call: Callable[[oss2.Bucket], Any]) -> None:
    b = oss2.Bucket(_auth(creds["admin"]["access_key_id"], "not-the-secret", version), cloud.oss_endpoint,
                    BUCKET, region=REGION)
    err = _server_error(lambda: call(b))
    assert (err.status, err.code) == (403, "SignatureDoesNotMatch"), (op, err)


@pytest.mark.parametrize("secret", ["right", "wrong"])
def test_missing_bucket_valid_key_no_such_bucket(cloud: LocalCloudServer, version: str, creds: dict[str, Any],
                                                 missing: str, secret: str) -> None:
    admin = creds["admin"]
    b = oss2.Bucket(_auth(admin["access_key_id"], admin["access_key_secret"] if secret == "right"
                          else "not-the-secret", version), cloud.oss_endpoint, missing, region=REGION)
    for _, call in BUCKET_FIRST:
        err = _server_error(lambda: call(b))   # noqa: B023 - called at once
        assert (err.status, err.code) == (404, "NoSuchBucket")


@pytest.mark.parametrize(("op", "call"), UNSERVED, ids=[n for n, _ in UNSERVED])
def test_unserved_api_on_existing_bucket_still_refused(cloud: LocalCloudServer, admin_auth: oss2.Auth,
                                                       workbook_bucket: oss2.Bucket, op: str,
                                                       call: Callable[[oss2.Bucket], Any]) -> None:
    err = _server_error(lambda: call(oss2.Bucket(admin_auth, cloud.oss_endpoint, BUCKET)))
    assert (err.status, err.code) == (400, "InvalidRequest"), (op, err)
    assert "not supported by the local cloud" in err.message


def test_head_missing_bucket_unknown_key_empty_body_error_in_header(cloud: LocalCloudServer,
                                                                     missing: str) -> None:
    b = oss2.Bucket(oss2.Auth(BAD_AK, "x"), cloud.oss_endpoint, missing)
    for url in (b.sign_url("HEAD", "k", 60), b.sign_url("HEAD", "k", 60, params={"objectMeta": ""})):
        resp = requests.head(url, timeout=5)
        assert (resp.status_code, resp.content) == (404, b"")
        root = ET.fromstring(base64.b64decode(resp.headers["x-oss-err"]))
        assert (root.findtext("Code"), root.findtext("Message"), root.findtext("BucketName")) == (
            "NoSuchBucket", NO_SUCH_BUCKET, missing)
        assert resp.headers["x-oss-ec"] == "0015-00000101"


# ---- alibabacloud-oss-v2: is_bucket_exist / is_object_exist (v2py-it test_is_bucket_exist, ----------
# ---- test_is_object_exist) -----------------------------------------------------------------------------

def _v2_client(cloud: LocalCloudServer, ak: str, secret: str) -> oss.Client:
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(ak, secret)
    cfg.region = cloud.ctx.region
    cfg.endpoint = cloud.oss_endpoint
    cfg.retry_max_attempts = 1
    return oss.Client(cfg)


def test_v2_is_bucket_exist_both_ways(cloud: LocalCloudServer, admin_v2_client: oss.Client,
                                      workbook_bucket: oss2.Bucket, missing: str) -> None:
    bad = _v2_client(cloud, BAD_AK, "x")
    assert admin_v2_client.is_bucket_exist(BUCKET) is True
    assert admin_v2_client.is_bucket_exist(missing) is False
    assert bad.is_bucket_exist(BUCKET) is True      # 403 InvalidAccessKeyId: the bucket is there
    assert bad.is_bucket_exist(missing) is False    # 404 NoSuchBucket before the key is checked


def test_v2_is_object_exist_both_ways(cloud: LocalCloudServer, admin_v2_client: oss.Client,
                                      workbook_bucket: oss2.Bucket, missing: str,
                                      unique: Callable[[str], str]) -> None:
    key = unique("exist")
    admin_v2_client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key, body=b"x"))
    assert admin_v2_client.is_object_exist(BUCKET, key) is True
    assert admin_v2_client.is_object_exist(BUCKET, key + "-no") is False
    bad = _v2_client(cloud, BAD_AK, "x")
    for client, bucket, code, status in [(admin_v2_client, missing, "NoSuchBucket", 404),
                                         (bad, missing, "NoSuchBucket", 404),
                                         (bad, BUCKET, "InvalidAccessKeyId", 403)]:
        with pytest.raises(oss.exceptions.OperationError) as info:
            client.is_object_exist(bucket, key)
        se = info.value.unwrap()
        assert isinstance(se, oss.exceptions.ServiceError)
        assert (se.status_code, se.code) == (status, code)
