"""STS AssumeRole conformance: the official SDKs, unmodified, against the local STS app on a real
loopback uvicorn server (helpers/localcloud/sts/app.py).

Clients: aliyun-python-sdk-core + aliyun-python-sdk-sts (RPC HMAC-SHA1), alibabacloud-sts20150401
(ACS3-HMAC-SHA256 by default, RPC with signature_algorithm='v2'). Raw requests are signed with the
SDKs' own signers, never with the code under test.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import json
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as TeaStsClient
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException as TeaClientException
from alibabacloud_tea_openapi.utils import Utils as TeaUtils
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.auth.composer import rpc_signature_composer
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.utils import parameter_helper
from aliyunsdksts.request.v20150401.AssumeRoleRequest import AssumeRoleRequest

from helpers.localcloud import accounts
from helpers.localcloud.accounts import Accounts
from helpers.localcloud.clock import Clock
from helpers.localcloud.context import LocalCloud, LocalCloudConfig
from helpers.localcloud.sts.app import create_sts_app
from helpers.localcloud.tokens import TokenAuthority, load_or_create_key

REGION = "cn-hangzhou"
OSS_ONLY_POLICY = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:GetObject",
                                                  "Resource": "acs:oss:*:*:workbook/*"}]}


@dataclass
class Sts:
    ctx: LocalCloud
    doc: dict[str, Any]
    port: int
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)   # name -> (ak, secret)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}/"

    @property
    def role_arn(self) -> str:
        return str(self.doc["role_arn"])

    def arn(self, role_name: str) -> str:
        return f"acs:ram::{self.doc['account_id']}:role/{role_name}"


def _add_user(doc: dict[str, Any], name: str, policies: list[dict[str, Any]]) -> tuple[str, str]:
    ak, secret = accounts.new_access_key_id(), accounts.new_access_key_secret()
    doc["ram"]["users"][name] = {"access_key_id": ak, "access_key_secret": secret, "policies": policies}
    return ak, secret


def _add_role(doc: dict[str, Any], name: str, *, trusted_account: str, max_duration: int = 3600) -> None:
    doc["ram"]["roles"][name] = {
        "role_id": "3" + "7" * 17, "max_session_duration": max_duration,
        "trust_policy": {"Version": "1", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"RAM": [f"acs:ram::{trusted_account}:root"]}}]},
        "policies": [accounts.role_policy_for_bucket("workbook")]}


@contextlib.contextmanager
def serve(app: Any) -> Iterator[int]:
    """Run `app` with uvicorn on 127.0.0.1, port 0, in a daemon thread; yield the port."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, log_level="critical",
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.01)
    assert server.started, "STS server did not start"
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)


