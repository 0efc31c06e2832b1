"""Pure-ASGI middleware shared by the workbook's servers (no BaseHTTPMiddleware: it breaks streaming)."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import formatdate

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class DateHeader:
    """Sets the `Date` header of every HTTP answer from `now()` (epoch seconds).

    Clients compute their clock skew from it, so a server whose clock follows the local cloud's
    movable clock must say so in `Date` too (uvicorn's own Date header is real time: turn it off).
    """

    def __init__(self, app: ASGIApp, now: Callable[[], float]) -> None:
        self.app = app
        self.now = now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_date(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", formatdate(self.now(), usegmt=True).encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_date)
