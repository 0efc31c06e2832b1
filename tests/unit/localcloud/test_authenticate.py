"""`authenticate()` / `authenticate_post_form()` refusals: expiry, skew, STS token checks, V4 scope checks.

Requests are signed by the SDKs (see sdk_signing.py); PostObject forms are signed the way the official
samples do it (hmac over the base64 policy), since no SDK implements PostObject.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import time
from collections.abc import Callable

import pytest
from alibabacloud_oss_v2.signer import SignerV1, SignerV4
from oss2.utils import http_date

from helpers.localcloud.errors import OssError
from helpers.localcloud.identity import Principal
from helpers.localcloud.oss.auth import authenticate_post_form
from helpers.localcloud.oss.request import Headers
from helpers.protocol import post_form

from .sdk_signing import (
    REGION,
    SIGNERS,
    Cred,
    World,
    make_world,
    oss2_header,
    oss2_url,
    to_request,
    v2_signer,
)


@pytest.fixture()
def world() -> World:
    # Function scope: several tests move the clock.
    return make_world()


def _refused(world: World, signed: tuple[str, str, dict[str, str]]) -> OssError:
    with pytest.raises(OssError) as ei:
        world.auth(to_request(signed))
    return ei.value


# --- signed URL expiry ---------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["v1", "v4", "v2"])
def test_authenticate_oss2_url_after_expiry_returns_access_denied(world: World, version: str) -> None:
    signed = oss2_url(version, expires=60)(world.root, "GET", "k.txt", {}, {})
    assert world.auth(to_request(signed)).kind == "account"
    world.clock.advance(61 + 1)
    err = _refused(world, signed)
    assert (err.status, err.code, err.message) == (403, "AccessDenied", "Request has expired.")
    assert err.extra["Expires"].endswith(".000Z") and err.extra["ServerTime"].endswith(".000Z")


@pytest.mark.parametrize("signer", [SignerV1(), SignerV4()], ids=["v1", "v4"])
def test_authenticate_v2sdk_presign_after_expiry_returns_access_denied(world: World,
                                                                       signer: SignerV1 | SignerV4) -> None:
    sign = v2_signer(signer, query=True, expires=datetime.timedelta(seconds=30))
    signed = sign(world.sts, "GET", "k", {}, {})
    assert world.auth(to_request(signed)).kind == "sts"
    world.clock.advance(45)
    err = _refused(world, signed)
    assert (err.status, err.code, err.message) == (403, "AccessDenied", "Request has expired.")


def test_authenticate_v4_url_longer_than_seven_days_returns_invalid_argument(world: World) -> None:
    err = _refused(world, oss2_url("v4", expires=604801)(world.root, "GET", "k", {}, {}))
    assert (err.status, err.code) == (400, "InvalidArgument")


def test_authenticate_v4_url_exactly_seven_days_accepted(world: World) -> None:
    assert world.auth(to_request(oss2_url("v4", expires=604800)(world.root, "GET", "k", {}, {}))).kind \
        == "account"


# --- request time skew (real time, not the movable clock) ----------------------------------------

def test_authenticate_v1_header_x_oss_date_a_day_ahead_returns_request_time_too_skewed(world: World) -> None:
    headers = {"x-oss-date": http_date(int(time.time()) + 24 * 3600)}
    err = _refused(world, SIGNERS["oss2-v1-header"](world.root, "GET", "k", {}, headers))
    assert (err.status, err.code) == (403, "RequestTimeTooSkewed")
    assert err.message == "The difference between the request time and the current time is too large."
    assert err.ec == "0002-00000504"
    assert err.extra["MaxAllowedSkewMilliseconds"] == "900000"
    assert set(err.extra) == {"MaxAllowedSkewMilliseconds", "RequestTime", "ServerTime"}


def test_authenticate_v4_header_signed_an_hour_ago_returns_request_time_too_skewed(world: World) -> None:
    sign = v2_signer(SignerV4(), query=False, time_offset=-3600)
    err = _refused(world, sign(world.root, "GET", "k", {}, {}))
    assert (err.status, err.code) == (403, "RequestTimeTooSkewed")


def test_authenticate_v1_header_fourteen_minutes_off_accepted(world: World) -> None:
    signed = v2_signer(SignerV1(), query=False, time_offset=14 * 60)(world.root, "GET", "k", {}, {})
    assert world.auth(to_request(signed)).kind == "account"


def test_authenticate_moved_clock_does_not_cause_skew(world: World) -> None:
    world.clock.advance(7200)
    assert world.auth(to_request(SIGNERS["oss2-v4-header"](world.root, "GET", "k", {}, {}))).kind == "account"


def test_authenticate_v1_header_without_date_returns_access_denied(world: World) -> None:
    method, url, headers = SIGNERS["oss2-v1-header"](world.root, "GET", "k", {}, {})
    headers = {k: v for k, v in headers.items() if k.lower() != "date"}
    err = _refused(world, (method, url, headers))
    assert (err.status, err.code) == (403, "AccessDenied")
    assert err.message == "OSS authentication requires a valid Date."


# --- access keys and STS tokens ------------------------------------------------------------------

def test_authenticate_unknown_access_key_returns_invalid_access_key_id(world: World) -> None:
    unknown = Cred("LTAI5tNoSuchKey000000000", "x")
    err = _refused(world, SIGNERS["oss2-v4-header"](unknown, "GET", "k", {}, {}))
    assert (err.status, err.code) == (403, "InvalidAccessKeyId")
    assert err.message == "The OSS Access Key Id you provided does not exist in our records."
    assert err.extra == {"OSSAccessKeyId": "LTAI5tNoSuchKey000000000"}


@pytest.mark.parametrize("signer", ["oss2-v1-header", "oss2-v4-url", "v2sdk-v4-header"])
def test_authenticate_sts_key_without_token_returns_invalid_access_key_id(world: World, signer: str) -> None:
    err = _refused(world, SIGNERS[signer](Cred(world.sts.ak, world.sts.secret), "GET", "k", {}, {}))
    assert (err.status, err.code) == (403, "InvalidAccessKeyId")
    assert err.message == ("The OSS Access Key Id you provided does not exist in our records. "
                           "The Security Token may be lost to specify that it is a STS Access Id.")
    assert err.ec == "0002-00000003" and err.extra["OSSAccessKeyId"] == world.sts.ak


@pytest.mark.parametrize("signer", ["oss2-v1-header", "v2sdk-v1-header", "oss2-v1-url", "v2sdk-v4-query"])
def test_authenticate_bogus_token_returns_invalid_security_token(world: World, signer: str) -> None:
    bogus = "CAIS" + base64.b64encode(b"x" * 64).decode()
    err = _refused(world, SIGNERS[signer](Cred(world.sts.ak, world.sts.secret, bogus), "GET", "k", {}, {}))
    assert (err.status, err.code) == (403, "InvalidSecurityToken")
    assert err.message == "The security token you provided is invalid."
    assert err.ec == "0002-00000006" and err.extra == {"SecurityToken": bogus}


def test_authenticate_token_of_another_access_key_returns_invalid_security_token(world: World) -> None:
    role = next(iter(world.accounts.roles.values()))
    other = world.tokens.mint(account_id=world.accounts.account_id, role_arn=role.arn, role_id=role.role_id,
                              session_name="bob", expiration=int(world.clock.now()) + 3600,
                              session_policy=None)
    mixed = Cred(world.sts.ak, world.sts.secret, other.security_token)
    err = _refused(world, SIGNERS["oss2-v4-header"](mixed, "GET", "k", {}, {}))
    assert (err.status, err.code) == (403, "InvalidSecurityToken")


def test_authenticate_expired_token_returns_security_token_expired(world: World) -> None:
    world.clock.advance(3601)
    err = _refused(world, SIGNERS["v2sdk-v4-header"](world.sts, "GET", "k", {}, {}))
    assert (err.status, err.code) == (403, "SecurityTokenExpired")
    assert err.message == "The security token you provided has expired."
    assert err.ec == "0002-00000007" and err.extra == {"SecurityToken": world.sts.token}


def test_authenticate_signature_mismatch_does_not_echo_secret(world: World) -> None:
    bad = Cred(world.root.ak, world.root.secret[::-1])
    err = _refused(world, SIGNERS["v2sdk-v4-header"](bad, "GET", "k", {}, {}))
    assert err.code == "SignatureDoesNotMatch" and "CanonicalRequest" in err.extra
    blob = json.dumps(err.extra) + err.message
    assert world.root.secret not in blob and bad.secret not in blob
    first = err.extra["StringToSign"].encode()[:3]
    assert err.extra["StringToSignBytes"].startswith(" ".join(f"{b:02X}" for b in first))


# --- V4 scope ------------------------------------------------------------------------------------

def test_authenticate_v4_header_wrong_region_returns_invalid_argument(world: World) -> None:
    err = _refused(world, oss2_header("v4", region="cn-beijing")(world.root, "HEAD", "k", {}, {}))
    assert (err.status, err.code, err.ec) == (400, "InvalidArgument", "0002-00000226")
    assert err.message == "Invalid signing region in Authorization header."


def test_authenticate_v4_header_wrong_product_returns_invalid_argument(world: World) -> None:
    sign = v2_signer(SignerV4(), query=False, product="oss-cloudbox")
    err = _refused(world, sign(world.root, "GET", "k", {}, {}))
    assert (err.status, err.code, err.ec) == (400, "InvalidArgument", "0002-00000227")
    assert err.message == "Invalid signing product in Authorization header."


def test_authenticate_v4_url_without_region_returns_invalid_argument(world: World) -> None:
    # oss2 quirk: sign_url with AuthV4 and no region signs an empty region instead of raising.
    err = _refused(world, oss2_url("v4", region=None)(world.root, "PUT", "k", {}, {}))
    assert (err.status, err.code, err.ec) == (400, "InvalidArgument", "0002-00000226")
    assert err.message == "The signing region in credential is invalid."


def test_authenticate_v4_header_scope_date_differs_returns_invalid_argument(world: World) -> None:
    method, url, headers = SIGNERS["oss2-v4-header"](world.root, "GET", "k", {}, {})
    auth = headers["authorization"]
    day = auth.split("Credential=")[1].split("/")[1]
    other = (datetime.datetime.strptime(day, "%Y%m%d") - datetime.timedelta(days=1)).strftime("%Y%m%d")
    headers["authorization"] = auth.replace(f"/{day}/", f"/{other}/")
    err = _refused(world, (method, url, headers))
    assert (err.status, err.code, err.message) == (400, "InvalidArgument",
                                                   "Invalid credential in Authorization header.")


def test_authenticate_unknown_authorization_scheme_returns_invalid_argument(world: World) -> None:
    req = to_request(("GET", "http://127.0.0.1:9000/workbook/k", {"Authorization": "Bearer abc"}))
    with pytest.raises(OssError) as ei:
        world.auth(req)
    assert (ei.value.status, ei.value.code) == (400, "InvalidArgument")


def test_authenticate_no_signature_returns_anonymous(world: World) -> None:
    req = to_request(("GET", "http://127.0.0.1:9000/workbook/k", {"Date": http_date()}))
    assert world.auth(dataclasses.replace(req, headers=Headers({}))) == Principal(kind="anonymous")


# --- PostObject ----------------------------------------------------------------------------------

EXPIRES = "2099-01-01T00:00:00.000Z"
CONDITIONS = [["starts-with", "$key", "users/"]]


def _policy() -> str:
    return post_form.encode_policy(EXPIRES, CONDITIONS)


def _v1_form(cred: Cred) -> dict[str, str]:
    # As oss2 examples/object_post.py; field names lower-cased: the server matches them case-insensitively.
    form = post_form.form_v1(access_key_id=cred.ak, secret=cred.secret, expires=EXPIRES,
                             conditions=CONDITIONS, security_token=cred.token or "")
    return {"key": "users/1/a.txt", **{k.lower(): v for k, v in form.items()}}


def _v4_form(cred: Cred, *, region: str = REGION, product: str = "oss") -> dict[str, str]:
    # As the v2 SDK sample/post_object.py.
    form = post_form.form_v4(access_key_id=cred.ak, secret=cred.secret, region=region, expires=EXPIRES,
                             conditions=CONDITIONS, security_token=cred.token or None, product=product)
    return {"key": "users/1/a.txt", **form}


FormSigner = Callable[..., dict[str, str]]


def _post(world: World, fields: dict[str, str]) -> Principal:
    return authenticate_post_form(fields, bucket="workbook", accounts=world.accounts, tokens=world.tokens,
                                  clock=world.clock, region=REGION)


def _post_refused(world: World, fields: dict[str, str]) -> OssError:
    with pytest.raises(OssError) as ei:
        _post(world, fields)
    return ei.value


@pytest.mark.parametrize("who", ["root", "ram", "sts"])
@pytest.mark.parametrize("form", [_v1_form, _v4_form], ids=["v1", "v4"])
def test_authenticate_post_form_signed_accepted(world: World, who: str, form: FormSigner) -> None:
    cred: Cred = getattr(world, who)
    p = _post(world, form(cred))
    assert p.access_key_id == cred.ak
    assert p.kind == {"root": "account", "ram": "ram_user", "sts": "sts"}[who]
    assert p.auth_scheme == ("post-v1" if form is _v1_form else "post-v4")


@pytest.mark.parametrize("form", [_v1_form, _v4_form], ids=["v1", "v4"])
def test_authenticate_post_form_changed_policy_returns_signature_does_not_match(world: World,
                                                                              form: FormSigner) -> None:
    fields = form(world.root)
    fields["policy"] = post_form.encode_policy(EXPIRES, [["starts-with", "$key", "users/2/"]])
    assert fields["policy"] != _policy()
    err = _post_refused(world, fields)
    assert (err.status, err.code) == (403, "SignatureDoesNotMatch")


def test_authenticate_post_form_missing_signature_returns_invalid_argument(world: World) -> None:
    fields = _v1_form(world.root)
    del fields["signature"]
    err = _post_refused(world, fields)
    assert (err.status, err.code) == (400, "InvalidArgument")


def test_authenticate_post_form_sts_without_token_returns_invalid_access_key_id(world: World) -> None:
    fields = _v1_form(Cred(world.sts.ak, world.sts.secret))
    err = _post_refused(world, fields)
    assert (err.status, err.code, err.ec) == (403, "InvalidAccessKeyId", "0002-00000003")


def test_authenticate_post_form_v4_wrong_region_returns_invalid_argument(world: World) -> None:
    err = _post_refused(world, _v4_form(world.root, region="cn-beijing"))
    assert (err.status, err.code, err.ec) == (400, "InvalidArgument", "0002-00000226")


def test_authenticate_post_form_v4_bad_credential_returns_invalid_argument(world: World) -> None:
    fields = _v4_form(world.root)
    fields["x-oss-credential"] = fields["x-oss-credential"].replace("aliyun_v4_request", "aws4_request")
    err = _post_refused(world, fields)
    assert (err.status, err.code, err.ec) == (400, "InvalidArgument", "0002-00000710")


def test_authenticate_post_form_without_signature_fields_is_anonymous(world: World) -> None:
    assert _post(world, {"key": "a.txt", "x-oss-security-token": ""}) == Principal(kind="anonymous")
