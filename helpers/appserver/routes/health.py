"""GET /api/health: a trivial liveness answer (no auth, no state), for health checks and as the
benchmark's no-op baseline. Not recorded by the trace middleware (`tracing.UNTRACED`): a health
poller would otherwise push the users' exchanges out of the trace ring buffer. Its `X-Worker-Pid`
header tells which worker process answered (`serve --workers N`); a pid reveals nothing secret."""

from __future__ import annotations

import os

from fastapi import APIRouter, Response

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
async def health(response: Response) -> dict[str, str]:
    """`{"status": "ok"}` while the server answers."""
    response.headers["X-Worker-Pid"] = str(os.getpid())
    return {"status": "ok"}
