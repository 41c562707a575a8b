"""Logging in (a token for the dashboard) and who the caller is."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from api.http.auth import ROLE_PERMISSIONS, current_principal
from api.http.deps import SessionDep
from api.http.routers.common import StrictBody
from inventory.models import Department
from inventory.settings import get_settings
from inventory.users import Principal, login

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


@router.post("/login", response_model=LoginOut)
def post_login(body: LoginIn, session: SessionDep) -> LoginOut:
    """A bearer token for the dashboard, valid for ``SHANGYUN_LOGIN_HOURS``."""
    token = login(session, body.username, body.password)
    if token is None:
        raise HTTPException(401, "wrong username or password")
    session.commit()
    return LoginOut(token=token, expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=get_settings().login_hours))


@router.get("/me", response_model=MeOut)
def get_me(session: SessionDep, principal: Annotated[Principal, Depends(current_principal)]) -> MeOut:
    """Who the token belongs to: username, role, department and what the role may do."""
    department = session.get(Department, principal.department_id) if principal.department_id else None
    return MeOut(username=principal.username, role=principal.role.value,
                 department_code=department.code if department else None,
                 permissions=sorted(ROLE_PERMISSIONS[principal.role]))
