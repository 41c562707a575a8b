"""Users, passwords (Argon2) and tokens (random, stored as an HMAC-SHA256 keyed by the server's secret)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from inventory.audit import Actor, record
from inventory.errors import InvalidInputError
from inventory.models import ApiToken, AuditAction, Department, Role, User
from inventory.settings import get_settings

_hasher = PasswordHasher()
MIN_PASSWORD = 10


class UserError(InvalidInputError):
    """A user cannot be made as asked; the message names the field."""


@dataclass(frozen=True)
class Principal:
    """Who is calling the API."""

    user_id: int
    username: str
    role: Role
    department_id: int | None
    expires_at: dt.datetime | None = None  # of the token it came from


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def token_hash(token: str) -> str:
    key = get_settings().secret_key.get_secret_value().encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def add_user(session: Session, username: str, password: str, role: str, department: str | None,
             actor: Actor, display_name: str | None = None) -> User:
    """Create a user; a department user names its department's code."""
    if role not in {r.value for r in Role}:
        raise UserError(f"role: {role!r} is not one of {', '.join(r.value for r in Role)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise UserError(f"username: {username!r} exists already")
    department_id = None
    if role == Role.DEPARTMENT:
        if not department:
            raise UserError("department: a department user needs --department CODE")
        found = session.exec(select(Department).where(Department.code == department)).first()
        if found is None:
            raise UserError(f"department: no department {department!r}")
        department_id = found.id
    elif department:
        raise UserError("department: only department users belong to one department")
    user = User(username=username, display_name=display_name, password_hash=_hasher.hash(password), role=Role(role),
                department_id=department_id, created_at=_now())
    session.add(user)
    session.flush()
    record(session, actor, "user", username, AuditAction.CREATE, None,
           {"role": role, "department": department})  # never the password or its hash
    return user


def issue_token(session: Session, user: User, name: str, lifetime: dt.timedelta | None) -> str:
    """A new token for ``user``; the plain token is returned once and never stored."""
    assert user.id is not None
    token = "sy_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=token_hash(token), created_at=_now(),
                         expires_at=_now() + lifetime if lifetime else None))
    session.flush()
    return token


def login(session: Session, username: str, password: str) -> str | None:
    """A login token for the right username and password, else None (same answer for either mistake)."""
    user = session.exec(select(User).where(User.username == username, User.active == True)).first()  # noqa: E712
    if user is None:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return issue_token(session, user, "login", dt.timedelta(hours=get_settings().login_hours))


def authenticate(session: Session, token: str, hashed: str | None = None) -> Principal | str | None:
    """The principal of a bearer token (``hashed``: its ``token_hash`` when the caller has it already);
    None when unknown; ``"expired"`` when it has expired."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == (hashed or token_hash(token)))).first()
    if row is None:
        return None
    if row.expires_at is not None and row.expires_at <= _now():
        return "expired"
    user = session.get(User, row.user_id)
    if user is None or not user.active or user.id is None:
        return None
    return Principal(user.id, user.username, Role(user.role), user.department_id, row.expires_at)
