"""The state one local-cloud process shares between its OSS, STS and RAM ports.

Built once by `server.build_context(config)`; handlers and the STS app receive it. Nothing here
is a module-level singleton, so tests can build as many independent local clouds as they like.
This module imports nothing from Starlette.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.localcloud.accounts import DEFAULT_BUCKET, DEFAULT_REGION, Accounts
from helpers.localcloud.clock import Clock
from helpers.localcloud.tokens import TokenAuthority


@dataclass(frozen=True, slots=True)
class LocalCloudConfig:
    """Where the local cloud keeps its data and where it listens."""

    data_dir: Path
    host: str = "127.0.0.1"
    oss_port: int = 0
    sts_port: int = 0
    ram_port: int = 0
    region: str = DEFAULT_REGION
    bucket: str = DEFAULT_BUCKET             # written into the role policy on first start
    credentials_file: Path | None = None     # default: <data_dir>/credentials.json
    service_domains: tuple[str, ...] = ()     # virtual-host suffixes, e.g. ("oss-cn-hangzhou.aliyuncs.com",)
    # `local`: the workbook's account (admin, appserver user, role pre-created; /_localcloud/* routes).
    # `cloud`: a fresh account like a real one (owner key only, nothing pre-created, no local routes).
    profile: str = "local"

    @property
    def cloud_profile(self) -> bool:
        return self.profile == "cloud"

    @property
    def credentials_path(self) -> Path:
        return self.credentials_file or self.data_dir / "credentials.json"

    @property
    def ram_state_path(self) -> Path:
        return self.data_dir / "ram.json"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "oss"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


@dataclass(slots=True)
class LocalCloud:
    """Shared state: config, clock, identities, token authority, object store, callback signer."""

    config: LocalCloudConfig
    clock: Clock
    accounts: Accounts
    tokens: TokenAuthority
    store: Any = None            # helpers.localcloud.store.ObjectStore
    callback_signer: Any = None  # helpers.localcloud.oss.callback_signer.CallbackSigner
    oss_base_url: str = ""       # http://host:port of the OSS port, known once it listens
    sts_base_url: str = ""
    ram_base_url: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def region(self) -> str:
        return self.config.region
