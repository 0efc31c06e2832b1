"""What the app server saw, for `GET /api/trace`: a bounded ring buffer of masked exchanges per user
(`TraceLog`) and the pure ASGI middleware that records inbound API calls and OSS callbacks.

The middleware records `/api/*` except `/api/trace` itself and `/api/health`. Routes tell it
whose exchange it was and how it ended through `request.state.trace_user` / `trace_note` (set by
`deps.current_user`, the login route and the callback route); an exchange without a user (a
refused login, a forged callback) is kept for nobody. AssumeRole calls are added by
`services.sts.StsBroker`. Everything is masked by `helpers.trace.Exchange.create` before it is
stored. Imports no FastAPI/Starlette (pure ASGI, style.md §3: no BaseHTTPMiddleware).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from helpers.trace import TRACE_PATH, Exchange

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CALLBACK_PATH = "/api/callback"
UNTRACED = frozenset({TRACE_PATH, "/api/health"})    # reading the trace and health polls are not the story


class TraceLog:
    """The last `maxlen` exchanges with their user; cursors are sequence numbers (thread-safe)."""

    def __init__(self, maxlen: int = 2000) -> None:
        self._items: deque[tuple[int, str | None, Exchange]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = 0

    def add(self, user: str | None, exchange: Exchange) -> None:
        with self._lock:
            self._seq += 1
            self._items.append((self._seq, user, exchange))

    def since(self, user: str, cursor: int) -> tuple[int, list[Exchange]]:
        """(newest sequence number, `user`'s exchanges after `cursor`)."""
        with self._lock:
            return self._seq, [ex for seq, who, ex in self._items if seq > cursor and who == user]


class TraceMiddleware:
    """Records each `/api/*` request with its final status (500 when the app raised)."""

    def __init__(self, app: ASGIApp, log: TraceLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/api/") or path in UNTRACED:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})     # shared with Request.state downstream
        t0 = time.time()
        status: list[int] = []
        recorded: list[bool] = []

        def record() -> None:
            if recorded:
                return
            recorded.append(True)
            query = scope.get("query_string", b"").decode("latin-1")
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
            source = "OSS" if path == CALLBACK_PATH else "Client"
            self.log.add(state.get("trace_user"), Exchange.create(
                t=t0, end=time.time(), source=source, target="AppServer", method=scope.get("method", "GET"),
                path=path + ("?" + query if query else ""),
                status=status[0] if status else 500, note=str(state.get("trace_note", "")), headers=headers))

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Recorded before the last byte leaves: whoever got the answer can already see it
                # in the trace (OSS relays a callback's answer to the client at once).
                record()
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            record()
