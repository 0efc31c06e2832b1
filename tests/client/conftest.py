"""Client fixtures: the real app server (the fixtures of tests/appserver/conftest.py, re-used) in
front of the session's local cloud, and MobileClients for the demo users.

Fixtures of a sibling folder's conftest are not visible here, so the app server's are imported;
`tests/` has no `__init__.py`, so pytest's rootdir-relative name `appserver.conftest` is tried first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

try:
    from appserver.conftest import RunningAppServer, appserver, users  # noqa: F401  (fixtures)
except ImportError:  # a tests/__init__.py makes the package `tests.appserver`
    from tests.appserver.conftest import RunningAppServer, appserver, users  # noqa: F401

from helpers.client.mobile import MobileClient


class ClientClock:
    """The client's clock (real time plus an offset), so a test can move every clock together."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def client_clock() -> ClientClock:
    return ClientClock()


@pytest.fixture
def mobile(appserver: RunningAppServer, users: dict[str, str], tmp_path: Path,
           client_clock: ClientClock) -> Iterator[Callable[..., MobileClient]]:
    """mobile("alice", **kw) -> a logged-in MobileClient (closed after the test)."""
    made: list[MobileClient] = []

    def make(username: str, **kwargs: object) -> MobileClient:
        kwargs.setdefault("checkpoint_dir", tmp_path / f"checkpoints-{username}")
        kwargs.setdefault("now", client_clock)
        client = MobileClient(appserver.url, username, users[username], **kwargs)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
