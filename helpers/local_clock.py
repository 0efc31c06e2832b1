"""The local cloud's movable clock, seen from the notebook kernel: move it, put it back, and wait until
the stack's app server shows the same time (loopback admin calls; Alibaba Cloud has no such clock).

`Book.advance_clock`, `Book.reset_clock` and `Book.cloud_now` call these; the offset lives on the Book.
"""

from __future__ import annotations

import contextlib
import time
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx

from helpers import http_clients


class Book(Protocol):
    """What the clock moves need of a `helpers.workbook.Book` (a Protocol: no import back into it)."""

    oss_endpoint: str
    appserver_url: str

    def cloud_now(self) -> float: ...

CLOCK_PATH = "/_localcloud/clock"


def move(book: Book, body: dict[str, float]) -> float:
    """POST `body` (`{"advance": s}` or `{"offset": s}`) to the local cloud's clock; its new offset."""
    r = http_clients.post(book.oss_endpoint + CLOCK_PATH, json=body, timeout=10)
    r.raise_for_status()
    return float(r.json().get("offset_seconds", 0.0))


def wait_for_appserver(book: Book, timeout: float = 5.0) -> None:
    """The stack's app server follows the local cloud's clock (a long poll that answers on every
    move): wait until its `Date` shows `book.cloud_now()`, so the next step sees one time everywhere.
    Returns after `timeout` seconds anyway (an app server that does not follow is not an error here)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, KeyError, TypeError, ValueError):
            r = http_clients.get(book.appserver_url + "/api/health", timeout=5)
            if abs(parsedate_to_datetime(r.headers["date"]).timestamp() - book.cloud_now()) < 2:
                return
        time.sleep(0.01)
