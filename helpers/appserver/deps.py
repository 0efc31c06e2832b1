"""FastAPI dependencies as `Annotated` aliases: SettingsDep, DbDep, BrokerDep, KeysDep, ClockDep,
TraceDep, CurrentUser. Everything lives on `app.state` (set by `main.create_app`); nothing at import time.
The non-blocking ones are `async def`: FastAPI runs a sync dependency in the thread pool, which costs
far more than the dependency itself; only `get_db` (opens SQLite) stays sync.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from helpers.appserver import db
from helpers.appserver.errors import NotAuthenticated
from helpers.appserver.services.callbacks import PublicKeyCache
from helpers.appserver.services.sts import StsBroker
from helpers.appserver.services.users import User, user_for_token
from helpers.appserver.tracing import TraceLog
from helpers.settings import Settings


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[sqlite3.Connection]:
    conn = db.connect(request.app.state.settings.db_path)
    try:
        yield conn
    finally:
        conn.close()


async def get_broker(request: Request) -> StsBroker:
    broker: StsBroker = request.app.state.broker
    return broker


async def get_keys(request: Request) -> PublicKeyCache:
    keys: PublicKeyCache = request.app.state.keys
    return keys


async def get_clock(request: Request) -> Callable[[], float]:
    now: Callable[[], float] = request.app.state.now
    return now


async def get_trace(request: Request) -> TraceLog:
    log: TraceLog = request.app.state.trace
    return log


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[sqlite3.Connection, Depends(get_db)]
BrokerDep = Annotated[StsBroker, Depends(get_broker)]
KeysDep = Annotated[PublicKeyCache, Depends(get_keys)]
ClockDep = Annotated[Callable[[], float], Depends(get_clock)]
TraceDep = Annotated[TraceLog, Depends(get_trace)]

_bearer = HTTPBearer(auto_error=False, description="the access_token from POST /api/login")


async def current_user(request: Request,
                       auth: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    """The user of the bearer session; identity never comes from a request parameter. An HMAC check
    of a few microseconds, on the event loop. Settings and clock come straight from `app.state`, not
    as sub-dependencies: every dependency node costs FastAPI more than this whole check, and this
    one runs on every authenticated request."""
    if auth is None or auth.scheme.lower() != "bearer" or not auth.credentials:
        raise NotAuthenticated("missing bearer token")
    state = request.app.state
    user = user_for_token(settings=state.settings, token=auth.credentials, now=state.now)
    request.state.trace_user = user.username    # whose exchange the trace middleware records
    return user


CurrentUser = Annotated[User, Depends(current_user)]
