"""Migration plans: a named, versioned plan with its waves and one item per system.

PlanStatus
    ``current`` — the newest version of its name; ``superseded`` — a later version replaced it.
WaveStatus
    ``planned`` — not begun; ``started`` — its first step ran (re-planning keeps it); ``done``.
ItemStatus
    ``planned`` → ``in_progress`` → ``done`` | ``failed``; ``not_migrated`` for items outside every wave.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from inventory.models.enums import Strategy


class PlanStatus(StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"


class WaveStatus(StrEnum):
    PLANNED = "planned"
    STARTED = "started"
    DONE = "done"


class ItemStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"
    NOT_MIGRATED = "not_migrated"


class Plan(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("name", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128, index=True)
    version: int = 1
    status: PlanStatus = Field(default=PlanStatus.CURRENT, sa_type=sa.String(16))
    created_at: dt.datetime
    created_by: str = Field(max_length=128)
    start: dt.date
    wave_days: int
    params: dict[str, Any] = Field(sa_type=sa.JSON)
    objective_cny: float
    upper_bound_cny: float
    document: dict[str, Any] = Field(sa_type=sa.JSON)


class PlanWave(SQLModel, table=True):
    __tablename__ = "plan_wave"
    __table_args__ = (sa.UniqueConstraint("plan_id", "index"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True, ondelete="CASCADE")
    index: int
    start: dt.date
    end: dt.date
    status: WaveStatus = Field(default=WaveStatus.PLANNED, sa_type=sa.String(16))


class PlanItem(SQLModel, table=True):
    __tablename__ = "plan_item"
    __table_args__ = (sa.UniqueConstraint("plan_id", "system_id"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True, ondelete="CASCADE")
    wave_id: int | None = Field(default=None, foreign_key="plan_wave.id", index=True, ondelete="SET NULL")
    system_id: int = Field(foreign_key="business_system.id", index=True)
    strategy: Strategy = Field(sa_type=sa.String(16))
    target: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    move_group: int | None = None
    reason_en: str = Field(max_length=2000)
    reason_zh: str = Field(max_length=2000)
    flags: list[str] | None = Field(default=None, sa_type=sa.JSON)
    status: ItemStatus = Field(default=ItemStatus.PLANNED, sa_type=sa.String(16))
