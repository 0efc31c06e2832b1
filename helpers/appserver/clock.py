"""The app server's clock when it runs beside the local cloud: real time plus the local cloud's offset.

The local cloud can move its clock (a loopback-only admin call) so a notebook can show expiry in
seconds. Time then passes for OSS and STS but not for this process, whose credential cache and
sessions would keep trusting tokens the local cloud already calls expired. `FollowedClock` long-polls
`GET <oss>/_localcloud/clock?wait=<version>`, which answers as soon as the clock moves, so the app
server sees the same time as the local cloud within milliseconds. On Alibaba Cloud there is no such
endpoint and the app server uses plain `time.time`.
"""

from __future__ import annotations

import logging
import threading
import time

import httpx

from helpers import http_clients

logger = logging.getLogger(__name__)


class FollowedClock:
    """A `now()` callable: time.time() + the local cloud's clock offset.

    A daemon thread long-polls the local cloud for the next move, so `now()` itself never blocks
    (it runs on the event loop for every request)."""

    def __init__(self, clock_url: str, *, retry: float = 0.5, timeout: float = 30.0) -> None:
        self._url = clock_url
        self._retry = retry
        self._timeout = timeout
        self._offset = 0.0
        self._version: int | None = None
        self._warned = False
        self._stop = threading.Event()
        self._read(wait=False)
        self._thread = threading.Thread(target=self._follow, name="followed-clock", daemon=True)
        self._thread.start()

    def __call__(self) -> float:
        return time.time() + self._offset

    def close(self) -> None:
        self._stop.set()

    def _follow(self) -> None:
        while not self._stop.is_set():
            if not self._read(wait=True):
                self._stop.wait(self._retry)

    def _read(self, *, wait: bool) -> bool:
        params = {"wait": str(self._version)} if wait and self._version is not None else None
        try:
            r = http_clients.get(self._url, params=params, timeout=self._timeout)
            r.raise_for_status()
            doc = r.json()
            self._offset = float(doc["offset_seconds"])
            self._version = int(doc.get("version", 0))
            return True
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            if not self._warned:
                logger.warning("cannot read the local cloud's clock (%s); keeping offset %.0f s",
                               type(exc).__name__, self._offset)
                self._warned = True
            return False
