"""STS signature verification (helpers/localcloud/sts/signature.py) against the SDKs' own signers
and the captured wire vectors of reference §10.2 / §10.3; never against our own signer."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from alibabacloud_credentials.utils import parameter_helper as credentials_helper
from alibabacloud_tea_openapi.utils import Utils as TeaUtils
from aliyunsdkcore.auth.composer import rpc_signature_composer

from helpers.localcloud.sts import signature as sig

SECRET = "SECRET"
POLICY = json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:*", "Resource": "*"}]},
                    indent=2)


def _params(path: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))


def test_rpc_reference_capture_string_to_sign_matches() -> None:
    url = ("/?RoleArn=acs%3Aram%3A%3A1234567890123456%3Arole%2FOssRole&RoleSessionName=sess%201%2A~"
           "&Policy=%7B%22Version%22%3A%221%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C"
           "%22Action%22%3A%22oss%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D&Version=2015-04-01"
           "&Action=AssumeRole&Format=JSON&RegionId=cn-hangzhou&Timestamp=2026-11-28T10%3A07%3A10Z"
           "&SignatureMethod=HMAC-SHA1&SignatureType=&SignatureVersion=1.0"
           "&SignatureNonce=5fd6af16b474dc24a7ddf98974b6bc82&AccessKeyId=AKID&Signature=x")
    expected = ("POST&%2F&AccessKeyId%3DAKID%26Action%3DAssumeRole%26Format%3DJSON%26Policy%3D%257B%2522Ve"
                "rsion%2522%253A%25221%2522%252C%2522Statement%2522%253A%255B%257B%2522Effect%2522%253A%2522"
                "Allow%2522%252C%2522Action%2522%253A%2522oss%253A%252A%2522%252C%2522Resource%2522%253A%2522"
                "%252A%2522%257D%255D%257D%26RegionId%3Dcn-hangzhou%26RoleArn%3Dacs%253Aram%253A%253A1234567"
                "890123456%253Arole%252FOssRole%26RoleSessionName%3Dsess%25201%252A~%26SignatureMethod%3DHMA"
                "C-SHA1%26SignatureNonce%3D5fd6af16b474dc24a7ddf98974b6bc82%26SignatureType%3D%26SignatureVe"
                "rsion%3D1.0%26Timestamp%3D2026-11-28T10%253A07%253A10Z%26Version%3D2015-04-01")
    assert sig.rpc_string_to_sign("POST", _params(url)) == expected


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_rpc_core_signed_url_verifies(method: str) -> None:
    params = {"Action": "AssumeRole", "Version": "2015-04-01", "RoleArn": "acs:ram::1:role/r",
              "RoleSessionName": "s 1*~", "Policy": POLICY}
    path, core_sts = rpc_signature_composer.get_signed_url(params, "AKID", SECRET, "JSON", method, {})
    wire = _params(path)
    check = sig.verify_rpc(method, wire, SECRET, wire["Signature"])
    assert check.ok and check.string_to_sign == core_sts
    assert not sig.verify_rpc(method, wire, SECRET + "x", wire["Signature"]).ok
    assert not sig.verify_rpc("PUT" if method == "POST" else "POST", wire, SECRET, wire["Signature"]).ok


def test_rpc_tea_v2_signature_verifies() -> None:
    params = {"Action": "AssumeRole", "Format": "json", "Version": "2015-04-01",
              "Timestamp": "2026-11-28T10:06:58Z", "SignatureNonce": "n1", "RoleSessionName": "a b",
              "Policy": POLICY, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
              "AccessKeyId": "AKID"}
    signature = TeaUtils.get_rpcsignature(params, "POST", SECRET)
    assert sig.verify_rpc("POST", params, SECRET, signature).ok


def test_rpc_credentials_provider_plus_for_space_verifies() -> None:
    # alibabacloud-credentials signs with quote_plus (space → '+'): accepted via the variant.
    params = {"Action": "AssumeRole", "Format": "JSON", "Version": "2015-04-01", "RoleSessionName": "s1",
              "Policy": POLICY, "AccessKeyId": "AKID", "SignatureMethod": "HMAC-SHA1",
              "SignatureVersion": "1.0", "SignatureNonce": "n2", "Timestamp": "2026-11-28T10:06:58Z"}
    sts = credentials_helper.compose_string_to_sign("GET", params)
    signature = credentials_helper.sign_string(sts, SECRET + "&")
    assert sts != sig.rpc_string_to_sign("GET", params)   # the standard form really differs here
    assert sig.verify_rpc("GET", params, SECRET, signature).ok


class _TeaRequest:
    """The attributes tea's Utils.get_authorization reads."""

    def __init__(self, host: str, query: dict[str, str]) -> None:
        self.method, self.pathname, self.query = "POST", "/", query
        self.headers = {"host": host, "accept": "application/json", "x-acs-action": "AssumeRole",
                        "x-acs-version": "2015-04-01", "x-acs-date": "2026-11-28T10:06:58Z",
                        "x-acs-signature-nonce": "e1d26b9d50f6344cdebe2db90f62b957",
                        "x-acs-content-sha256": sig.EMPTY_SHA256, "user-agent": "UA  x "}


