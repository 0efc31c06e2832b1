"""SDK-side signing helpers shared by the authentication tests (not a test module).

Signatures come from oss2 (`Auth`, `AuthV2`, `AuthV4`, `StsAuth` `_sign_request`/`_sign_url`) and from
`alibabacloud_oss_v2.signer` (`SignerV1`/`SignerV4`, fixed signing time), never from our signer. The
OssRequest is built from the SDK-produced wire URL with `routing.split_target` / `parse_query`.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlencode, urlsplit

import oss2
import requests
from alibabacloud_oss_v2.credentials import StaticCredentialsProvider
from alibabacloud_oss_v2.signer import SignerV1, SignerV4
from alibabacloud_oss_v2.types import HttpRequest, SigningContext
from oss2.api import _UrlMaker

from helpers.localcloud.accounts import Accounts, new_credentials
from helpers.localcloud.clock import Clock
from helpers.localcloud.identity import Principal
from helpers.localcloud.oss.auth import authenticate
from helpers.localcloud.oss.request import Headers, OssRequest
from helpers.localcloud.oss.routing import parse_query, split_target
from helpers.localcloud.tokens import TokenAuthority

ENDPOINT = "http://127.0.0.1:9000"
REGION = "cn-hangzhou"
BUCKET = "workbook"

KEYS = ["plain.txt", "dir/with space+plus.txt", "中文/文件 名.txt", "a/b/c//d"]
CASES: list[tuple[str, str | None, dict[str, str], dict[str, str]]] = [
    # (method, key (None = bucket level), params, headers)
    ("PUT", "k", {}, {"Content-Type": "text/plain", "x-oss-meta-author": "alice",
                      "Content-MD5": "eB5eJF1ptWaXm4bijSPyxw=="}),
    ("GET", "k", {"response-content-disposition": 'attachment; filename="x y+z.txt"', "versionId": "v1"}, {}),
    ("GET", None, {"prefix": "dir/with space+", "max-keys": "10", "delimiter": "/", "encoding-type": "url"},
     {}),
    ("PUT", "k", {"uploadId": "0004B9894A22E5B1888A1E29F823****", "partNumber": "3"}, {}),
    ("GET", None, {"acl": ""}, {}),
    ("GET", "k", {"x-oss-process": "image/resize,w_100"}, {}),
]

Signed = tuple[str, str, dict[str, str]]   # method, wire URL, headers


@dataclasses.dataclass
class Cred:
    ak: str
    secret: str
    token: str | None = None


# --- SDK signers ---------------------------------------------------------------------------------

def _oss2_request(method: str, key: str | None, params: Mapping[str, str],
                  headers: Mapping[str, str], region: str | None = REGION) -> oss2.http.Request:
    url = _UrlMaker(ENDPOINT, False, False)(BUCKET, key or "")
    return oss2.http.Request(method, url, params=dict(params), headers=dict(headers), region=region,
                             product="oss")


def _oss2_auth(version: str, cred: Cred) -> object:
    if cred.token:
        return oss2.StsAuth(cred.ak, cred.secret, cred.token, auth_version=version)
    return {"v1": oss2.Auth, "v2": oss2.AuthV2, "v4": oss2.AuthV4}[version](cred.ak, cred.secret)


def _wire(req: oss2.http.Request) -> Signed:
    # What oss2's requests session puts on the wire (requests form-encodes params: space → `+`).
    url = requests.Request(req.method, req.url, params=req.params).prepare().url
    assert url is not None
    return req.method, url, {k: v for k, v in req.headers.items() if v is not None}


def oss2_header(version: str, *, region: str | None = REGION) -> Callable[..., Signed]:
    def sign(cred: Cred, method: str, key: str | None, params: Mapping[str, str],
             headers: Mapping[str, str]) -> Signed:
        req = _oss2_request(method, key, params, headers, region)
        _oss2_auth(version, cred)._sign_request(req, BUCKET, key or "")  # type: ignore[attr-defined]
        return _wire(req)
    return sign


def oss2_url(version: str, *, expires: int = 600, region: str | None = REGION) -> Callable[..., Signed]:
    def sign(cred: Cred, method: str, key: str | None, params: Mapping[str, str],
             headers: Mapping[str, str]) -> Signed:
        req = _oss2_request(method, key, params, headers, region)
        url = _oss2_auth(version, cred)._sign_url(req, BUCKET, key or "", expires)  # type: ignore[attr-defined]
        return method, url, dict(headers)
    return sign


def v2_signer(signer: SignerV1 | SignerV4, *, query: bool, additional: set[str] | None = None,
              region: str = REGION, product: str = "oss", time_offset: float = 0.0,
              expires: datetime.timedelta = datetime.timedelta(minutes=10)) -> Callable[..., Signed]:
    def sign(cred: Cred, method: str, key: str | None, params: Mapping[str, str],
             headers: Mapping[str, str]) -> Signed:
        # As alibabacloud_oss_v2._client builds it: path-style, quote(key), urlencode(quote_via=quote).
        url = f"{ENDPOINT}/{BUCKET}/" + (quote(key) if key else "")
        if params:
            url += "?" + urlencode(params, quote_via=quote)
        request = HttpRequest(method, url)
        request.headers.update(headers)
        now = (datetime.datetime.now(datetime.UTC).replace(microsecond=0)
               + datetime.timedelta(seconds=time_offset))
        ctx = SigningContext(product=product, region=region, bucket=BUCKET, key=key, request=request,
                             credentials=StaticCredentialsProvider(cred.ak, cred.secret,
                                                                   cred.token or "").get_credentials(),
                             signing_time=now, additional_headers=additional)
        if query:
            ctx.auth_method_query = True
            ctx.expiration_time = now + expires
        signer.sign(ctx)
        return method, request.url, dict(request.headers.items())
    return sign


SIGNERS: dict[str, Callable[..., Signed]] = {
    "oss2-v1-header": oss2_header("v1"),
    "oss2-v4-header": oss2_header("v4"),
    "oss2-v2-header": oss2_header("v2"),
    "oss2-v1-url": oss2_url("v1"),
    "oss2-v4-url": oss2_url("v4"),
    "oss2-v2-url": oss2_url("v2"),
    "v2sdk-v1-header": v2_signer(SignerV1(), query=False),
    "v2sdk-v1-query": v2_signer(SignerV1(), query=True),
    "v2sdk-v4-header": v2_signer(SignerV4(), query=False),
    "v2sdk-v4-query": v2_signer(SignerV4(), query=True),
    "v2sdk-v4-header-addl": v2_signer(SignerV4(), query=False, additional={"content-md5", "x-extra"}),
    "v2sdk-v4-query-addl": v2_signer(SignerV4(), query=True, additional={"x-extra"}),
}


# --- server side ---------------------------------------------------------------------------------

@dataclasses.dataclass
class World:
    accounts: Accounts
    tokens: TokenAuthority
    clock: Clock
    root: Cred
    ram: Cred
    sts: Cred
    doc: dict[str, object]

    def auth(self, req: OssRequest) -> Principal:
        return authenticate(req, accounts=self.accounts, tokens=self.tokens, clock=self.clock, region=REGION)


# A session policy AssumeRole would accept: the resolver grammar-checks it again on every request.
SESSION_POLICY = {"Version": "1", "Statement": [
    {"Effect": "Allow", "Action": "oss:GetObject", "Resource": "acs:oss:*:*:workbook/users/alice/*"}]}


def make_world() -> World:
    doc = new_credentials(bucket=BUCKET)
    accounts = Accounts(doc)
    tokens = TokenAuthority(os.urandom(32))
    clock = Clock()
    role = next(iter(accounts.roles.values()))
    minted = tokens.mint(account_id=accounts.account_id, role_arn=role.arn, role_id=role.role_id,
                         session_name="alice", expiration=int(clock.now()) + 3600,
                         session_policy=json.dumps(SESSION_POLICY))
    return World(accounts, tokens, clock,
                 Cred(doc["admin"]["access_key_id"], doc["admin"]["access_key_secret"]),
                 Cred(doc["appserver"]["access_key_id"], doc["appserver"]["access_key_secret"]),
                 Cred(minted.access_key_id, minted.access_key_secret, minted.security_token), doc)


def to_request(signed: Signed) -> OssRequest:
    method, url, headers = signed
    parts = urlsplit(url)
    bucket, key = split_target(parts.path, parts.netloc)
    return OssRequest(method=method, bucket=bucket, key=key, query=parse_query(parts.query),
                      headers=Headers(list(headers.items())), raw_path=parts.path, raw_query=parts.query,
                      host=parts.netloc, client_ip="127.0.0.1", request_id="test")


