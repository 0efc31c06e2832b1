"""STS → OSS: credentials from AssumeRole (both STS SDKs, every signature style) used with oss2 StsAuth
(V1, V4) and with the v2 SDK (v1 sends the token in an unsigned `security-token` header, v4 in
`x-oss-security-token`). The role grants oss:* on `workbook` only; the session policy narrows it to
`users/alice/*`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as TeaStsClient
from alibabacloud_tea_openapi import utils_models as open_api_models
from aliyunsdkcore.client import AcsClient
from aliyunsdksts.request.v20150401.AssumeRoleRequest import AssumeRoleRequest

from helpers.localcloud.server import LocalCloudServer

REGION = "cn-hangzhou"
POLICY_DENIED = "Access denied by authorizer's policy."
ALICE_POLICY = json.dumps({"Version": "1", "Statement": [
    {"Effect": "Allow", "Action": ["oss:PutObject", "oss:GetObject", "oss:DeleteObject"],
     "Resource": ["acs:oss:*:*:workbook/users/alice/*"]},
    {"Effect": "Allow", "Action": "oss:ListObjects", "Resource": "acs:oss:*:*:workbook",
     "Condition": {"StringLike": {"oss:Prefix": "users/alice/*"}}}]})
STS_ROUTES = ["core-rpc", "tea-acs3", "tea-rpc"]
OSS_CLIENTS = ["oss2-v1", "oss2-v4", "ossv2-v1", "ossv2-v4"]


@dataclass(frozen=True)
class StsCreds:
    access_key_id: str
    access_key_secret: str
    security_token: str


def assume_role(cloud: LocalCloudServer, creds: dict[str, Any], route: str, policy: str | None,
                session: str = "alice") -> StsCreds:
    """AssumeRole as the app server through one of the STS SDKs, pointed at the local STS port."""
    ak, secret = creds["appserver"]["access_key_id"], creds["appserver"]["access_key_secret"]
    host = cloud.sts_endpoint.split("://", 1)[1]
    if route == "core-rpc":
        req = AssumeRoleRequest()
        req.set_endpoint(host)
        req.set_protocol_type("http")
        req.set_RoleArn(creds["role_arn"])
        req.set_RoleSessionName(session)
        if policy is not None:
            req.set_Policy(policy)
        body = json.loads(AcsClient(ak, secret, REGION, auto_retry=False).do_action_with_exception(req))
        c = body["Credentials"]
        return StsCreds(c["AccessKeyId"], c["AccessKeySecret"], c["SecurityToken"])
    config = open_api_models.Config(access_key_id=ak, access_key_secret=secret, endpoint=host,
                                    protocol="http", region_id=REGION)
    if route == "tea-rpc":
        config.signature_algorithm = "v2"
    resp = TeaStsClient(config).assume_role(sts_models.AssumeRoleRequest(
        role_arn=creds["role_arn"], role_session_name=session, policy=policy))
    c2 = resp.body.credentials
    return StsCreds(c2.access_key_id, c2.access_key_secret, c2.security_token)


class Denied(Exception):
    """A refused OSS call, normalised across SDKs."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class OssClient:
    """put/get/list/delete through oss2 or the v2 SDK, with errors normalised to Denied."""

    def __init__(self, kind: str, endpoint: str, sts: StsCreds) -> None:
        self.kind = kind
        self.endpoint = endpoint
        self.sts = sts
        sdk, version = kind.split("-")
        if sdk == "oss2":
            self.auth = oss2.StsAuth(sts.access_key_id, sts.access_key_secret, sts.security_token,
                                     auth_version=version)
        else:
            cfg = oss.config.load_default()
            cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
                sts.access_key_id, sts.access_key_secret, sts.security_token)
            cfg.region, cfg.endpoint, cfg.signature_version = REGION, endpoint, version
            cfg.retry_max_attempts = 1
            self.client = oss.Client(cfg)

    def _bucket(self, name: str) -> oss2.Bucket:
        return oss2.Bucket(self.auth, self.endpoint, name, region=REGION)

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except oss2.exceptions.OssError as e:
            raise Denied(e.status, e.code, e.message) from e
        except oss.exceptions.OperationError as e:
            se = e.unwrap()
            assert isinstance(se, oss.exceptions.ServiceError), repr(se)
            raise Denied(se.status_code, se.code, se.message) from e

    def put(self, bucket: str, key: str, data: bytes) -> None:
        if self.kind.startswith("oss2"):
            self._call(lambda: self._bucket(bucket).put_object(key, data))
        else:
            self._call(lambda: self.client.put_object(
                oss.PutObjectRequest(bucket=bucket, key=key, body=data)))

    def get(self, bucket: str, key: str) -> bytes:
        if self.kind.startswith("oss2"):
            return bytes(self._call(lambda: self._bucket(bucket).get_object(key).read()))
        return bytes(self._call(lambda: self.client.get_object(
            oss.GetObjectRequest(bucket=bucket, key=key)).body.read()))

    def head(self, bucket: str, key: str) -> None:
        if self.kind.startswith("oss2"):
            self._call(lambda: self._bucket(bucket).head_object(key))
        else:
            self._call(lambda: self.client.head_object(oss.HeadObjectRequest(bucket=bucket, key=key)))

    def list(self, bucket: str, prefix: str) -> list[str]:
        if self.kind.startswith("oss2"):
            return self._call(
                lambda: [o.key for o in oss2.ObjectIterator(self._bucket(bucket), prefix=prefix)])
        page = self._call(lambda: self.client.list_objects_v2(
            oss.ListObjectsV2Request(bucket=bucket, prefix=prefix)))
        return [o.key for o in page.contents or []]

    def delete(self, bucket: str, key: str) -> None:
        if self.kind.startswith("oss2"):
            self._call(lambda: self._bucket(bucket).delete_object(key))
        else:
            self._call(lambda: self.client.delete_object(oss.DeleteObjectRequest(bucket=bucket, key=key)))


