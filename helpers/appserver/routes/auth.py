"""POST /api/login: demo app users get a short-lived bearer session."""

from __future__ import annotations

from fastapi import APIRouter, Request

from helpers.appserver.deps import ClockDep, SettingsDep
from helpers.appserver.schemas import LoginIn, LoginOut
from helpers.appserver.services import users

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/login", response_model=LoginOut, responses={401: {"description": "wrong credentials"}})
def login(body: LoginIn, request: Request, settings: SettingsDep, now: ClockDep) -> LoginOut:
    """Exchange a username and password for a bearer access token."""
    user = users.authenticate(settings=settings, username=body.username, password=body.password)
    request.state.trace_user = user.username
    session = users.issue_session(settings=settings, user=user, now=now)
    return LoginOut(access_token=session.access_token, expires_in=session.expires_in)
