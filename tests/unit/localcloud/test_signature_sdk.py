"""`authenticate()` accepts what the SDKs' own signers produce, and refuses one-character changes.

Signatures come from oss2 (`Auth`, `AuthV2`, `AuthV4`, `StsAuth` `_sign_request`/`_sign_url`) and from
`alibabacloud_oss_v2.signer` (`SignerV1`/`SignerV4`, fixed signing time), never from our signer. The
OssRequest is built from the SDK-produced wire URL with `routing.split_target` / `parse_query`.
"""

from __future__ import annotations

import dataclasses
import re

import oss2
import pytest

from helpers.localcloud.errors import OssError
from helpers.localcloud.identity import Principal
from helpers.localcloud.oss.request import Headers, OssRequest

from . import sdk_signing
from .sdk_signing import (
    BUCKET,
    CASES,
    ENDPOINT,
    KEYS,
    SESSION_POLICY,
    SIGNERS,
    Cred,
    World,
    make_world,
    to_request,
)


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


def _flip(s: str) -> str:
    return ("1" if s[0] == "0" else "0") + s[1:]


def tamper_signature(req: OssRequest) -> OssRequest:
    auth = req.headers.get("authorization")
    if auth:
        m = re.search(r"(?:Signature[=:]|^OSS [^:]+:)([^,\s]+)", auth)
        assert m is not None
        new = auth[: m.start(1)] + _flip(m.group(1)) + auth[m.end(1):]
        pairs = [(k, new if k == "authorization" else v) for k, v in req.headers.items()]
        return dataclasses.replace(req, headers=Headers(pairs))
    name = "Signature" if req.has_q("Signature") else "x-oss-signature"
    query = tuple((k, _flip(v) if k == name else v) for k, v in req.query)
    return dataclasses.replace(req, query=query)


def _cases() -> list[tuple[str, str, str, str | None, dict[str, str], dict[str, str]]]:
    out = []
    for signer in SIGNERS:
        for i, (method, key, params, headers) in enumerate(CASES):
            k = KEYS[i % len(KEYS)] if key else None
            h = dict(headers)
            if "addl" in signer:
                h["x-extra"] = "extra value"
            out.append((signer, f"{signer}-{i}", method, k, params, h))
    return out


PARAMS = _cases()


@pytest.mark.parametrize(("signer", "case_id", "method", "key", "params", "headers"), PARAMS,
                         ids=[p[1] for p in PARAMS])
@pytest.mark.parametrize("who", ["root", "ram", "sts"])
def test_sdk_signature_valid_request_accepted(world: World, who: str, signer: str, case_id: str,
                                              method: str, key: str | None, params: dict[str, str],
                                              headers: dict[str, str]) -> None:
    cred: Cred = getattr(world, who)
    req = to_request(SIGNERS[signer](cred, method, key, params, headers))
    assert (req.bucket, req.key) == (BUCKET, key)
    principal = world.auth(req)
    assert principal.access_key_id == cred.ak
    assert principal.kind == {"root": "account", "ram": "ram_user", "sts": "sts"}[who]
    assert principal.auth_scheme.startswith(signer.split("-")[1])


@pytest.mark.parametrize(("signer", "case_id", "method", "key", "params", "headers"), PARAMS,
                         ids=[p[1] for p in PARAMS])
@pytest.mark.parametrize("who", ["root", "sts"])
def test_sdk_signature_one_char_signature_change_refused(world: World, who: str, signer: str, case_id: str,
                                                         method: str, key: str | None,
                                                         params: dict[str, str],
                                                         headers: dict[str, str]) -> None:
    cred: Cred = getattr(world, who)
    req = tamper_signature(to_request(SIGNERS[signer](cred, method, key, params, headers)))
    with pytest.raises(OssError) as ei:
        world.auth(req)
    assert (ei.value.status, ei.value.code) == (403, "SignatureDoesNotMatch")
    assert ei.value.extra["OSSAccessKeyId"] == cred.ak
    assert ei.value.extra["StringToSign"]
    assert cred.secret not in str(ei.value.extra)


