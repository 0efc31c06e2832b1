"""Regressions found by the load and fuzz benchmarks, on the real server processes (`helpers.stack.up`).

- Both servers bound their listening socket with proto 0, so asyncio never set TCP_NODELAY on
  accepted connections: every small answer waited ~40 ms for the client's delayed ACK (Nagle).
- The app server closed idle keep-alive connections after uvicorn's default 5 s, the same as httpx's
  pool expiry: under load clients reused a connection as it closed ("server disconnected").
"""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import stack


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[stack.StackInfo]:
    directory: Path = tmp_path_factory.mktemp("sockets-stack")
    info = stack.up(directory, timeout=60)
    try:
        yield info
    finally:
        stack.down(directory)


def _addr(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _round_trips(url: str, path: str, n: int = 15) -> list[float]:
    """Seconds per request/answer on one keep-alive connection (answers read by Content-Length)."""
    out = []
    with socket.create_connection(_addr(url), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(n):
            t0 = time.perf_counter()
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += s.recv(65536)
            head, body = buf.split(b"\r\n\r\n", 1)
            length = int(
                next(
                    line.split(b":")[1]
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
            )
            while len(body) < length:
                body += s.recv(65536)
            out.append(time.perf_counter() - t0)
    return out


@pytest.mark.parametrize("port", ["oss", "sts", "app"])
def test_server_small_answers_on_keepalive_not_delayed_by_nagle(running: stack.StackInfo, port: str) -> None:
    url, path = {
        "oss": (running.oss_endpoint, "/nosuchbucket-x/k"),
        "sts": (running.sts_endpoint, "/"),
        "app": (running.appserver_url or "", "/api/sts"),
    }[port]
    # Nagle + delayed ACK costs >= 40 ms per answer every time; the median is immune to a busy machine.
    assert statistics.median(_round_trips(url, path)) < 0.030


def test_appserver_keeps_idle_connection_open_past_client_pool_expiry(running: stack.StackInfo) -> None:
    with socket.create_connection(_addr(running.appserver_url or ""), timeout=10) as s:
        s.sendall(b"GET /api/sts HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 401")
        time.sleep(6.0)  # past httpx's 5 s keep-alive expiry (and uvicorn's old 5 s timeout)
        s.setblocking(False)
        try:
            closed = s.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            closed = False
        assert not closed, "the app server closed an idle keep-alive connection after 5 s"
