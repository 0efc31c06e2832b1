"""GET /: the web client page (static/index.html)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(tags=["pages"])


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The browser upload page."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")