@pytest.fixture(scope="module", params=STS_ROUTES)
def alice_creds(request: pytest.FixtureRequest, cloud: LocalCloudServer, creds: dict[str, Any]) -> StsCreds:
    return assume_role(cloud, creds, request.param, ALICE_POLICY)


@pytest.fixture(scope="module", params=STS_ROUTES)
def role_creds(request: pytest.FixtureRequest, cloud: LocalCloudServer, creds: dict[str, Any]) -> StsCreds:
    return assume_role(cloud, creds, request.param, None, session="role-only")


@pytest.fixture(params=OSS_CLIENTS)
def alice(request: pytest.FixtureRequest, cloud: LocalCloudServer, alice_creds: StsCreds,
          workbook_bucket: oss2.Bucket) -> OssClient:
    return OssClient(request.param, cloud.oss_endpoint, alice_creds)


@pytest.fixture(params=OSS_CLIENTS)
def role_only(request: pytest.FixtureRequest, cloud: LocalCloudServer, role_creds: StsCreds,
              workbook_bucket: oss2.Bucket) -> OssClient:
    return OssClient(request.param, cloud.oss_endpoint, role_creds)


def assert_policy_denied(call: Callable[[], Any]) -> Denied:
    with pytest.raises(Denied) as info:
        call()
    assert (info.value.status, info.value.code, info.value.message) == (403, "AccessDenied", POLICY_DENIED)
    return info.value


def test_session_policy_inside_prefix_allowed(alice: OssClient, unique: Callable[[str], str]) -> None:
    key = f"users/alice/{unique('doc')} 文件+.txt"
    alice.put("workbook", key, b"mine")
    assert alice.get("workbook", key) == b"mine"
    alice.head("workbook", key)
    assert key in alice.list("workbook", "users/alice/")
    alice.delete("workbook", key)


def test_session_policy_outside_prefix_put_denied(alice: OssClient, unique: Callable[[str], str]) -> None:
    assert_policy_denied(lambda: alice.put("workbook", f"users/bob/{unique('x')}", b"theirs"))


def test_session_policy_outside_prefix_get_denied(alice: OssClient, admin_auth: oss2.Auth,
                                                  cloud: LocalCloudServer,
                                                  unique: Callable[[str], str]) -> None:
    key = f"users/bob/{unique('x')}"
    oss2.Bucket(admin_auth, cloud.oss_endpoint, "workbook").put_object(key, b"bob's")
    assert_policy_denied(lambda: alice.get("workbook", key))
    assert_policy_denied(lambda: alice.delete("workbook", key))


def test_session_policy_head_outside_prefix_denied(alice: OssClient, unique: Callable[[str], str]) -> None:
    assert_policy_denied(lambda: alice.head("workbook", f"users/bob/{unique('x')}"))


def test_session_policy_list_other_prefix_denied(alice: OssClient) -> None:
    assert_policy_denied(lambda: alice.list("workbook", "users/"))


def test_session_policy_similar_prefix_denied(alice: OssClient, unique: Callable[[str], str]) -> None:
    # `users/alice/*` must not match `users/alice-evil/...`.
    assert_policy_denied(lambda: alice.put("workbook", f"users/alice-evil/{unique('x')}", b"x"))


def test_role_without_session_policy_whole_bucket_allowed(role_only: OssClient,
                                                          unique: Callable[[str], str]) -> None:
    key = f"shared/{unique('any')}"
    role_only.put("workbook", key, b"role")
    assert role_only.get("workbook", key) == b"role"


def test_role_policy_other_bucket_denied(role_only: OssClient, admin_auth: oss2.Auth, cloud: LocalCloudServer,
                                         other_bucket: str) -> None:
    assert_policy_denied(lambda: role_only.put(other_bucket, "k", b"x"))
    assert_policy_denied(lambda: role_only.get(other_bucket, "seed"))
    assert_policy_denied(lambda: role_only.list(other_bucket, ""))