@pytest.mark.parametrize("signer", list(SIGNERS))
def test_sdk_signature_one_char_key_change_refused(world: World, signer: str) -> None:
    req = to_request(SIGNERS[signer](world.root, "GET", "dir/中文 a+b.txt", {}, {}))
    with pytest.raises(OssError) as ei:
        world.auth(dataclasses.replace(req, key="dir/中文 a+c.txt"))
    assert (ei.value.status, ei.value.code) == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("signer", list(SIGNERS))
def test_sdk_signature_one_char_secret_change_refused(world: World, signer: str) -> None:
    bad = Cred(world.ram.ak, _flip(world.ram.secret))
    req = to_request(SIGNERS[signer](bad, "PUT", "x.txt", {}, {"Content-Type": "text/plain"}))
    with pytest.raises(OssError) as ei:
        world.auth(req)
    assert (ei.value.status, ei.value.code) == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("signer", list(SIGNERS))
def test_sdk_signature_changed_signed_header_refused(world: World, signer: str) -> None:
    req = to_request(SIGNERS[signer](world.root, "PUT", "x.txt", {}, {"x-oss-meta-a": "1"}))
    pairs = [(k, "2" if k == "x-oss-meta-a" else v) for k, v in req.headers.items()]
    with pytest.raises(OssError) as ei:
        world.auth(dataclasses.replace(req, headers=Headers(pairs)))
    assert (ei.value.status, ei.value.code) == (403, "SignatureDoesNotMatch")


def test_sdk_signature_v2sdk_v1_sts_token_travels_in_security_token_header(world: World) -> None:
    signed = SIGNERS["v2sdk-v1-header"](world.sts, "GET", "k", {}, {})
    assert "security-token" in {k.lower() for k in signed[2]}
    assert world.auth(to_request(signed)).kind == "sts"


def test_sdk_signature_v4_sts_principal_carries_role_and_session_policy(world: World) -> None:
    p = world.auth(to_request(SIGNERS["oss2-v4-header"](world.sts, "GET", "k", {}, {})))
    assert p.policies and p.policies[0]["Statement"][0]["Action"] == "oss:*"
    assert p.session_policy == SESSION_POLICY
    assert p.arn is not None and p.arn.endswith(":assumed-role/workbook-uploader/alice")


def test_sdk_signature_ram_user_principal_carries_identity_policies(world: World) -> None:
    p = world.auth(to_request(SIGNERS["oss2-v1-header"](world.ram, "GET", "k", {}, {})))
    assert p.policies and p.policies[0]["Statement"][0]["Action"] == "sts:AssumeRole"


def test_sdk_signature_unsigned_request_is_anonymous(world: World) -> None:
    req = to_request(("GET", f"{ENDPOINT}/{BUCKET}/k?prefix=a", {}))
    assert world.auth(req) == Principal(kind="anonymous")


@pytest.mark.parametrize("form", ["header", "url"])
def test_sdk_signature_oss2_v4_additional_headers_accepted(world: World, form: str) -> None:
    # oss2 sorts AdditionalHeaders by first character only in the Authorization text, fully in the
    # canonical request; the header form also keeps names that are not present (`x-absent`).
    headers = {"ab2": "two", "ab1": "one", "Range": "bytes=0-1", "x-oss-meta-a": "1"}
    addl = {"ab2", "ab1", "range", "x-absent"} if form == "header" else {"ab2", "ab1", "range"}
    req = sdk_signing._oss2_request("GET", "dir/a b.txt", {"versionId": "v"}, headers)
    auth = oss2.AuthV4(world.root.ak, world.root.secret)
    if form == "header":
        auth._sign_request(req, BUCKET, "dir/a b.txt", in_additional_headers=addl)
        signed = sdk_signing._wire(req)
    else:
        url = auth._sign_url(req, BUCKET, "dir/a b.txt", 600, in_additional_headers=addl)
        signed = ("GET", url, headers)
    p = world.auth(to_request(signed))
    assert p.kind == "account"
    changed = {**signed[2], "ab1": "changed"}
    with pytest.raises(OssError) as ei:
        world.auth(to_request((signed[0], signed[1], changed)))
    assert ei.value.code == "SignatureDoesNotMatch"
