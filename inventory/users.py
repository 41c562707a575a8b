"""Users, passwords (Argon2) and tokens (random, stored as an HMAC-SHA256 keyed by the server's secret).

Usernames are compared as people read them: NFKC-normalised, trimmed and case-blind, so ``admin`` and
``Admin `` are one user. A password has at least 12 characters, 5 of them different, is not the
username and is not in the bundled list of common passwords. Argon2 takes 64 MiB per hash: at most
``SHANGYUN_PASSWORD_HASH_CONCURRENCY`` hashes run at once, and a login that waits too long for a
slot is told to retry (``HashingBusyError``) instead of queueing memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from inventory.audit import Actor, record
from inventory.errors import InvalidInputError, ShangyunError
from inventory.models import ApiToken, AuditAction, Department, Role, User
from inventory.settings import get_settings

_hasher = PasswordHasher()
MIN_PASSWORD = 12
MIN_DISTINCT = 5
COMMON_PASSWORDS = frozenset(
    line.strip() for line in (Path(__file__).parent / "data" / "common_passwords.txt").read_text("utf-8").splitlines()
    if line.strip() and not line.startswith("#"))
DEFAULT_TOKEN_DAYS = 90.0


class HashingBusyError(ShangyunError):
    """Every password-hashing slot is taken; the caller should retry shortly."""

    status = 503


@lru_cache(maxsize=1)
def _slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(get_settings().password_hash_concurrency)


@contextmanager
def _hashing(wait: float = 10.0) -> Iterator[None]:
    """One of the bounded password-hashing slots, for a hash or a check."""
    if not _slots().acquire(timeout=wait):
        raise HashingBusyError("too many logins at once: try again in a second")
    try:
        yield
    finally:
        _slots().release()


def normalise_username(username: str) -> str:
    """The username as stored and compared: NFKC, trimmed (case is kept, comparisons ignore it)."""
    name = unicodedata.normalize("NFKC", username).strip()
    if not name or len(name) > 64 or any(unicodedata.category(c).startswith("C") or c.isspace() for c in name):
        raise UserError("username: 1–64 characters, no spaces or control characters")
    return name


def password_problem(username: str, password: str) -> str | None:
    """Why ``password`` is refused for ``username``, or None."""
    if len(password) < MIN_PASSWORD:
        return f"at least {MIN_PASSWORD} characters"
    if len(set(password)) < MIN_DISTINCT:
        return f"at least {MIN_DISTINCT} different characters"
    folded = password.casefold()
    if username.casefold() in folded:
        return "must not contain the username"
    if folded in COMMON_PASSWORDS:
        return "one of the most common passwords"
    return None


def find_user(session: Session, username: str) -> User | None:
    """The user called ``username`` as people read it (normalised, case-blind)."""
    try:
        name = normalise_username(username)
    except UserError:
        return None
    return session.exec(select(User).where(sa.func.lower(User.username) == name.lower())).first()


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
    username = normalise_username(username)
    problem = password_problem(username, password)
    if problem:
        raise UserError(f"password: {problem}")
    if find_user(session, username) is not None:
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
    with _hashing():
        hashed = _hasher.hash(password)
    user = User(username=username, display_name=display_name, password_hash=hashed, role=Role(role),
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


def login(session: Session, username: str, password: str, actor: Actor) -> str | None:
    """A login token for the right username and password, else None (same answer for either mistake);
    a failure is audited (the username tried, never the password)."""
    user = find_user(session, username)
    if user is None or not check_password(session, user, password, actor):
        if user is None:
            with _hashing():
                _hasher.hash(password)  # spend the same time as a real check
            record(session, actor, "user", username[:64], AuditAction.LOGIN_FAILED)
        return None
    return issue_token(session, user, "login", dt.timedelta(hours=get_settings().login_hours))


def check_password(session: Session, user: User, password: str, actor: Actor) -> bool:
    """Whether ``password`` is ``user``'s (and the user is active); a failure is audited."""
    with _hashing():
        try:
            ok = user.active and _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    if not ok:
        record(session, actor, "user", user.username, AuditAction.LOGIN_FAILED)
    return ok


def set_password(session: Session, user: User, password: str, actor: Actor) -> None:
    """Change ``user``'s password (policy checked) and revoke their login tokens; audited."""
    problem = password_problem(user.username, password)
    if problem:
        raise UserError(f"password: {problem}")
    with _hashing():
        user.password_hash = _hasher.hash(password)
    session.add(user)
    revoke_tokens(session, user, actor, logins_only=True)
    record(session, actor, "user", user.username, AuditAction.UPDATE, None, {"password": "changed"})


def set_active(session: Session, user: User, active: bool, actor: Actor) -> None:
    """Disable (every token stops working) or enable a user; audited."""
    if user.active != active:
        record(session, actor, "user", user.username, AuditAction.UPDATE, {"active": user.active}, {"active": active})
        user.active = active
        session.add(user)
    session.flush()


def revoke_tokens(session: Session, user: User, actor: Actor, *, logins_only: bool = False,
                  token_id: int | None = None) -> int:
    """Delete ``user``'s tokens (only logins, or one by id); how many; audited by name, never by value."""
    query = select(ApiToken).where(ApiToken.user_id == user.id)
    if logins_only:
        query = query.where(ApiToken.name == "login")
    if token_id is not None:
        query = query.where(ApiToken.id == token_id)
    rows = session.exec(query).all()
    for row in rows:
        record(session, actor, "api_token", str(row.id), AuditAction.DELETE, {"user": user.username, "name": row.name})
        session.delete(row)
    session.flush()
    return len(rows)


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
