"""Logging in and out (a token for the dashboard), the caller's own tokens and password, and who the caller is."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from api.http.auth import PRINCIPALS, ROLE_PERMISSIONS, bearer, current_principal
from api.http.deps import SessionDep
from api.http.login_throttle import THROTTLE
from api.http.routers.common import Id, StrictBody
from inventory.audit import Actor
from inventory.errors import NotFoundError
from inventory.models import ApiToken, Department, User
from inventory.settings import get_settings
from inventory.users import Principal, check_password, login, revoke_tokens, set_password, token_hash

router = APIRouter(prefix="/api/v1/auth", tags=["auth 登录"])


class LoginIn(StrictBody):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class LoginOut(BaseModel):
    token: str
    expires_at: dt.datetime


class MeOut(BaseModel):
    username: str
    role: str
    department_code: str | None
    permissions: list[str]


class PasswordIn(StrictBody):
    current: str = Field(min_length=1, max_length=200)
    new: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    id: int
    name: str = Field(description="login for dashboard sessions")
    created_at: dt.datetime
    expires_at: dt.datetime | None


def _throttled(request: Request, username: str) -> list[str]:
    """The backoff keys of a password check (name, client address); 429 while either must wait."""
    keys = [f"user:{username.strip().casefold()}", f"addr:{request.client.host if request.client else '?'}"]
    wait = THROTTLE.retry_after(keys)
    if wait:
        raise HTTPException(429, f"too many failed logins: try again in {wait} s", headers={"Retry-After": str(wait)})
    return keys


@router.post("/login", response_model=LoginOut, responses={
    429: {"description": "too many failed logins for this name or address: wait Retry-After seconds"}})
def post_login(body: LoginIn, request: Request, session: SessionDep) -> LoginOut:
    """A bearer token for the dashboard, valid for ``SHANGYUN_LOGIN_HOURS``. Failed logins back off
    exponentially per username and per client address, and are audited."""
    keys = _throttled(request, body.username)
    token = login(session, body.username, body.password, Actor(f"api:login from {keys[1][5:]}"))
    if token is None:
        session.commit()  # the audited failure
        THROTTLE.failed(keys)
        raise HTTPException(401, "wrong username or password")
    session.commit()
    THROTTLE.succeeded(keys[0])
    return LoginOut(token=token, expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=get_settings().login_hours))


def _caller(session: Session, principal: Principal) -> User:
    user = session.get(User, principal.user_id)
    if user is None:
        raise HTTPException(401, "unknown token")
    return user


@router.post("/logout", status_code=204)
def post_logout(session: SessionDep, principal: Annotated[Principal, Depends(current_principal)],
                credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Response:
    """Revoke the token this request presents (it stops working at once on this server, within 30 s on others)."""
    assert credentials is not None  # current_principal has checked it
    key = token_hash(credentials.credentials.strip())
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == key)).first()
    if row is not None and row.id is not None:
        revoke_tokens(session, _caller(session, principal), Actor(f"api:{principal.username}"), token_id=row.id)
        session.commit()
    PRINCIPALS.drop(key)
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenOut])
def get_my_tokens(session: SessionDep, principal: Annotated[Principal, Depends(current_principal)]) -> list[TokenOut]:
    """The caller's own tokens (never their values)."""
    rows = session.exec(select(ApiToken).where(ApiToken.user_id == principal.user_id).order_by(col(ApiToken.id)))
    return [TokenOut(id=r.id or 0, name=r.name, created_at=r.created_at, expires_at=r.expires_at) for r in rows]


@router.delete("/tokens/{token_id}", status_code=204)
def delete_my_token(token_id: Id, session: SessionDep,
                    principal: Annotated[Principal, Depends(current_principal)]) -> Response:
    """Revoke one of the caller's own tokens (takes effect within 30 s on every server)."""
    if not revoke_tokens(session, _caller(session, principal), Actor(f"api:{principal.username}"), token_id=token_id):
        raise NotFoundError(what="token", key=token_id)
    session.commit()
    PRINCIPALS.clear()  # its hash is not known here: forget every cached caller of this process
    return Response(status_code=204)


@router.post("/password", status_code=204)
def post_password(body: PasswordIn, request: Request, session: SessionDep,
                  principal: Annotated[Principal, Depends(current_principal)]) -> Response:
    """Change the caller's password (the current one is checked, throttled as a login); their login
    tokens are revoked, so the dashboard asks to log in again."""
    keys = _throttled(request, principal.username)
    actor = Actor(f"api:{principal.username}")
    if not check_password(session, _caller(session, principal), body.current, actor):
        session.commit()
        THROTTLE.failed(keys)
        raise HTTPException(401, "wrong current password")
    set_password(session, _caller(session, principal), body.new, actor)
    session.commit()
    PRINCIPALS.clear()
    return Response(status_code=204)


@router.get("/me", response_model=MeOut)
def get_me(session: SessionDep, principal: Annotated[Principal, Depends(current_principal)]) -> MeOut:
    """Who the token belongs to: username, role, department and what the role may do."""
    department = session.get(Department, principal.department_id) if principal.department_id else None
    return MeOut(username=principal.username, role=principal.role.value,
                 department_code=department.code if department else None,
                 permissions=sorted(ROLE_PERMISSIONS[principal.role]))
