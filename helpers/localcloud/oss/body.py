"""The request body of one OSS call, read from ASGI `receive` as a stream (never buffered whole)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import AsyncIterator

from starlette.types import Receive

from helpers.localcloud.errors import InvalidArgument, InvalidDigest
from helpers.localcloud.oss.request import Headers

# How much of an unread body an error response still drains before it closes the connection instead.
DRAIN_LIMIT = 64 * 1024 * 1024


class ClientGone(Exception):
    """The client disconnected before its body was complete: nothing is stored, nothing is answered."""


class Body:
    """Streams the body once. `chunks()` for uploads, `read_all()` for small XML bodies."""

    def __init__(self, receive: Receive, headers: Headers) -> None:
        self._receive = receive
        self._headers = headers
        self._done = False
        self.bytes_read = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield the body's chunks as they arrive; raise ClientGone if the client goes away."""
        while not self._done:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._done = True
                raise ClientGone()
            chunk = message.get("body", b"")
            self._done = not message.get("more_body", False)
            if chunk:
                self.bytes_read += len(chunk)
                yield chunk

    async def read_all(self, limit: int = 2 * 1024 * 1024) -> bytes:
        """The whole (small) body; checks Content-MD5 when the client sent one (SDKs do for XML ops)."""
        parts: list[bytes] = []
        size = 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                raise InvalidArgument("The request body is too large.")
            parts.append(chunk)
        data = b"".join(parts)
        check_content_md5(self._headers.get("content-md5"), hashlib.md5(data).digest())
        return data

    async def drain(self, limit: int = DRAIN_LIMIT) -> bool:
        """Consume and discard the rest of the body. False if it was longer than `limit`."""
        if self._done:
            return True
        start = self.bytes_read
        try:
            async for _ in self.chunks():
                if self.bytes_read - start > limit:
                    return False
        except ClientGone:
            return False
        return True


    async def wait_for_disconnect(self) -> None:
        """Return once the client has gone (after the body, `receive` yields only the disconnect)."""
        with contextlib.suppress(ClientGone):
            await self.drain()
        while (await self._receive())["type"] != "http.disconnect":
            pass


def check_content_md5(header: str | None, digest: bytes) -> None:
    """Raise InvalidDigest unless `header` (when given) is the base64 MD5 `digest`."""
    if header is None:
        return
    try:
        claimed = base64.b64decode(header.strip(), validate=True)
    except ValueError as exc:
        raise InvalidDigest() from exc
    if claimed != digest:
        raise InvalidDigest()
