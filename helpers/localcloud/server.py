"""Build a local cloud from its config and serve its OSS, STS and RAM ports (one process, three uvicorn
servers: each product has its own endpoint, as on the real service).

`build_context(config)` creates or loads everything on disk (credentials file 0600, RAM state 0600,
token key, callback key, object store). `LocalCloudServer` runs the ports, in the foreground
(`serve_forever`, used by the CLI) or on a background thread (`start`/`stop`, used by tests and benchmarks).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from dataclasses import dataclass

import uvicorn

from helpers import serving
from helpers.localcloud import accounts, tokens
from helpers.localcloud.clock import Clock
from helpers.localcloud.context import LocalCloud, LocalCloudConfig
from helpers.localcloud.oss.app import OssApp
from helpers.localcloud.oss.callback_signer import CallbackSigner
from helpers.localcloud.oss.handlers import HANDLERS
from helpers.localcloud.oss.handlers.admin import ADMIN
from helpers.localcloud.ram.app import create_ram_app
from helpers.localcloud.store import ObjectStore
from helpers.localcloud.sts.app import create_sts_app

logger = logging.getLogger(__name__)


def build_context(config: LocalCloudConfig) -> tuple[LocalCloud, bool]:
    """The shared state of one local cloud; True when the credentials file was created just now."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    doc, created = accounts.load_or_create(config.credentials_path, bucket=config.bucket,
                                           root_only=config.cloud_profile)
    clock = Clock()
    ram_state = accounts.load_or_seed_ram(config.ram_state_path, doc, int(clock.now()))
    ctx = LocalCloud(config=config, clock=clock, accounts=accounts.Accounts(state=ram_state),
                     tokens=tokens.TokenAuthority(tokens.load_or_create_key(config.keys_dir / "token.key")))
    ctx.store = ObjectStore(config.objects_dir, now=clock.now)
    ctx.callback_signer = CallbackSigner.load_or_create(config.keys_dir)
    return ctx, created


def create_oss_app(ctx: LocalCloud) -> OssApp:
    return OssApp(ctx, HANDLERS, ADMIN)


@dataclass
class LocalCloudServer:
    """The ports of one local cloud. Ports are bound in `__post_init__`, so URLs are known at once."""

    ctx: LocalCloud

    def __post_init__(self) -> None:
        cfg = self.ctx.config
        self._socks: list[socket.socket] = []
        try:
            for port in (cfg.oss_port, cfg.sts_port, cfg.ram_port):
                self._socks.append(serving.bind(cfg.host, port))
        except OSError:
            for sock in self._socks:
                sock.close()
            raise
        self._oss_sock, self._sts_sock, self._ram_sock = self._socks
        self.ctx.oss_base_url = serving.url_of(cfg.host, self._oss_sock)
        self.ctx.sts_base_url = serving.url_of(cfg.host, self._sts_sock)
        self.ctx.ram_base_url = serving.url_of(cfg.host, self._ram_sock)
        self._servers = [serving.QuietServer(serving.config(create_oss_app(self.ctx))),
                         serving.QuietServer(serving.config(create_sts_app(self.ctx))),
                         serving.QuietServer(serving.config(create_ram_app(self.ctx)))]
        self._thread: threading.Thread | None = None

    @property
    def oss_endpoint(self) -> str:
        return self.ctx.oss_base_url

    @property
    def sts_endpoint(self) -> str:
        return self.ctx.sts_base_url

    @property
    def ram_endpoint(self) -> str:
        return self.ctx.ram_base_url

    @property
    def listeners(self) -> list[tuple[uvicorn.Server, socket.socket]]:
        """(server, socket) pairs, for `helpers.serving.run_until_signalled`."""
        return list(zip(self._servers, self._socks, strict=True))

    @property
    def started(self) -> bool:
        return all(s.started for s in self._servers)

    async def serve(self) -> None:
        """Serve every port until `stop()` (or `request_exit()`) is called."""
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in self.listeners))

    def request_exit(self) -> None:
        for s in self._servers:
            s.should_exit = True

    def start(self, timeout: float = 10.0) -> LocalCloudServer:
        """Serve on a daemon thread; return once every port accepts requests."""
        self._thread = threading.Thread(target=lambda: asyncio.run(self.serve()), name="localcloud",
                                        daemon=True)
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout * 100)):
            if self.started:
                return self
            deadline.wait(0.01)
        raise RuntimeError("local cloud did not start in time")

    def stop(self, timeout: float = 10.0) -> None:
        self.request_exit()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                for s in self._servers:
                    s.force_exit = True
                self._thread.join(timeout)
        for sock in self._socks:
            with contextlib.suppress(OSError):
                sock.close()
        if self.ctx.store is not None:
            self.ctx.store.close()
