"""GET /: the web client page (static/index.html; its script and style are under /static, mounted
in main.create_app). Imports nothing from the services: the page talks to the API like any client."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(tags=["pages"])


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The browser upload page (表单上传 + 上传回调)."""
    # no-cache: a browser revalidates, so an edited page never runs against a stale script.
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html",
                        headers={"Cache-Control": "no-cache"})


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """No icon: 204 keeps browsers from logging a 404 on every page load."""
    return Response(status_code=204)
