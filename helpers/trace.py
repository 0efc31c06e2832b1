"""Observed HTTP exchanges between Client, AppServer, STS and OSS (drawn by helpers.sequence_diagram).

    rec = Recorder()
    client = MobileClient(url, "alice", pw, recorder=rec)   # hooks the client's own transports
    client.upload_form("a.txt", b"hi", callback=True)
    display_mermaid(rec.mermaid())      # helpers.sequence_diagram; or rec.to_markdown()

Each side records only what it sees in-process, so the picture is the same against the local
cloud and against Alibaba Cloud: the client records its own requests (httpx event hooks for the
app server, signed URLs and forms; a `requests` response hook on the SDK sessions for OSS), and
the app server records its inbound API calls, its AssumeRole calls and the OSS callbacks it
receives (with the verification outcome), which `Recorder` pulls through `GET /api/trace`.
Exchanges are merged by timestamp, so the clocks of the two processes must agree (they do on one
machine; across machines the order is only as good as their NTP).

Secrets are masked when an exchange is created (`helpers.exchange.Exchange.create`), through
`helpers.logging`, the only masking code: paths keep their query names but not signatures or tokens,
headers keep the AccessKey ID but not the signature, JSON bodies lose AccessKeySecret/SecurityToken/
password (and here also AccessKeyId), and bodies that cannot be parsed safely (multipart forms, OSS
error documents, which echo the security token) are summarised by size.

The recorder also decides what one diagram shows: exchanges from `start_at(t)` on (a reused app
server still holds earlier runs' records), each exchange once (two clients of one user pull the
same app-server records). `Exchange` lives in `helpers.exchange`, which this module and
`helpers.sequence_diagram` both import (neither imports the other's caller).
Imports nothing from `helpers.client`, `helpers.appserver` or `helpers.localcloud` (they import it).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from helpers.exchange import Exchange, mask_body, path_of
from helpers.protocol.errors import parse_error
from helpers.sequence_diagram import mermaid, to_markdown

logger = logging.getLogger(__name__)

TRACE_PATH = "/api/trace"   # never recorded: reading the trace is not part of the story


# ------------------------------------------------------------------------------- error codes

def oss_error_code(status: int, content: bytes, headers: Mapping[str, str] | None = None) -> str:
    """`Code` of an OSS/STS error answer (XML `<Error>`, JSON `Code`, or HEAD's base64 `x-oss-err`)."""
    if status < 300:
        return ""
    parsed = parse_error(content, headers)
    return parsed.code.strip() if parsed else ""


def _api_detail(content: bytes) -> str:
    """The app server's `{"detail": "..."}` when it is a plain string (validation lists are not)."""
    try:
        doc = json.loads(content)
    except ValueError:
        return ""
    detail = doc.get("detail") if isinstance(doc, dict) else None
    return detail if isinstance(detail, str) else ""


# ------------------------------------------------------------------------------------ recorder

RemoteFetch = Callable[[int], tuple[int, list[dict[str, Any]]]]


class Recorder:
    """Collects exchanges recorded in this process and pulls those of the app server.

    Thread-safe; bounded (`maxlen` exchanges, oldest dropped). Exchanges whose source this process
    records itself (`Client` once a hook is installed) are taken only from the local record, so a
    call seen at both ends appears once.
    """

    def __init__(self, *, maxlen: int = 10_000, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._local: deque[Exchange] = deque(maxlen=maxlen)
        self._remote: deque[Exchange] = deque(maxlen=maxlen)
        self._sources: list[list[Any]] = []     # [fetch, cursor]
        self._own: set[str] = set()
        self._since = float("-inf")     # exchanges before this instant are not shown (`start_at`)

    # -------------------------------------------------------------------------------- recording

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self._local.append(exchange)

    def record(self, **fields: Any) -> Exchange:
        """`Exchange.create(**fields)` (masked) and keep it."""
        exchange = Exchange.create(**fields)
        self.add(exchange)
        return exchange

    def clear(self) -> None:
        """Forget everything recorded so far (remote cursors stay, so old remote records stay out)."""
        self.sync()
        with self._lock:
            self._local.clear()
            self._remote.clear()

    def start_at(self, t: float) -> None:
        """Show only exchanges whose request left at `t` or later: what a reused app server recorded
        for these users before (an earlier run's) is kept for `earlier()` but not shown."""
        with self._lock:
            self._since = t

    def httpx_hooks(self, target: str, source: str = "Client") -> dict[str, list[Callable[..., None]]]:
        """`event_hooks` for an `httpx.Client` whose every request goes to `target`."""
        import httpx

        self._own.add(source)

        def on_request(request: httpx.Request) -> None:
            request.extensions["trace_t0"] = self._now()

        def on_response(response: httpx.Response) -> None:
            request = response.request
            if request.url.path == TRACE_PATH:
                return
            t0 = float(request.extensions.get("trace_t0", self._now()))
            content_type = request.headers.get("content-type", "")
            body_type = content_type
            try:
                body: bytes | str = request.content
            except httpx.RequestNotRead:    # a streamed body (file, multipart): its size and type only
                body, body_type = f"<{request.headers.get('content-length', '?')} bytes {content_type}>", ""
            reply_type = response.headers.get("content-type", "")
            reply, note = b"", ""
            if response.status_code >= 300 or "json" in reply_type:
                response.read()     # httpx allows this in a hook; the caller reads the cached body
                if "json" in reply_type:
                    reply = response.content
                    if response.status_code >= 300:
                        note = _api_detail(response.content)
                else:
                    note = oss_error_code(response.status_code, response.content, response.headers)
            self.record(t=t0, end=self._now(), source=source, target=target, method=request.method,
                        path=str(request.url), status=response.status_code, note=note,
                        headers=request.headers.multi_items(), body=body, body_type=body_type,
                        reply=reply, reply_type=reply_type)

        return {"request": [on_request], "response": [on_response]}

    def install_httpx(self, client: Any, target: str, source: str = "Client") -> None:
        """Add the hooks to an existing `httpx.Client` (keeps its other hooks)."""
        hooks = self.httpx_hooks(target, source)
        current = client.event_hooks
        client.event_hooks = {name: [*current.get(name, []), *hooks[name]]
                              for name in ("request", "response")}

    def install_requests(self, session: Any, target: str = "OSS", source: str = "Client") -> None:
        """A response hook on a `requests.Session` (oss2's `Session.session`, the v2 SDK's client).

        `requests` has no request hook: the start is the answer's time minus `elapsed` (time to
        the response headers), which is before anything the server did for this request."""
        self._own.add(source)

        def on_response(response: Any, *args: Any, **kwargs: Any) -> Any:
            now = self._now()
            request = response.request
            note = ""
            if response.status_code >= 300:
                # Reading here is safe: both SDKs read error bodies through `.content`/`iter_content`,
                # which replay the consumed content.
                note = oss_error_code(response.status_code, response.content or b"", response.headers)
            # SDK bodies are wrapped (CRC, progress) and never shown: their size is enough.
            size = request.headers.get("Content-Length")
            self.record(t=now - response.elapsed.total_seconds(), end=now, source=source, target=target,
                        method=str(request.method), path=str(request.url), status=int(response.status_code),
                        note=note, headers=dict(request.headers), body=f"<{size} bytes>" if size else None)
            return response

        session.hooks.setdefault("response", []).append(on_response)

    # ---------------------------------------------------------------------------------- remote

    def add_source(self, fetch: RemoteFetch) -> None:
        """A remote recorder: `fetch(since) -> (cursor, [exchange json, ...])` (GET /api/trace)."""
        with self._lock:
            self._sources.append([fetch, 0])

    def sync(self) -> int:
        """Pull new remote exchanges; returns how many arrived. A failing source is logged, not fatal."""
        with self._lock:
            sources = list(self._sources)
        added = 0
        for entry in sources:
            fetch, since = entry
            try:
                cursor, docs = fetch(since)
            except Exception as exc:  # a remote trace is optional: report it and keep the local one
                logger.warning("trace: the app server's trace is unavailable (%s)", type(exc).__name__)
                continue
            fresh = []
            for doc in docs:
                try:
                    fresh.append(Exchange.from_json(doc))
                except (KeyError, TypeError, ValueError):
                    logger.warning("trace: skipped a malformed remote exchange")
            with self._lock:
                entry[1] = max(int(cursor), since)
                self._remote.extend(fresh)
            added += len(fresh)
        return added

    # --------------------------------------------------------------------------------- reading

    def _merged(self) -> list[Exchange]:
        """Local and remote exchanges, each once, ordered by the time each request left. A source this
        process records itself is taken from the local record only; an exchange pulled twice (two
        clients of one user each pull that user's app-server records) is kept once."""
        with self._lock:
            merged = list(self._local) + [e for e in self._remote if e.source not in self._own]
        seen: set[tuple[Any, ...]] = set()
        unique = []
        for e in sorted(merged, key=lambda e: e.t):
            if e.identity not in seen:
                seen.add(e.identity)
                unique.append(e)
        return unique

    def exchanges(self, *, sync: bool = True) -> list[Exchange]:
        """The exchanges since `start_at`, each once, ordered by the time each request left."""
        if sync:
            self.sync()
        return [e for e in self._merged() if e.t >= self._since]

    def earlier(self, *, sync: bool = True) -> list[Exchange]:
        """The exchanges recorded before `start_at` (on a reused stack: earlier runs'), each once."""
        if sync:
            self.sync()
        return [e for e in self._merged() if e.t < self._since]

    def mermaid(self, *, title: str | None = None, sync: bool = True) -> str:
        return mermaid(self.exchanges(sync=sync), title=title)

    def to_markdown(self, *, title: str | None = None) -> str:
        return to_markdown(self.mermaid(title=title))


__all__ = ["Exchange", "Recorder", "mask_body", "oss_error_code", "path_of"]
