"""FastAPI dependencies as `Annotated` aliases: SettingsDep, DbDep, BrokerDep, KeysDep, ClockDep,
TraceDep, CurrentUser. Everything lives on `app.state` (set by `main.create_app`); nothing at import time.
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


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[sqlite3.Connection]:
    conn = db.connect(request.app.state.settings.db_path)
    try:
        yield conn
    finally:
        conn.close()


def get_broker(request: Request) -> StsBroker:
    broker: StsBroker = request.app.state.broker
    return broker


def get_keys(request: Request) -> PublicKeyCache:
    keys: PublicKeyCache = request.app.state.keys
    return keys


def get_clock(request: Request) -> Callable[[], float]:
    now: Callable[[], float] = request.app.state.now
    return now


def get_trace(request: Request) -> TraceLog:
    log: TraceLog = request.app.state.trace
    return log


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[sqlite3.Connection, Depends(get_db)]
BrokerDep = Annotated[StsBroker, Depends(get_broker)]
KeysDep = Annotated[PublicKeyCache, Depends(get_keys)]
ClockDep = Annotated[Callable[[], float], Depends(get_clock)]
TraceDep = Annotated[TraceLog, Depends(get_trace)]

_bearer = HTTPBearer(auto_error=False, description="the access_token from POST /api/login")


def current_user(request: Request, settings: SettingsDep, now: ClockDep,
                 auth: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    """The user of the bearer session; identity never comes from a request parameter."""
    if auth is None or auth.scheme.lower() != "bearer" or not auth.credentials:
        raise NotAuthenticated("missing bearer token")
    user = user_for_token(settings=settings, token=auth.credentials, now=now)
    request.state.trace_user = user.username    # whose exchange the trace middleware records
    return user


CurrentUser = Annotated[User, Depends(current_user)]
