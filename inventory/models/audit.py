"""The audit log (档案库): one row per change to the inventory — who, when, what, before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from inventory.models.enums import AuditAction


class AuditLogBase(SQLModel):
    at: dt.datetime = Field(index=True)
    actor: str = Field(max_length=128)
    request_id: str | None = Field(default=None, max_length=64)
    entity: str = Field(max_length=64, index=True)
    entity_id: str = Field(max_length=128, index=True)
    action: AuditAction = Field(sa_type=sa.String(16))
    before: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


class AuditLog(AuditLogBase, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)


class AuditLogPublic(AuditLogBase):
    id: int