@pytest.fixture(scope="module")
def other_bucket(cloud: LocalCloudServer, admin_auth: oss2.Auth) -> str:
    name = "not-workbook-sts"
    b = oss2.Bucket(admin_auth, cloud.oss_endpoint, name)
    b.create_bucket()
    b.put_object("seed", b"admin data")
    return name


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_oss2_sts_signed_url_carries_token(cloud: LocalCloudServer, alice_creds: StsCreds, version: str,
                                           unique: Callable[[str], str],
                                           workbook_bucket: oss2.Bucket) -> None:
    import requests

    auth = oss2.StsAuth(alice_creds.access_key_id, alice_creds.access_key_secret, alice_creds.security_token,
                        auth_version=version)
    b = oss2.Bucket(auth, cloud.oss_endpoint, "workbook", region=REGION)
    key = f"users/alice/{unique('url')} +.txt"
    put_url = b.sign_url("PUT", key, 60, headers={"Content-Type": "text/plain"})
    assert ("security-token=" if version == "v1" else "x-oss-security-token=") in put_url
    resp = requests.put(put_url, data=b"via url", headers={"Content-Type": "text/plain"}, timeout=5)
    assert resp.status_code == 200, resp.text
    assert requests.get(b.sign_url("GET", key, 60), timeout=5).content == b"via url"
    outside = requests.get(b.sign_url("GET", "users/bob/x", 60), timeout=5)
    assert outside.status_code == 403 and "<Code>AccessDenied</Code>" in outside.text
    assert POLICY_DENIED in outside.text


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_ossv2_sts_presign_put_inside_prefix(cloud: LocalCloudServer, alice_creds: StsCreds, version: str,
                                             unique: Callable[[str], str],
                                             workbook_bucket: oss2.Bucket) -> None:
    import httpx

    client = OssClient(f"ossv2-{version}", cloud.oss_endpoint, alice_creds).client
    key = f"users/alice/{unique('pre')}.bin"
    pre = client.presign(oss.PutObjectRequest(bucket="workbook", key=key))
    resp = httpx.put(pre.url, content=b"presigned sts", headers=dict(pre.signed_headers or {}))
    assert resp.status_code == 200, resp.text
    got = client.presign(oss.GetObjectRequest(bucket="workbook", key=key))
    assert httpx.get(got.url).content == b"presigned sts"


def test_role_list_buckets_denied(cloud: LocalCloudServer, role_creds: StsCreds) -> None:
    auth = oss2.StsAuth(role_creds.access_key_id, role_creds.access_key_secret, role_creds.security_token)
    with pytest.raises(oss2.exceptions.AccessDenied) as info:
        oss2.Service(auth, cloud.oss_endpoint).list_buckets()
    assert info.value.message == POLICY_DENIED


def test_batch_delete_with_key_outside_prefix_denied(cloud: LocalCloudServer, alice_creds: StsCreds,
                                                     admin_auth: oss2.Auth,
                                                     unique: Callable[[str], str]) -> None:
    auth = oss2.StsAuth(alice_creds.access_key_id, alice_creds.access_key_secret, alice_creds.security_token)
    b = oss2.Bucket(auth, cloud.oss_endpoint, "workbook")
    admin = oss2.Bucket(admin_auth, cloud.oss_endpoint, "workbook")
    mine, theirs = f"users/alice/{unique('m')}", f"users/bob/{unique('t')}"
    admin.put_object(mine, b"1")
    admin.put_object(theirs, b"2")
    with pytest.raises(oss2.exceptions.AccessDenied):
        b.batch_delete_objects([mine, theirs])
    assert admin.object_exists(mine) and admin.object_exists(theirs)
    assert b.batch_delete_objects([mine]).deleted_keys == [mine]


def test_copy_from_outside_prefix_denied(cloud: LocalCloudServer, alice_creds: StsCreds,
                                         workbook_bucket: oss2.Bucket,
                                         unique: Callable[[str], str]) -> None:
    # CopyObject and UploadPartCopy need oss:GetObject on the source, not just oss:PutObject on the target.
    auth = oss2.StsAuth(alice_creds.access_key_id, alice_creds.access_key_secret, alice_creds.security_token)
    b = oss2.Bucket(auth, cloud.oss_endpoint, "workbook")
    theirs, mine = f"users/bob/{unique('s')}", f"users/alice/{unique('d')}"
    workbook_bucket.put_object(theirs, b"bob's data")
    with pytest.raises(oss2.exceptions.AccessDenied) as info:
        b.copy_object("workbook", theirs, mine)
    assert info.value.message == POLICY_DENIED
    upload_id = b.init_multipart_upload(mine).upload_id
    with pytest.raises(oss2.exceptions.AccessDenied):
        b.upload_part_copy("workbook", theirs, None, mine, upload_id, 1)
    assert workbook_bucket.list_parts(mine, upload_id).parts == []   # alice may not ListParts/Abort
    workbook_bucket.abort_multipart_upload(mine, upload_id)
