"""A null HTTP sink: the baseline the local-cloud benchmark divides by.

    python benchmarks/null_sink.py --ready-file F [--host 127.0.0.1] [--chunk BYTES]

It runs on the same server stack as the local cloud's OSS port (uvicorn with its default, auto-picked
http implementation, the stdlib asyncio loop it is started on, and the same Config options as
`helpers/localcloud/server.py`) but
does no auth, no hashing and no disk. PUT reads and discards the body and answers 200 with an empty,
ETag-less response. GET streams zero bytes with a Content-Length: as many as `?size=N`, else an
`x-sink-size` header, else the size of the last PUT to the same path (so a client can run identical
code against both servers). Anything else answers 200 empty (oss2 needs nothing more).
Once listening it writes `{"endpoint": ..., "pid": ...}` to the ready file.
It shares only the server plumbing (`helpers.serving`: socket, uvicorn options, run loop) with the
local cloud, so the two differ in the app alone; none of the local cloud's request handling.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from helpers import serving

Scope = dict[str, Any]
Message = dict[str, Any]

DEFAULT_CHUNK = 1024 * 1024


class NullSink:
    """The pure ASGI app. `sizes` remembers the size of the last PUT per path."""

    def __init__(self, chunk: int = DEFAULT_CHUNK) -> None:
        self.chunk = chunk
        self._zeros = bytes(chunk)
        self.sizes: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        method = scope["method"]
        path = scope["path"]
        if method == "PUT":
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                size += len(message.get("body", b""))
                more = message.get("more_body", False)
            self.sizes[path] = size
            await _empty(send)
        elif method == "GET":
            await self._get(scope, path, send)
        else:
            await _empty(send)

    def _size_for(self, scope: Scope, path: str) -> int:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "size" in query:
            return int(query["size"][0])
        for k, v in scope.get("headers", []):
            if k == b"x-sink-size":
                return int(v)
        return self.sizes.get(path, 0)

    async def _get(self, scope: Scope, path: str, send: Any) -> None:
        size = self._size_for(scope, path)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(size).encode()),
                                (b"content-type", b"application/octet-stream")]})
        left = size
        while left > 0:
            n = min(left, self.chunk)
            left -= n
            body = self._zeros if n == self.chunk else self._zeros[:n]
            await send({"type": "http.response.body", "body": body, "more_body": left > 0})
        if size == 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _empty(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python benchmarks/null_sink.py", description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="GET body chunk size in bytes")
    p.add_argument("--ready-file", required=True)
    args = p.parse_args(argv)
    sock = serving.bind(args.host)
    endpoint = serving.url_of(args.host, sock)
    server = serving.QuietServer(serving.config(NullSink(args.chunk)))
    serving.run_until_signalled([(server, sock)], ready_file=Path(args.ready_file),
                                ready_info={"endpoint": endpoint})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
