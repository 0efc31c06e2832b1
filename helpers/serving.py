"""How the workbook's servers listen: one socket recipe, one set of uvicorn options, one run loop.

Used by the local cloud (two ports in one process), the app server and the benchmarks' null sink,
so a fix here (Nagle, keep-alive, the ready file) reaches all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import uvicorn

# Longer than any client pool keeps an idle connection (httpx 5 s, the v2 SDK 30 s), so a client never
# reuses a connection the server is closing at that moment ("server disconnected" under load).
KEEP_ALIVE_SECONDS = 75
COMMON_OPTIONS: dict[str, Any] = {
    "log_config": None, "access_log": False, "lifespan": "off", "server_header": False,
    "date_header": False,  # each app sets Date from its own clock (helpers.asgi.DateHeader)
    "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    # On shutdown, requests still running after this are cancelled (a clock long-poll would otherwise
    # hold `stack down` for 20 s); an upload cut off here was never acknowledged, so nothing is lost.
    "timeout_graceful_shutdown": 3,
}


def bind(host: str, port: int = 0) -> socket.socket:
    """A listening TCP socket. IPPROTO_TCP explicitly: with protocol 0 asyncio leaves Nagle on for
    accepted connections, and every small answer waited ~40 ms for the peer's delayed ACK."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def config(app: Any, **overrides: Any) -> uvicorn.Config:
    """uvicorn options shared by every server here, plus `overrides`."""
    return uvicorn.Config(app, **{**COMMON_OPTIONS, **overrides})


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its owner (several servers may share one process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def write_ready(path: Path, info: dict[str, Any]) -> None:
    """Atomically write the JSON a parent process waits for once the server listens."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(info), encoding="utf-8")
    os.replace(tmp, path)


def run_until_signalled(servers: Sequence[tuple[uvicorn.Server, socket.socket]], *,
                        ready_file: Path | None = None, ready_info: dict[str, Any] | None = None) -> None:
    """Serve until SIGINT/SIGTERM; write `ready_file` once every server has started."""

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def stop() -> None:
            for server, _ in servers:
                server.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        task = asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))
        while not all(server.started for server, _ in servers) and not task.done():
            await asyncio.sleep(0.01)
        if ready_file is not None and not task.done():
            write_ready(ready_file, {**(ready_info or {}), "pid": os.getpid()})
        await task

    asyncio.run(main())
