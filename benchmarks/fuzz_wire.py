"""The fuzz benchmark's raw HTTP/1.1 client: one keep-alive socket that sends bytes exactly as given.

Paths keep `..` and control characters, headers can be huge or invalid, bodies can be truncated (the
client hangs up mid-body); the answer is read back as status, headers and body.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

# ------------------------------------------------------------------------------------ raw client


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class RawConn:
    """One keep-alive HTTP/1.1 connection over a plain socket; reconnects when the server closes."""

    def __init__(self, host: str, port: int, timeout: float = 20.0) -> None:
        self.addr = (host, port)
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buf = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buf = None, b""

    def _connect(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection(self.addr, timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.sock

    def _read_more(self) -> bool:
        assert self.sock is not None
        data = self.sock.recv(262144)
        self.buf += data
        return bool(data)

    def _read_until(self, marker: bytes) -> bytes | None:
        while marker not in self.buf:
            if not self._read_more():
                return None
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_n(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._read_more():
                raise ConnectionError("connection closed mid-body")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, payload: bytes, method: str, *, hang_up: bool = False) -> Answer | None:
        """Send raw bytes; read one answer. `hang_up`: shut down writing first (a truncated body)."""
        for attempt in range(2):
            sock = self._connect()
            try:
                sock.sendall(payload)
                if hang_up:
                    sock.shutdown(socket.SHUT_WR)
                answer = self._read_answer(method)
            except (BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt or hang_up:
                    return None
                continue
            if answer is None and attempt == 0 and not hang_up:
                self.close()  # a keep-alive connection the server had closed: once more, fresh
                continue
            if hang_up or answer is None or answer.headers.get("connection", "").lower() == "close":
                self.close()
            return answer
        return None

    def _read_answer(self, method: str) -> Answer | None:
        while True:
            head = self._read_until(b"\r\n\r\n")
            if head is None:
                return None
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            if status != 100:  # "100 Continue" (Expect: 100-continue) comes before the answer
                break
        headers: dict[str, str] = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return Answer(status, headers, b"")
        if "content-length" in headers:
            return Answer(status, headers, self._read_n(int(headers["content-length"])))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size_line = self._read_until(b"\r\n")
                if size_line is None:
                    raise ConnectionError("connection closed mid-chunk")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n")
                    return Answer(status, headers, body)
                body += self._read_n(size)
                self._read_n(2)
        while self._read_more():
            pass
        body, self.buf = self.buf, b""
        self.close()
        return Answer(status, headers, body)
