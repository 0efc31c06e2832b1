"""`create_app(settings) -> FastAPI`: routers, static files, and the one place errors become HTTP.

Every error leaves as JSON `{"detail": ...}`: domain errors (`errors.AppError`) with their status,
validation errors as 422 with `loc`/`msg`/`type` only (pydantic's `input` is dropped so a password
is never echoed), Starlette's 404/405 as JSON, and anything unexpected as a logged 500 without
details. There is no module-level app: tests and `python -m helpers.appserver` pass their Settings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from helpers.appserver import db
from helpers.appserver.errors import AppError
from helpers.appserver.routes import auth, callback, health, pages, sign, sts, trace
from helpers.appserver.routes.pages import STATIC_DIR
from helpers.appserver.services.callbacks import PublicKeyCache
from helpers.appserver.services.sts import AssumeRole, StsBroker
from helpers.appserver.tracing import TraceLog, TraceMiddleware
from helpers.asgi import DateHeader
from helpers.settings import Settings

logger = logging.getLogger(__name__)


def _clean_errors(errors: Any) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ())]
        out.append({"loc": loc, "msg": str(e.get("msg", "invalid value")), "type": str(e.get("type", ""))})
    return out


async def _on_app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if exc.status >= 500:
        logger.warning("%s %s -> %d %s", request.method, request.url.path, exc.status, exc.detail)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": _clean_errors(exc.errors())}, status_code=422)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse({"detail": "internal error"}, status_code=500)


def create_app(settings: Settings, *, now: Callable[[], float] = time.time,
               assume_role: AssumeRole | None = None, key_cache: PublicKeyCache | None = None) -> FastAPI:
    """The app server for `settings`. `now` is its clock (tests move it); `assume_role` replaces the
    STS SDK call only where a test needs to; `key_cache` holds fetched callback public keys."""
    db.init_schema(settings.db_path)
    app = FastAPI(title="Workbook app server", version="0.1.0",
                  description="Login, STS credentials, signed URLs, PostObject policies and OSS callbacks "
                              "for direct upload to OSS.")
    app.state.settings = settings
    app.state.now = now
    app.state.trace = TraceLog()
    app.state.broker = StsBroker(settings, now=now, assume_role=assume_role, trace=app.state.trace)
    app.state.keys = key_cache or PublicKeyCache()
    for router in (health.router, auth.router, sts.router, sign.router, callback.router, trace.router,
                   pages.router):
        app.include_router(router)
    app.add_middleware(TraceMiddleware, log=app.state.trace)
    app.add_middleware(DateHeader, now=now)  # Date from this server's clock: clients derive skew from it
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(AppError, _on_app_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
    return app
