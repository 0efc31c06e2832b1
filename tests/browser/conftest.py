"""Debian's Chromium driven by Playwright for Python, shared by the browser tests.

No browser download is possible here: the tests use `/usr/bin/chromium` (`.ci/run` installs it) and
FAIL, never skip, when it is missing. The machine has no network, so every request that is not to
loopback is aborted and listed (`loopback_only`), and the tests assert that list stays empty.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is missing: apt-get install chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def is_loopback_host(hostname: str | None) -> bool:
    """127.0.0.1, `localhost` and `*.localhost`: Chromium resolves the latter two to loopback itself,
    without DNS (the ali-oss page reaches the local cloud as http://<bucket>.localhost:PORT)."""
    h = (hostname or "").lower()
    return h == "127.0.0.1" or h == "localhost" or h.endswith(".localhost")


def loopback_only(context: Any) -> list[str]:
    """Abort every request of `context` that leaves loopback; return the (live) list of those URLs."""
    blocked: list[str] = []

    def guard(route: Any) -> None:
        if is_loopback_host(urlsplit(route.request.url).hostname):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return blocked
