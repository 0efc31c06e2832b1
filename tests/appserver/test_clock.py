"""The app server follows the local cloud's movable clock (local target only)."""

from __future__ import annotations

import time
from typing import Any

from helpers.appserver.clock import FollowedClock


def test_followed_clock_reads_the_local_cloud_offset(cloud: Any, clock: Any) -> None:
    followed = FollowedClock(cloud.oss_endpoint + "/_localcloud/clock", retry=0.05)
    try:
        assert abs(followed() - time.time()) < 2
        clock.advance(3600)
        time.sleep(0.2)  # the long poll answers within ~20 ms of the move
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