@pytest.fixture(scope="module")
def sts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sts]:
    data: Path = tmp_path_factory.mktemp("sts")
    doc, _ = accounts.load_or_create(data / "credentials.json")
    keys = {"admin": (doc["admin"]["access_key_id"], doc["admin"]["access_key_secret"]),
            "appserver": (doc["appserver"]["access_key_id"], doc["appserver"]["access_key_secret"])}
    # A RAM user with OSS rights but no sts:AssumeRole, and one allowed to assume any role.
    keys["noperm"] = _add_user(doc, "noperm", [OSS_ONLY_POLICY])
    keys["anyrole"] = _add_user(doc, "anyrole", [{"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}])
    _add_role(doc, "long-role", trusted_account=doc["account_id"], max_duration=43200)
    _add_role(doc, "foreign-trust", trusted_account="1999999999999999")
    _add_role(doc, "partner-role", trusted_account=doc["account_id"])
    doc["ram"]["roles"]["partner-role"]["trust_policy"]["Statement"][0]["Condition"] = {
        "StringEquals": {"sts:ExternalId": "partner-7"}}
    # A role whose sessions may themselves assume long-role (role chaining).
    _add_role(doc, "chain-role", trusted_account=doc["account_id"])
    doc["ram"]["roles"]["chain-role"]["policies"] = [{"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Resource": f"acs:ram::{doc['account_id']}:role/long-role"}]}]
    (data / "credentials.json").write_text(json.dumps(doc), encoding="utf-8")
    ctx = LocalCloud(config=LocalCloudConfig(data_dir=data), clock=Clock(), accounts=Accounts(doc),
                     tokens=TokenAuthority(load_or_create_key(data / "keys" / "token.key")))
    with serve(create_sts_app(ctx)) as port:
        yield Sts(ctx, doc, port, keys)


# ---- client helpers ----------------------------------------------------------------------------

def core_assume(sts: Sts, who: str = "appserver", *, secret: str | None = None, role_arn: str | None = None,
                session: str = "alice", duration: int | None = None, policy: str | None = None,
                ak: str | None = None) -> dict[str, Any]:
    key_id, key_secret = sts.keys.get(who, ("", ""))
    client = AcsClient(ak or key_id, secret or key_secret, REGION, auto_retry=False)
    req = AssumeRoleRequest()
    req.set_endpoint(sts.endpoint)
    req.set_protocol_type("http")
    req.set_RoleArn(role_arn or sts.role_arn)
    req.set_RoleSessionName(session)
    if duration is not None:
        req.set_DurationSeconds(duration)
    if policy is not None:
        req.set_Policy(policy)
    return json.loads(client.do_action_with_exception(req))


def core_error(sts: Sts, who: str = "appserver", **kwargs: Any) -> ServerException:
    with pytest.raises(ServerException) as info:
        core_assume(sts, who, **kwargs)
    return info.value


def tea_client(sts: Sts, who: str = "appserver", *, v2: bool = False, secret: str | None = None,
               endpoint: str | None = None, ak: str | None = None,
               security_token: str | None = None) -> TeaStsClient:
    key_id, key_secret = sts.keys.get(who, ("", ""))
    config = open_api_models.Config(access_key_id=ak or key_id, access_key_secret=secret or key_secret,
                                    security_token=security_token, endpoint=endpoint or sts.endpoint,
                                    protocol="http", region_id=REGION)
    if v2:
        config.signature_algorithm = "v2"
    return TeaStsClient(config)


def tea_request(sts: Sts, *, role_arn: str | None = None, session: str = "bob",
                duration: int | None = 1800, policy: str | None = None) -> sts_models.AssumeRoleRequest:
    return sts_models.AssumeRoleRequest(role_arn=role_arn or sts.role_arn, role_session_name=session,
                                        duration_seconds=duration, policy=policy)


def tea_error(client: TeaStsClient, request: sts_models.AssumeRoleRequest) -> TeaClientException:
    with pytest.raises(TeaClientException) as info:
        client.assume_role(request)
    return info.value


def core_signed_path(sts: Sts, *, accept_format: str = "JSON", method: str = "POST",
                     extra: dict[str, str] | None = None) -> str:
    """`/?...&Signature=...` for an AssumeRole, signed by aliyun-python-sdk-core's RPC composer."""
    ak, secret = sts.keys["appserver"]
    params = {"Action": "AssumeRole", "Version": "2015-04-01", "RegionId": REGION,
              "RoleArn": sts.role_arn, "RoleSessionName": "raw-session", **(extra or {})}
    path, _ = rpc_signature_composer.get_signed_url(params, ak, secret, accept_format, method, {})
    return path


def assert_json_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json;charset=utf-8"
    body = resp.json()
    assert body["Code"] == code
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    return body


# ---- success -------------------------------------------------------------------------------------

def test_core_assume_role_default_returns_verifiable_token(sts: Sts) -> None:
    before = time.time()
    body = core_assume(sts)
    creds = body["Credentials"]
    assert creds["AccessKeyId"].startswith("STS.")
    claims = sts.ctx.tokens.verify(creds["AccessKeyId"], creds["SecurityToken"])
    assert creds["AccessKeySecret"] == sts.ctx.tokens.secret_for(creds["AccessKeyId"])
    assert claims.role_arn == sts.role_arn and claims.session_name == "alice"
    assert claims.session_policy is None
    expires = calendar.timegm(time.strptime(creds["Expiration"], "%Y-%m-%dT%H:%M:%SZ"))
    assert before + 3600 - 2 <= expires <= time.time() + 3600 + 1
    assert body["AssumedRoleUser"]["Arn"] == sts.role_arn.lower() + "/alice"
    assert body["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice")
    assert len(body["RequestId"]) == 36


def test_core_assume_role_policy_and_duration_are_carried_into_token(sts: Sts) -> None:
    policy = json.dumps(OSS_ONLY_POLICY, indent=2)   # pretty JSON: spaces and newlines get signed
    body = core_assume(sts, duration=900, policy=policy, session="user@example.com")
    creds = body["Credentials"]
    claims = sts.ctx.tokens.verify(creds["AccessKeyId"], creds["SecurityToken"])
    assert claims.session_policy == policy
    assert abs(claims.expiration - (time.time() + 900)) <= 2
    assert body["AssumedRoleUser"]["Arn"].endswith("/user@example.com")


def test_tea_acs3_assume_role_default_returns_verifiable_token(sts: Sts) -> None:
    resp = tea_client(sts).assume_role(tea_request(sts, policy=json.dumps(OSS_ONLY_POLICY)))
    assert resp.status_code == 200
    creds = resp.body.credentials
    claims = sts.ctx.tokens.verify(creds.access_key_id, creds.security_token)
    assert claims.session_name == "bob" and claims.session_policy is not None
    expires = calendar.timegm(time.strptime(creds.expiration, "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(expires - (time.time() + 1800)) <= 2
    assert resp.body.assumed_role_user.arn == sts.role_arn.lower() + "/bob"


def test_tea_acs3_endpoint_with_scheme_signs_raw_host_accepted(sts: Sts) -> None:
    # The Host header is then literally `http://127.0.0.1:PORT` and is signed that way (reference §10.6).
    resp = tea_client(sts, endpoint=f"http://{sts.endpoint}").assume_role(tea_request(sts))
    assert resp.body.credentials.access_key_id.startswith("STS.")


def test_tea_rpc_v2_assume_role_returns_verifiable_token(sts: Sts) -> None:
    resp = tea_client(sts, v2=True).assume_role(tea_request(sts, duration=None))
    creds = resp.body.credentials
    claims = sts.ctx.tokens.verify(creds.access_key_id, creds.security_token)
    assert abs(claims.expiration - (time.time() + 3600)) <= 2


def test_assume_role_source_identity_is_echoed(sts: Sts) -> None:
    req = tea_request(sts)
    req.source_identity = "app-user-42"
    resp = tea_client(sts).assume_role(req)
    assert resp.body.source_identity == "app-user-42"


def test_assume_role_duration_up_to_role_max_accepted(sts: Sts) -> None:
    body = core_assume(sts, "anyrole", role_arn=sts.arn("long-role"), duration=43200)
    claims = sts.ctx.tokens.verify(body["Credentials"]["AccessKeyId"], body["Credentials"]["SecurityToken"])
    assert abs(claims.expiration - (time.time() + 43200)) <= 2


def test_assume_role_expiration_follows_moved_clock(sts: Sts) -> None:
    sts.ctx.clock.set_offset(7200)
    try:
        body = core_assume(sts)   # Timestamp skew is checked against real time, so this still works
    finally:
        sts.ctx.clock.set_offset(0)
    expires = calendar.timegm(time.strptime(body["Credentials"]["Expiration"], "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(expires - (time.time() + 7200 + 3600)) <= 2


def test_assume_role_format_xml_returns_xml_document(sts: Sts) -> None:
    resp = httpx.post(sts.url.rstrip("/") + core_signed_path(sts, accept_format="XML"))
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/xml;charset=utf-8"
    root = ET.fromstring(resp.content)
    assert root.tag == "AssumeRoleResponse"
    assert root.findtext("Credentials/AccessKeyId", "").startswith("STS.")
    assert root.findtext("AssumedRoleUser/Arn") == sts.role_arn.lower() + "/raw-session"


def test_stats_counts_successful_calls_only(sts: Sts) -> None:
    before = httpx.get(f"{sts.url}_localcloud/stats").json()["assume_role_calls"]
    core_assume(sts)
    core_error(sts, duration=899)
    after = httpx.get(f"{sts.url}_localcloud/stats").json()
    assert after == {"assume_role_calls": before + 1}
    assert sts.ctx.extras["sts_assume_role_calls"] == before + 1


# ---- authentication failures ------------------------------------------------------------------------

def test_core_wrong_secret_rewritten_to_invalid_access_key_secret(sts: Sts) -> None:
    # The server says SignatureDoesNotMatch; core compares the string to sign after the ':' in the
    # message with its own, finds them equal, and rewrites the code (aliyunsdkcore/client.py).
    err = core_error(sts, secret="wrong-secret")
    assert err.get_http_status() == 400
    assert err.get_error_code() == "InvalidAccessKeySecret"


def test_tea_acs3_wrong_secret_signature_does_not_match(sts: Sts) -> None:
    err = tea_error(tea_client(sts, secret="wrong-secret"), tea_request(sts))
    assert err.status_code == 400 and err.code == "SignatureDoesNotMatch"
    assert "server string to sign is:ACS3-HMAC-SHA256\n" in err.data["Message"]
    assert {"RequestId", "HostId", "Code", "Message", "Recommend"} <= set(err.data)   # tea adds statusCode


def test_tea_rpc_wrong_secret_signature_does_not_match(sts: Sts) -> None:
    err = tea_error(tea_client(sts, v2=True, secret="wrong-secret"), tea_request(sts))
    assert err.status_code == 400 and err.code == "SignatureDoesNotMatch"
    assert err.data["Message"].split(":")[1].startswith("POST&%2F&AccessKeyId%3D")


def test_core_unknown_access_key_not_found(sts: Sts) -> None:
    err = core_error(sts, ak="LTAI5tNoSuchKeyAtAll00000", secret="x")
    assert (err.get_http_status(), err.get_error_code()) == (404, "InvalidAccessKeyId.NotFound")


def test_tea_acs3_unknown_access_key_not_found(sts: Sts) -> None:
    err = tea_error(tea_client(sts, ak="LTAI5tNoSuchKeyAtAll00000", secret="x"), tea_request(sts))
    assert (err.status_code, err.code) == (404, "InvalidAccessKeyId.NotFound")


def test_core_root_access_key_refused(sts: Sts) -> None:
    err = core_error(sts, "admin")
    assert (err.get_http_status(), err.get_error_code()) == (403, "NoPermission")
    assert err.get_error_msg() == "Roles may not be assumed by root accounts."


def test_core_skewed_timestamp_expired(sts: Sts, monkeypatch: pytest.MonkeyPatch) -> None:
    skewed = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 16 * 60))
    monkeypatch.setattr(parameter_helper, "get_iso_8061_date", lambda: skewed)
    err = core_error(sts)
    assert (err.get_http_status(), err.get_error_code()) == (400, "InvalidTimeStamp.Expired")


def test_tea_acs3_skewed_date_expired(sts: Sts, monkeypatch: pytest.MonkeyPatch) -> None:
    skewed = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 16 * 60))
    monkeypatch.setattr(TeaUtils, "get_timestamp", staticmethod(lambda: skewed))
    err = tea_error(tea_client(sts), tea_request(sts))
    assert (err.status_code, err.code) == (400, "InvalidTimeStamp.Expired")


def test_raw_replayed_signed_url_nonce_used(sts: Sts) -> None:
    url = sts.url.rstrip("/") + core_signed_path(sts)
    first = httpx.post(url)
    assert first.status_code == 200, first.text
    assert_json_error(httpx.post(url), 400, "SignatureNonceUsed")


def test_raw_tampered_signed_url_signature_mismatch(sts: Sts) -> None:
    url = sts.url.rstrip("/") + core_signed_path(sts)
    body = assert_json_error(httpx.post(url.replace("raw-session", "raw-sessioN")), 400,
                             "SignatureDoesNotMatch")
    assert "RoleSessionName%3Draw-sessioN" in body["Message"].split(":", 1)[1]


def test_raw_acs3_body_not_matching_content_sha256_refused(sts: Sts) -> None:
    ak, secret = sts.keys["appserver"]

    class _Req:   # the attributes tea's Utils.get_authorization reads
        method, pathname = "POST", "/"
        query = {"RoleArn": sts.role_arn, "RoleSessionName": "tamper"}
        headers = {"host": sts.endpoint, "x-acs-action": "AssumeRole", "x-acs-version": "2015-04-01",
                   "x-acs-date": TeaUtils.get_timestamp(), "x-acs-signature-nonce": TeaUtils.get_nonce(),
                   "x-acs-content-sha256": TeaUtils.hash(b"", "ACS3-HMAC-SHA256").hex()}

    payload_hash = _Req.headers["x-acs-content-sha256"]
    auth = TeaUtils.get_authorization(_Req, "ACS3-HMAC-SHA256", payload_hash, ak, secret)
    headers = {**_Req.headers, "authorization": auth}
    swapped = httpx.post(sts.url, params=_Req.query, headers=headers, content=b"swapped body")
    assert_json_error(swapped, 400, "SignatureDoesNotMatch")
    # Control: the same signed request with the body it was signed for is accepted.
    genuine = httpx.post(sts.url, params=_Req.query, headers=headers)
    assert genuine.status_code == 200, genuine.text


def test_sts_credentials_without_token_missing_security_token(sts: Sts) -> None:
    creds = core_assume(sts)["Credentials"]
    client = tea_client(sts, ak=creds["AccessKeyId"], secret=creds["AccessKeySecret"])
    err = tea_error(client, tea_request(sts))
    assert (err.status_code, err.code) == (400, "MissingSecurityToken")


def test_sts_credentials_role_chain_without_permission_refused(sts: Sts) -> None:
    # The role's policies grant OSS only, so its sessions may not call sts:AssumeRole.
    creds = core_assume(sts)["Credentials"]
    client = tea_client(sts, ak=creds["AccessKeyId"], secret=creds["AccessKeySecret"],
                        security_token=creds["SecurityToken"])
    err = tea_error(client, tea_request(sts))
    assert (err.status_code, err.code) == (403, "NoPermission")


def test_sts_credentials_expired_token_refused(sts: Sts) -> None:
    creds = core_assume(sts, duration=900)["Credentials"]
    client = tea_client(sts, v2=True, ak=creds["AccessKeyId"], secret=creds["AccessKeySecret"],
                        security_token=creds["SecurityToken"])
    sts.ctx.clock.set_offset(901)
    try:
        err = tea_error(client, tea_request(sts))
    finally:
        sts.ctx.clock.set_offset(0)
    assert (err.status_code, err.code) == (400, "InvalidSecurityToken.Expired")


def test_sts_credentials_forged_token_malformed(sts: Sts) -> None:
    creds = core_assume(sts)["Credentials"]
    forged = creds["SecurityToken"][:-8] + "AAAAAAA="
    client = tea_client(sts, ak=creds["AccessKeyId"], secret=creds["AccessKeySecret"], security_token=forged)
    err = tea_error(client, tea_request(sts))
    assert (err.status_code, err.code) == (400, "InvalidSecurityToken.Malformed")


# ---- parameter and authorization failures -----------------------------------------------------------

@pytest.mark.parametrize("duration", [899, 3601])
def test_core_duration_out_of_range_invalid(sts: Sts, duration: int) -> None:
    err = core_error(sts, duration=duration)
    assert (err.get_http_status(), err.get_error_code()) == (400, "InvalidParameter.DurationSeconds")
    assert err.get_error_msg() == "The Min/Max value of DurationSeconds is 15min/1hr."


@pytest.mark.parametrize("session", ["a", "bad name", "x" * 65, "名字名字"])
def test_core_bad_session_name_wrongly_formed(sts: Sts, session: str) -> None:
    err = core_error(sts, session=session)
    assert (err.get_http_status(), err.get_error_code()) == (400, "InvalidParameter.RoleSessionName")
    assert err.get_error_msg() == "The parameter RoleSessionName is wrongly formed."


def test_core_policy_longer_than_2048_refused(sts: Sts) -> None:
    policy = json.dumps(OSS_ONLY_POLICY)
    policy = policy[:-1] + " " * (2049 - len(policy)) + "}"
    assert len(policy) == 2049
    err = core_error(sts, policy=policy)
    assert (err.get_http_status(), err.get_error_code()) == (400, "InvalidParameter.PolicyLength")
    assert core_assume(sts, policy=policy[:-2] + "}")["Credentials"]   # 2048 is still fine


@pytest.mark.parametrize("policy", [
    '{"Version": "1", "Statement": [',                                    # not JSON
    json.dumps({**OSS_ONLY_POLICY, "Version": "2012-10-17"}),             # wrong Version
    json.dumps({"Version": "1", "Statement": [{"Effect": "Maybe", "Action": "oss:*", "Resource": "*"}]}),
])
def test_core_bad_policy_grammar_refused(sts: Sts, policy: str) -> None:
    err = core_error(sts, policy=policy)
    assert (err.get_http_status(), err.get_error_code()) == (400, "InvalidParameter.PolicyGrammar")
    assert err.get_error_msg() == "The parameter Policy has not passed grammar check."


def test_tea_bad_policy_grammar_refused(sts: Sts) -> None:
    err = tea_error(tea_client(sts), tea_request(sts, policy="not json"))
    assert (err.status_code, err.code) == (400, "InvalidParameter.PolicyGrammar")


def test_core_unknown_role_outside_caller_policy_no_permission(sts: Sts) -> None:
    err = core_error(sts, role_arn=sts.arn("no-such-role"))
    assert (err.get_http_status(), err.get_error_code()) == (403, "NoPermission")


def test_core_unknown_role_with_wildcard_permission_entity_not_exist(sts: Sts) -> None:
    err = core_error(sts, "anyrole", role_arn=sts.arn("no-such-role"))
    assert (err.get_http_status(), err.get_error_code()) == (404, "EntityNotExist.Role")


def test_core_malformed_role_arn_wrongly_formed(sts: Sts) -> None:
    err = core_error(sts, role_arn="arn:aws:iam::123:role/x")
    assert (err.get_http_status(), err.get_error_code()) == (400, "InvalidParameter.RoleArn")


def test_core_user_without_assume_role_permission_refused(sts: Sts) -> None:
    err = core_error(sts, "noperm")
    assert (err.get_http_status(), err.get_error_code()) == (403, "NoPermission")
    assert err.get_error_msg().startswith("No permission perform sts:AssumeRole on this Role.")


def test_core_role_not_trusting_caller_refused(sts: Sts) -> None:
    err = core_error(sts, "anyrole", role_arn=sts.arn("foreign-trust"))
    assert (err.get_http_status(), err.get_error_code()) == (403, "NoPermission")


def test_core_duration_above_long_role_max_invalid(sts: Sts) -> None:
    err = core_error(sts, "anyrole", role_arn=sts.arn("long-role"), duration=43201)
    assert err.get_error_code() == "InvalidParameter.DurationSeconds"
    assert err.get_error_msg() == "The Min/Max value of DurationSeconds is 15min/12hr."


def test_raw_wrong_action_not_found(sts: Sts) -> None:
    path = core_signed_path(sts, extra={"Action": "GetFederationToken"})
    assert_json_error(httpx.post(sts.url.rstrip("/") + path), 404, "InvalidAction.NotFound")


def test_raw_wrong_version_invalid(sts: Sts) -> None:
    path = core_signed_path(sts, extra={"Version": "2019-01-01"})
    assert_json_error(httpx.post(sts.url.rstrip("/") + path), 400, "InvalidVersion")


def test_raw_missing_signature_refused(sts: Sts) -> None:
    resp = httpx.post(sts.url, params={"Action": "AssumeRole", "Version": "2015-04-01"})
    assert_json_error(resp, 400, "MissingAccessKeyId")


# ---- malformed requests: always STS JSON 4xx, never 5xx ------------------------------------------------

@pytest.mark.parametrize(("content", "content_type"), [
    (b"\xff\xfe\x00garbage=%%%", "application/x-www-form-urlencoded"),
    (b"{not json", "application/json"),
    (b"Action=AssumeRole&Version=2015-04-01&" + b"&".join(b"k%d=v" % i for i in range(200)),
     "application/x-www-form-urlencoded"),
    (b"Policy=" + b"x" * 200_000, "application/x-www-form-urlencoded"),
    (b"\x00" * (2 * 1024 * 1024), "application/octet-stream"),
    (b"<xml/>", "text/xml"),
])
def test_raw_malformed_body_json_4xx(sts: Sts, content: bytes, content_type: str) -> None:
    resp = httpx.post(sts.url, content=content, headers={"content-type": content_type})
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.headers["content-type"] == "application/json;charset=utf-8"
    assert set(resp.json()) == {"RequestId", "HostId", "Code", "Message", "Recommend"}


def test_raw_form_body_parameters_are_read_and_signed(sts: Sts) -> None:
    # Form-encoded parameters count as parameters (RPC clients may POST them); unsigned → still refused.
    resp = httpx.post(sts.url, data={"Action": "AssumeRole", "Version": "2015-04-01", "AccessKeyId": "x"})
    assert_json_error(resp, 400, "MissingSignature")


def test_raw_bad_query_encoding_json_4xx(sts: Sts) -> None:
    resp = httpx.post(sts.url + "?Action=%ff%fe&Version=2015-04-01")
    assert 400 <= resp.status_code < 500
    assert resp.json()["Code"]


def test_raw_unknown_path_and_method_json_errors(sts: Sts) -> None:
    assert_json_error(httpx.get(f"{sts.url}nothing/here"), 404, "InvalidAction.NotFound")
    assert_json_error(httpx.put(sts.url, content=b"x"), 405, "UnsupportedHTTPMethod")


def test_raw_ack_with_malformed_authorization_incomplete_signature(sts: Sts) -> None:
    headers = {"authorization": "ACS3-HMAC-SHA256 Credential=x", "x-acs-action": "AssumeRole",
               "x-acs-version": "2015-04-01"}
    assert_json_error(httpx.post(sts.url, headers=headers), 400, "IncompleteSignature")


def test_raw_get_signed_url_accepted(sts: Sts) -> None:
    # GET with every parameter in the query, as alibabacloud-credentials' RamRoleArn provider sends it.
    resp = httpx.get(sts.url.rstrip("/") + core_signed_path(sts, method="GET"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["Credentials"]["AccessKeyId"].startswith("STS.")


def test_raw_error_with_format_xml_is_xml(sts: Sts) -> None:
    path = core_signed_path(sts, accept_format="XML", extra={"RoleSessionName": "x"})
    resp = httpx.post(sts.url.rstrip("/") + path)
    assert resp.status_code == 400
    assert resp.headers["content-type"] == "text/xml;charset=utf-8"
    root = ET.fromstring(resp.content)
    assert root.tag == "Error" and root.findtext("Code") == "InvalidParameter.RoleSessionName"
    assert [child.tag for child in root] == ["RequestId", "HostId", "Code", "Message", "Recommend"]


def test_unexpected_exception_renders_internal_error_json(sts: Sts) -> None:
    # A local cloud whose identity store is broken: the failure must still leave as STS JSON.
    broken = LocalCloud(config=sts.ctx.config, clock=Clock(), accounts=None,  # type: ignore[arg-type]
                        tokens=sts.ctx.tokens)
    with serve(create_sts_app(broken)) as port:
        path = core_signed_path(sts)
        resp = httpx.post(f"http://127.0.0.1:{port}{path}")
    body = assert_json_error(resp, 500, "InternalError")
    assert "Traceback" not in resp.text and "NoneType" not in body["Message"]


def test_stats_from_non_loopback_client_not_found(sts: Sts) -> None:
    # A non-loopback source address cannot be produced over a loopback socket; use the ASGI transport.
    transport = httpx.ASGITransport(app=create_sts_app(sts.ctx), client=("192.0.2.7", 40000))

    async def fetch() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://sts.local") as client:
            return await client.get("/_localcloud/stats")
    assert_json_error(asyncio.run(fetch()), 404, "InvalidAction.NotFound")


def test_external_id_matching_trust_condition_accepted(sts: Sts) -> None:
    req = tea_request(sts, role_arn=sts.arn("partner-role"))
    req.external_id = "partner-7"
    assert tea_client(sts, "anyrole").assume_role(req).body.credentials.access_key_id.startswith("STS.")


@pytest.mark.parametrize("external_id", [None, "partner-8"])
def test_external_id_missing_or_wrong_no_permission(sts: Sts, external_id: str | None) -> None:
    req = tea_request(sts, role_arn=sts.arn("partner-role"))
    req.external_id = external_id
    err = tea_error(tea_client(sts, "anyrole"), req)
    assert (err.status_code, err.code) == (403, "NoPermission")


def test_role_chain_allowed_by_role_policy_capped_at_one_hour(sts: Sts) -> None:
    first = core_assume(sts, "anyrole", role_arn=sts.arn("chain-role"))["Credentials"]
    client = tea_client(sts, ak=first["AccessKeyId"], secret=first["AccessKeySecret"],
                        security_token=first["SecurityToken"])
    err = tea_error(client, tea_request(sts, role_arn=sts.arn("long-role"), duration=3601))
    assert (err.status_code, err.code) == (400, "InvalidParameter.DurationSeconds")
    resp = client.assume_role(tea_request(sts, role_arn=sts.arn("long-role"), duration=3600))
    claims = sts.ctx.tokens.verify(resp.body.credentials.access_key_id, resp.body.credentials.security_token)
    assert claims.role_arn == sts.arn("long-role")
