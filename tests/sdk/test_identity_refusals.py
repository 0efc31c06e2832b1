"""One identity resolver, two wire dialects: the same bad AccessKey or token, sent to OSS (oss2) and to
STS (aliyun-python-sdk-core, GetCallerIdentity), is refused for the same reason, each port in its own
words (OSS: reference §5.2; STS: §10.4).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import oss2
import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.auth.credentials import AccessKeyCredential, StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdksts.request.v20150401.GetCallerIdentityRequest import GetCallerIdentityRequest

from helpers.localcloud.ram import state as ram
from helpers.localcloud.server import LocalCloudServer

from .conftest import BUCKET, REGION, StsCredentials, assume_role

Cred = tuple[str, str, str | None]   # AccessKey ID, secret, SecurityToken


def _oss_refusal(cloud: LocalCloudServer, cred: Cred) -> tuple[int, str]:
    ak, secret, token = cred
    auth = oss2.StsAuth(ak, secret, token) if token is not None else oss2.Auth(ak, secret)
    with pytest.raises(oss2.exceptions.OssError) as info:
        oss2.Bucket(auth, cloud.oss_endpoint, BUCKET).list_objects(max_keys=1)
    return info.value.status, info.value.code


def _sts_refusal(cloud: LocalCloudServer, cred: Cred) -> tuple[int, str]:
    ak, secret, token = cred
    credential = (StsTokenCredential(ak, secret, token) if token is not None
                  else AccessKeyCredential(ak, secret))
    client = AcsClient(region_id=REGION, credential=credential, auto_retry=False)
    req = GetCallerIdentityRequest()
    req.set_endpoint(urlsplit(cloud.sts_endpoint).netloc)
    req.set_protocol_type("http")
    with pytest.raises(ServerException) as info:
        client.do_action_with_exception(req)
    return info.value.get_http_status(), info.value.get_error_code()


@pytest.fixture
def session(creds: dict[str, Any], cloud: LocalCloudServer, workbook_bucket: oss2.Bucket) -> StsCredentials:
    return assume_role(creds, cloud, session_name="identity-a")


def _both(cloud: LocalCloudServer, cred: Cred) -> tuple[tuple[int, str], tuple[int, str]]:
    return _oss_refusal(cloud, cred), _sts_refusal(cloud, cred)


def test_token_of_another_session_is_a_mismatch(cloud: LocalCloudServer, creds: dict[str, Any],
                                                session: StsCredentials) -> None:
    other = assume_role(creds, cloud, session_name="identity-b")
    cred = (session.access_key_id, session.access_key_secret, other.security_token)
    assert _both(cloud, cred) == ((403, "InvalidSecurityToken"),
                                  (400, "InvalidSecurityToken.MismatchWithAccessKey"))


def test_forged_token_is_invalid(cloud: LocalCloudServer, session: StsCredentials) -> None:
    forged = session.security_token[:-8] + "AAAAAAA="
    cred = (session.access_key_id, session.access_key_secret, forged)
    assert _both(cloud, cred) == ((403, "InvalidSecurityToken"), (400, "InvalidSecurityToken.Malformed"))


def test_sts_key_without_token_is_refused(cloud: LocalCloudServer, session: StsCredentials) -> None:
    cred = (session.access_key_id, session.access_key_secret, None)
    assert _both(cloud, cred) == ((403, "InvalidAccessKeyId"), (400, "MissingSecurityToken"))


def test_expired_token_is_refused(cloud: LocalCloudServer, session: StsCredentials) -> None:
    cred = (session.access_key_id, session.access_key_secret, session.security_token)
    offset = cloud.ctx.clock.offset
    cloud.ctx.clock.advance(3601)
    try:
        refusals = _both(cloud, cred)
    finally:
        cloud.ctx.clock.set_offset(offset)
    assert refusals == ((403, "SecurityTokenExpired"), (400, "InvalidSecurityToken.Expired"))


def test_unknown_key_is_refused(cloud: LocalCloudServer, workbook_bucket: oss2.Bucket) -> None:
    cred = ("LTAI" + "x" * 20, "y" * 30, None)
    assert _both(cloud, cred) == ((403, "InvalidAccessKeyId"), (404, "InvalidAccessKeyId.NotFound"))


@pytest.fixture
def inactive_key(cloud: LocalCloudServer) -> Iterator[Cred]:
    """A RAM user whose only AccessKey is Inactive (as UpdateAccessKey Status=Inactive leaves it)."""
    state = cloud.ctx.accounts.ram
    key = ram.AccessKey("LTAIinactive" + "0" * 12, "s" * 30, 0, status="Inactive")
    with state.transaction() as data:
        data.users["identity-inactive"] = ram.User("identity-inactive", ram.new_digits("2", 16), 0, 0,
                                                   access_keys=[key])
    try:
        yield key.access_key_id, key.secret, None
    finally:
        with state.transaction() as data:
            del data.users["identity-inactive"]


def test_inactive_key_reads_as_unknown(cloud: LocalCloudServer, workbook_bucket: oss2.Bucket,
                                       inactive_key: Cred) -> None:
    # Reference §10.4 documents STS's `InvalidAccessKeyId.Inactive`; the local cloud has always answered
    # an Inactive key as an unknown one, and this pins that until the real answer is checked.
    assert _both(cloud, inactive_key) == ((403, "InvalidAccessKeyId"), (404, "InvalidAccessKeyId.NotFound"))
