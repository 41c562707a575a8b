"""People who use the API and dashboard, and their tokens.

Role
    ``admin`` — everything, including users; ``operator`` — runs the estate: imports, plans, runs,
    proposals, capacity decisions; ``finance`` — reads costs, savings and reports; ``department`` —
    its own department's systems, servers and capacity requests only; ``viewer`` — reads dashboards.
Tokens are random strings shown once; only their keyed hash (HMAC-SHA256 with the server's secret)
is stored. Login tokens expire; API tokens may.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    FINANCE = "finance"
    DEPARTMENT = "department"
    VIEWER = "viewer"


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str | None = Field(default=None, max_length=200)
    password_hash: str = Field(max_length=256)
    role: Role = Field(sa_type=sa.String(16))
    department_id: int | None = Field(default=None, foreign_key="department.id", ondelete="CASCADE")
    active: bool = True
    created_at: dt.datetime


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    __table_args__ = (sa.UniqueConstraint("token_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=64)  # "login" for dashboard sessions
    token_hash: str = Field(max_length=64)
    created_at: dt.datetime
    expires_at: dt.datetime | None = None


class LoginFailure(SQLModel, table=True):
    """Failed logins per key (``user:<name>`` or ``addr:<address>``), shared by every server process so
    the backoff holds across replicas; a success deletes the name's row, and rows a day old are pruned."""

    __tablename__ = "login_failure"
    key: str = Field(max_length=200, primary_key=True)
    failures: int
    last_at: dt.datetime
