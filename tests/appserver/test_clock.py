"""The app server follows the local cloud's movable clock (local target only)."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from helpers.appserver.clock import FollowedClock
from helpers.localcloud.oss.handlers.admin import LONG_POLL_SECONDS


def test_followed_clock_reads_the_local_cloud_offset(cloud: Any, clock: Any) -> None:
    followed = FollowedClock(cloud.oss_endpoint + "/_localcloud/clock", retry=0.05)
    try:
        assert abs(followed() - time.time()) < 2
        clock.advance(3600)
        time.sleep(0.2)  # the long poll answers as soon as the clock moves
        assert abs(followed() - (time.time() + 3600)) < 2
    finally:
        followed.close()


def test_followed_clock_keeps_last_offset_when_the_cloud_is_unreachable(cloud: Any, clock: Any) -> None:
    clock.advance(120)
    followed = FollowedClock(cloud.oss_endpoint + "/_localcloud/clock", retry=0.05)
    try:
        followed._url = "http://127.0.0.1:9/_localcloud/clock"  # nothing listens on the discard port
        time.sleep(0.3)
        assert abs(followed() - (time.time() + 120)) < 2
    finally:
        followed.close()


def test_clock_long_poll_answers_on_the_move_not_at_its_deadline(cloud: Any, clock: Any) -> None:
    """`GET clock?wait=V` is woken by the move itself, from whichever thread makes it (here the
    test's, not the server's event loop): it answers with the new version long before its 20 s."""
    url = cloud.oss_endpoint + "/_localcloud/clock"
    seen = httpx.get(url, trust_env=False).json()["version"]
    answer: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        answer.update(httpx.get(url, params={"wait": seen}, timeout=30, trust_env=False).json(),
                      took=time.monotonic() - started)

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(0.3)
    assert not answer, "the long poll answered before the clock moved"
    clock.advance(60)
    waiter.join(timeout=25)
    assert answer["version"] == seen + 1 and answer["offset_seconds"] == 60
    assert answer["took"] < LONG_POLL_SECONDS / 2
