"""The app server's clock when it runs beside the local cloud: real time plus the local cloud's offset.

The local cloud can move its clock (a loopback-only admin call) so a notebook can show expiry in
seconds. Time then passes for OSS and STS but not for this process, whose credential cache and
sessions would keep trusting tokens the local cloud already calls expired. `FollowedClock` reads the
offset from `GET <oss>/_localcloud/clock` at most once per `refresh` seconds, so the app server sees
the same time as the local cloud. On Alibaba Cloud there is no such endpoint and the app server uses
plain `time.time`.
"""

from __future__ import annotations

import logging
import threading
import time

import httpx

logger = logging.getLogger(__name__)


class FollowedClock:
    """A `now()` callable: time.time() + the local cloud's clock offset.

    A daemon thread re-reads the offset every `refresh` seconds, so `now()` itself never blocks
    (it runs on the event loop for every request)."""

    def __init__(self, clock_url: str, *, refresh: float = 0.5, timeout: float = 2.0) -> None:
        self._url = clock_url
        self._refresh = refresh
        self._timeout = timeout
        self._offset = 0.0
        self._warned = False
        self._stop = threading.Event()
        self._offset = self._read_offset()
        self._thread = threading.Thread(target=self._follow, name="followed-clock", daemon=True)
        self._thread.start()

    def __call__(self) -> float:
        return time.time() + self._offset

    def close(self) -> None:
        self._stop.set()

    def _follow(self) -> None:
        while not self._stop.wait(self._refresh):
            self._offset = self._read_offset()

    def _read_offset(self) -> float:
        try:
            r = httpx.get(self._url, timeout=self._timeout, trust_env=False)
            r.raise_for_status()
            return float(r.json()["offset_seconds"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            if not self._warned:
                logger.warning("cannot read the local cloud's clock (%s); keeping offset %.0f s",
                               type(exc).__name__, self._offset)
                self._warned = True
            return self._offset
