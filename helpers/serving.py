"""How the workbook's servers listen: one socket recipe, one set of uvicorn options, one run loop.

Used by the local cloud (two ports in one process), the app server and the benchmarks' null sink,
so a fix here (Nagle, keep-alive, the ready file) reaches all of them. `run_workers` serves one port
from several forked processes (the deployed app server's `--workers N`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import uvicorn

logger = logging.getLogger(__name__)

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
                        ready_file: Path | None = None, ready_info: dict[str, Any] | None = None,
                        on_ready: Callable[[], None] | None = None) -> None:
    """Serve until SIGINT/SIGTERM; write `ready_file` and call `on_ready` once every server has started."""

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
        if on_ready is not None and not task.done():
            on_ready()
        await task

    asyncio.run(main())



def run_workers(count: int, sock: socket.socket, build: Callable[[], uvicorn.Server], *,
                ready_file: Path | None = None, ready_info: dict[str, Any] | None = None,
                start_timeout: float = 30.0) -> int:
    """Serve `sock` from `count` forked worker processes until SIGINT/SIGTERM; 0 then, 1 if a worker
    failed to start or died (a service manager then restarts the whole group).

    Each worker calls `build()` after the fork, so nothing it holds (threads, caches, connections) is
    shared; the kernel gives each new connection to one of the workers accepting on the shared socket.
    The parent only supervises: it writes `ready_file` (`pid` its own, plus `worker_pids`) once every
    worker serves, forwards SIGTERM to them on SIGINT/SIGTERM, and reaps them.
    """
    ready_r, ready_w = os.pipe()
    alive: set[int] = set()
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        _signal_all(alive, signal.SIGTERM)

    # Before the first fork, so a SIGTERM arriving meanwhile still reaches every worker.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            _worker(build, sock, ready_r, ready_w)
        alive.add(pid)
    pids = sorted(alive)
    os.close(ready_w)
    sock.close()  # the workers accept; the parent never does
    ok = _wait_ready(ready_r, count, alive, start_timeout)
    os.close(ready_r)
    if ok and ready_file is not None and not stopping:
        write_ready(ready_file, {**(ready_info or {}), "pid": os.getpid(), "worker_pids": pids})
    if not ok and not stopping:
        logger.error("not every app server worker started; stopping them")
        stopping = True
        _signal_all(alive, signal.SIGTERM)
    failed = not ok
    while alive:
        pid, status = os.wait()
        alive.discard(pid)
        if not stopping:
            logger.error("app server worker %d exited (wait status %d); stopping the others", pid, status)
            failed = stopping = True
            _signal_all(alive, signal.SIGTERM)
    return 1 if failed else 0


def _notify(ready_w: int) -> None:
    os.write(ready_w, b".")   # one byte per worker that is serving


def _worker(build: Callable[[], uvicorn.Server], sock: socket.socket, ready_r: int, ready_w: int) -> None:
    """A forked worker's whole life: build its server, serve, leave without the parent's exit handlers."""
    for sig in (signal.SIGINT, signal.SIGTERM):  # the parent's forwarding handlers are not the worker's
        signal.signal(sig, signal.SIG_DFL)
    os.close(ready_r)
    code = 0
    try:
        run_until_signalled([(build(), sock)], on_ready=lambda: _notify(ready_w))
    except BaseException:
        logger.exception("app server worker %d failed", os.getpid())
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _signal_all(pids: set[int], sig: int) -> None:
    for pid in list(pids):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _wait_ready(ready_r: int, count: int, alive: set[int], timeout: float) -> bool:
    """True once `count` workers reported ready on the pipe; False on timeout or when a worker exits
    first (reaped here, and removed from `alive`)."""
    deadline = time.monotonic() + timeout
    got = 0
    while got < count:
        if time.monotonic() > deadline:
            return False
        readable, _, _ = select.select([ready_r], [], [], 0.1)
        if readable:
            got += len(os.read(ready_r, count))
        for pid in list(alive):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                alive.discard(pid)
                return False
    return True
