"""Where provisioning talks to, with which key, through the official SDKs.

    target = Target.from_env(os.environ, region)   # owner key + endpoints (defaults: public ones)
    ram = target.ram()                              # alibabacloud-ram20150501 Client
    account_id(target)                              # STS GetCallerIdentity (needs no permission)
    target.oss_bucket(name)                         # oss2.Bucket signed V4 with the owner key

Default endpoints are Alibaba Cloud's public ones: OSS `https://oss-<region>.aliyuncs.com` (OSS
"Regions and endpoints"), STS `https://sts.<region>.aliyuncs.com` (RAM "Endpoints" for STS
2015-04-01), RAM `https://ram.aliyuncs.com` (one global endpoint; the tea SDK's endpoint map
sends every region there). The owner key is read from ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, the
variable names Alibaba's own credential chain uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from helpers.protocol.endpoints import default_oss_endpoint, default_sts_endpoint

OWNER_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
OWNER_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
# tea timeouts are in milliseconds; an unreachable endpoint fails in seconds, not minutes.
_CONNECT_MS, _READ_MS = 5000, 15000


class MissingKey(ValueError):
    """The owner's AccessKey is not in the environment."""


def default_endpoints(region: str) -> dict[str, str]:
    """The public endpoints of `region` (OSS, STS regional; RAM global)."""
    return {"oss": default_oss_endpoint(region), "sts": default_sts_endpoint(region),
            "ram": "https://ram.aliyuncs.com"}


def _split(endpoint: str) -> tuple[str, str]:
    """(protocol, host[:port]): the tea SDKs take the endpoint without its scheme."""
    parts = urlsplit(endpoint if "://" in endpoint else "https://" + endpoint)
    return parts.scheme, parts.netloc


@dataclass(frozen=True)
class Target:
    """The account owner's key and the endpoints of one region."""

    region: str
    oss_endpoint: str
    sts_endpoint: str
    ram_endpoint: str
    key_id: str
    key_secret: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str], region: str) -> Target:
        key_id, secret = env.get(OWNER_KEY_ID, ""), env.get(OWNER_KEY_SECRET, "")
        if not key_id or not secret:
            raise MissingKey(f"set {OWNER_KEY_ID} and {OWNER_KEY_SECRET} to the account owner's AccessKey")
        defaults = default_endpoints(region)
        return cls(region=region,
                   oss_endpoint=(env.get("WORKBOOK_OSS_ENDPOINT") or defaults["oss"]).rstrip("/"),
                   sts_endpoint=(env.get("WORKBOOK_STS_ENDPOINT") or defaults["sts"]).rstrip("/"),
                   ram_endpoint=(env.get("WORKBOOK_RAM_ENDPOINT") or defaults["ram"]).rstrip("/"),
                   key_id=key_id, key_secret=secret)

    def _tea_config(self, endpoint: str) -> Any:
        from alibabacloud_tea_openapi import models as api_models

        protocol, host = _split(endpoint)
        return api_models.Config(access_key_id=self.key_id, access_key_secret=self.key_secret,
                                 endpoint=host, protocol=protocol, region_id=self.region,
                                 connect_timeout=_CONNECT_MS, read_timeout=_READ_MS)

    def ram(self) -> Any:
        from alibabacloud_ram20150501.client import Client

        return Client(self._tea_config(self.ram_endpoint))

    def sts(self) -> Any:
        from alibabacloud_sts20150401.client import Client

        return Client(self._tea_config(self.sts_endpoint))

    def oss_bucket(self, name: str) -> Any:
        import oss2

        auth = oss2.AuthV4(self.key_id, self.key_secret)
        return oss2.Bucket(auth, self.oss_endpoint, name, region=self.region,
                           connect_timeout=_CONNECT_MS / 1000)


def account_id(target: Target) -> str:
    """The account the owner's key belongs to (STS GetCallerIdentity; any valid key may call it)."""
    return str(target.sts().get_caller_identity().body.account_id)
