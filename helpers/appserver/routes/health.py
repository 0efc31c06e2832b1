"""GET /api/health: a trivial liveness answer (no auth, no state), for health checks and as the
benchmark's no-op baseline. Not recorded by the trace middleware (`tracing.UNTRACED`): a health
poller would otherwise push the users' exchanges out of the trace ring buffer."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """`{"status": "ok"}` while the server answers."""
    return {"status": "ok"}
