"""The local cloud's clock: real time plus an offset that a loopback-only admin call can move.

The offset models the passage of time, so that token, URL and form-policy expiry can be shown in
seconds. It drives every expiry decision and every timestamp the local cloud issues (Date, STS
Expiration, Last-Modified). Request-skew checks (RequestTimeTooSkewed, STS Timestamp) compare the
client's clock with real time instead, because they are about two clocks disagreeing, not about
time passing. Real Alibaba Cloud has no such call; notebooks say so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.utils import formatdate


class Clock:
    """Thread-safe movable clock. `now()` is epoch seconds (float) including the offset."""

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._lock = threading.Lock()
        self.version = 0   # bumped on every move, so followers can wait for the next one
        self._listeners: set[Callable[[], None]] = set()

    def now(self) -> float:
        return time.time() + self._offset

    @staticmethod
    def real_now() -> float:
        return time.time()

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward (or back, if negative); return the new offset."""
        return self._move(lambda: self._offset + seconds)

    def set_offset(self, offset: float) -> float:
        return self._move(lambda: offset)

    def listen(self, callback: Callable[[], None]) -> None:
        """Call `callback()` after every move (from the moving thread) until `unlisten`."""
        with self._lock:
            self._listeners.add(callback)

    def unlisten(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.discard(callback)

    def _move(self, new_offset: Callable[[], float]) -> float:
        with self._lock:
            self._offset = new_offset()
            self.version += 1
            offset, listeners = self._offset, list(self._listeners)
        for callback in listeners:
            callback()
        return offset


def http_date(epoch: float) -> str:
    """RFC 1123 date with a two-digit day, as oss2's Last-Modified regex requires."""
    return formatdate(epoch, usegmt=True)


def iso8601_ms(epoch: float) -> str:
    """`2012-02-24T08:42:32.000Z`: the exact form oss2 requires in XML."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def iso8601_s(epoch: float) -> str:
    """`2015-04-09T11:52:19Z`: STS Expiration (no fraction)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