@pytest.mark.parametrize("host", ["127.0.0.1:9101", "http://127.0.0.1:9101"])
def test_acs3_tea_authorization_verifies(host: str) -> None:
    req = _TeaRequest(host, {"RoleArn": "acs:ram::1:role/r", "RoleSessionName": "s2", "Policy": POLICY,
                             "DurationSeconds": "3600"})
    auth = sig.parse_acs3_authorization(
        TeaUtils.get_authorization(req, "ACS3-HMAC-SHA256", sig.EMPTY_SHA256, "AKID", SECRET))
    headers = {k: (v,) for k, v in req.headers.items()}
    kwargs = {"method": "POST", "path": "/", "query": req.query, "headers": headers}
    assert auth.access_key_id == "AKID" and "host" in auth.signed_headers
    assert sig.verify_acs3(auth, body=b"", secret=SECRET, **kwargs).ok
    assert not sig.verify_acs3(auth, body=b"x", secret=SECRET, **kwargs).ok
    assert not sig.verify_acs3(auth, body=b"", secret=SECRET + "x", **kwargs).ok
    other_host = {**headers, "host": ("127.0.0.1:9102",)}
    assert not sig.verify_acs3(auth, body=b"", secret=SECRET, **{**kwargs, "headers": other_host}).ok


def test_acs3_reference_capture_canonical_request_matches() -> None:
    headers = {"accept": ("application/json",), "host": ("127.0.0.1:9101",),
               "user-agent": ("AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2",),
               "x-acs-action": ("AssumeRole",), "x-acs-content-sha256": (sig.EMPTY_SHA256,),
               "x-acs-credentials-provider": ("static_ak",), "x-acs-date": ("2026-11-28T10:06:58Z",),
               "x-acs-signature-nonce": ("e1d26b9d50f6344cdebe2db90f62b957",),
               "x-acs-version": ("2015-04-01",)}
    signed = tuple(sorted(headers))
    query = {"DurationSeconds": "3600", "RoleArn": "acs:ram::1234567890123456:role/OssRole",
             "RoleSessionName": "s2"}
    canonical = sig.acs3_canonical_request("POST", "/", query, headers, signed, sig.EMPTY_SHA256)
    assert canonical.splitlines()[2] == ("DurationSeconds=3600&RoleArn=acs%3Aram%3A%3A1234567890123456%3A"
                                         "role%2FOssRole&RoleSessionName=s2")
    assert canonical.endswith("\n\n" + ";".join(signed) + "\n" + sig.EMPTY_SHA256)


@pytest.mark.parametrize("value", [
    "", "ACS3-HMAC-SHA256", "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host",
    "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=Host,Signature=x",
    "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=x",
    "OSS4-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=x",
])
def test_acs3_malformed_authorization_raises(value: str) -> None:
    with pytest.raises(sig.SignatureFormatError):
        sig.parse_acs3_authorization(value)
