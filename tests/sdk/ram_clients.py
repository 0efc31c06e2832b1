"""RAM clients for the SDK tests: the official SDKs, unmodified, pointed at a local cloud's RAM port.

`tea(...)`: alibabacloud-ram20150501 (ACS3-HMAC-SHA256, or RPC V1 with `signature_algorithm='v2'`).
`core_call(...)`: aliyun-python-sdk-ram on aliyun-python-sdk-core (RPC HMAC-SHA1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alibabacloud_ram20150501.client import Client as TeaRamClient
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import RpcRequest

from helpers.localcloud.context import LocalCloudConfig
from helpers.localcloud.server import LocalCloudServer, build_context

REGION = "cn-hangzhou"
TRUST_ROOT = '{{"Statement":[{{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{{"RAM":["acs:ram::{account}:root"]}}}}],"Version":"1"}}'  # noqa: E501


@dataclass(frozen=True)
class Key:
    access_key_id: str
    access_key_secret: str


def tea(endpoint: str, key: Key, *, v2: bool = False) -> TeaRamClient:
    """The tea RAM client with an endpoint override (ram-api.md §1)."""
    cfg = open_api_models.Config(
        access_key_id=key.access_key_id,
        access_key_secret=key.access_key_secret,
        endpoint=urlsplit(endpoint).netloc,
        protocol="http",
        region_id=REGION,
    )
    if v2:
        cfg.signature_algorithm = "v2"
    return TeaRamClient(cfg)


def core_call(endpoint: str, key: Key, request: RpcRequest) -> dict[str, Any]:
    """Send a core-SDK RAM request (e.g. `CreateUserRequest()`) and return the parsed JSON body."""
    client = AcsClient(key.access_key_id, key.access_key_secret, REGION, auto_retry=False)
    request.set_endpoint(urlsplit(endpoint).netloc)
    request.set_protocol_type("http")
    return json.loads(client.do_action_with_exception(request))


def tea_error(exc: BaseException) -> tuple[int, str]:
    assert isinstance(exc, ClientException), repr(exc)
    return exc.status_code, exc.code


def core_error(exc: BaseException) -> tuple[int, str]:
    assert isinstance(exc, ServerException), repr(exc)
    return exc.get_http_status(), exc.get_error_code()


def trust_root(account_id: str) -> str:
    """A trust policy naming the account's root: any of its RAM identities allowed sts:AssumeRole."""
    return TRUST_ROOT.format(account=account_id)


def policy_doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def start_cloud(data_dir: Path) -> tuple[LocalCloudServer, Key]:
    """A cloud-shaped local cloud (a fresh account) on free loopback ports, and its owner's key."""
    ctx, _ = build_context(LocalCloudConfig(data_dir=data_dir, profile="cloud"))
    server = LocalCloudServer(ctx).start()
    doc = json.loads(Path(ctx.config.credentials_path).read_text(encoding="utf-8"))
    return server, Key(doc["access_key_id"], doc["access_key_secret"])
