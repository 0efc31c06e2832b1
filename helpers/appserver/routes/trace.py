"""GET /api/trace?since=<cursor>: what the app server saw of your exchanges (masked), for diagrams."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from helpers.appserver.deps import CurrentUser, TraceDep

router = APIRouter(prefix="/api", tags=["trace"])


@router.get("/trace")
def my_trace(user: CurrentUser, log: TraceDep, since: int = Query(0, ge=0)) -> dict[str, Any]:
    """Your calls, their AssumeRole calls and your verified callbacks after `since` (masked).

    `cursor` is the `since` of the next call."""
    cursor, exchanges = log.since(user.username, since)
    return {"cursor": cursor, "exchanges": [e.to_json() for e in exchanges]}
