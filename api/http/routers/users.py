"""Account management for administrators (``users:admin``): list users, disable or enable one, see and
revoke anyone's tokens, and reset a password. The same operations as ``shangyun user …``, audited the same
way; an administrator cannot disable their own account here, so the API never locks out its last admin."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Response
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from api.http.auth import PRINCIPALS, USERS_ADMIN, require
from api.http.deps import SessionDep
from api.http.routers.auth_routes import TokenOut
from api.http.routers.common import Id, StrictBody
from inventory.audit import Actor
from inventory.errors import NotFoundError
from inventory.models import ApiToken, Department, User
from inventory.users import Principal, find_user, revoke_tokens, set_active, set_password

router = APIRouter(prefix="/api/v1/users", tags=["users 用户"])
Admin = Annotated[Principal, Depends(require(USERS_ADMIN))]
Username = Annotated[str, Path(min_length=1, max_length=64, description="the user's name (case-blind)")]


class UserOut(BaseModel):
    username: str
    role: str
    department_code: str | None
    active: bool
    created_at: dt.datetime


class PasswordResetIn(StrictBody):
    new: str = Field(min_length=1, max_length=200, description="the new password (the policy applies)")


def _user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise NotFoundError(what="user", key=username)
    return user


def _out(user: User, codes: dict[int | None, str]) -> UserOut:
    return UserOut(username=user.username, role=str(user.role), department_code=codes.get(user.department_id),
                   active=user.active, created_at=user.created_at)


@router.get("", response_model=list[UserOut])
def list_users(session: SessionDep, admin: Admin) -> list[UserOut]:
    """Every user with role, department and whether the account is active."""
    codes: dict[int | None, str] = {d.id: d.code for d in session.exec(select(Department))}
    return [_out(u, codes) for u in session.exec(select(User).order_by(col(User.username)))]


def _set_active(session: Session, admin: Principal, username: str, active: bool) -> UserOut:
    user = _user(session, username)
    if not active and user.id == admin.user_id:
        raise HTTPException(409, "you cannot disable your own account; another administrator or "
                                 "`shangyun user disable` can")
    set_active(session, user, active, Actor(f"api:{admin.username}"))
    session.commit()
    PRINCIPALS.clear()  # the user's cached tokens stop (or start) working now on this server
    department = session.get(Department, user.department_id) if user.department_id else None
    return _out(user, {user.department_id: department.code} if department else {})


@router.post("/{username}/disable", response_model=UserOut)
def disable_user(username: Username, session: SessionDep, admin: Admin) -> UserOut:
    """Disable a user: logins fail and every token stops working (at once here, within 30 s on other servers)."""
    return _set_active(session, admin, username, False)


@router.post("/{username}/enable", response_model=UserOut)
def enable_user(username: Username, session: SessionDep, admin: Admin) -> UserOut:
    """Enable a disabled user again (their unexpired tokens work again)."""
    return _set_active(session, admin, username, True)


@router.get("/{username}/tokens", response_model=list[TokenOut])
def list_user_tokens(username: Username, session: SessionDep, admin: Admin) -> list[TokenOut]:
    """A user's tokens: id, name, created and expiry (never the tokens themselves)."""
    user = _user(session, username)
    rows = session.exec(select(ApiToken).where(ApiToken.user_id == user.id).order_by(col(ApiToken.id)))
    return [TokenOut(id=r.id or 0, name=r.name, created_at=r.created_at, expires_at=r.expires_at) for r in rows]


@router.delete("/{username}/tokens", status_code=204)
def revoke_user_tokens(username: Username, session: SessionDep, admin: Admin) -> Response:
    """Revoke every token of a user (at once here, within 30 s on other servers)."""
    revoke_tokens(session, _user(session, username), Actor(f"api:{admin.username}"))
    session.commit()
    PRINCIPALS.clear()
    return Response(status_code=204)


@router.delete("/{username}/tokens/{token_id}", status_code=204)
def revoke_user_token(username: Username, token_id: Id, session: SessionDep, admin: Admin) -> Response:
    """Revoke one token of a user."""
    if not revoke_tokens(session, _user(session, username), Actor(f"api:{admin.username}"), token_id=token_id):
        raise NotFoundError(what="token", key=token_id)
    session.commit()
    PRINCIPALS.clear()
    return Response(status_code=204)


@router.post("/{username}/password", status_code=204)
def reset_password(username: Username, body: PasswordResetIn, session: SessionDep, admin: Admin) -> Response:
    """Set a user's password (for a user who forgot theirs); their login sessions end. The policy applies
    (422 naming the rule)."""
    set_password(session, _user(session, username), body.new, Actor(f"api:{admin.username}"))
    session.commit()
    PRINCIPALS.clear()
    return Response(status_code=204)
