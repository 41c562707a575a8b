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


class PlanBase(SQLModel):
    name: str = Field(max_length=128, index=True)
    version: int = 1
    status: PlanStatus = Field(default=PlanStatus.CURRENT, sa_type=sa.String(16))
    created_at: dt.datetime
    created_by: str = Field(max_length=128)
    start: dt.date
    objective_cny: float
    upper_bound_cny: float


class Plan(PlanBase, table=True):
    __table_args__ = (sa.UniqueConstraint("name", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    wave_days: int
    params: dict[str, Any] = Field(sa_type=sa.JSON)
    document: dict[str, Any] = Field(sa_type=sa.JSON)


class PlanPublic(PlanBase):
    id: int
    waves: int


class PlanWaveBase(SQLModel):
    index: int
    start: dt.date
    end: dt.date
    status: WaveStatus = Field(default=WaveStatus.PLANNED, sa_type=sa.String(16))


class PlanWave(PlanWaveBase, table=True):
    __tablename__ = "plan_wave"
    __table_args__ = (sa.UniqueConstraint("plan_id", "index"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True, ondelete="CASCADE")


class PlanItemBase(SQLModel):
    strategy: Strategy = Field(sa_type=sa.String(16))
    target: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    zone: str | None = Field(default=None, max_length=16, description="network zone it goes to: internet "
                             "(互联网区), extranet (政务外网) or intranet (内网)")
    destination: str | None = Field(default=None, max_length=128,
                                    description="the platform an intranet or relocation move goes to")
    reason_en: str = Field(max_length=2000)
    reason_zh: str = Field(max_length=2000)
    status: ItemStatus = Field(default=ItemStatus.PLANNED, sa_type=sa.String(16))


class PlanItem(PlanItemBase, table=True):
    __tablename__ = "plan_item"
    __table_args__ = (sa.UniqueConstraint("plan_id", "system_id"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True, ondelete="CASCADE")
    wave_id: int | None = Field(default=None, foreign_key="plan_wave.id", index=True, ondelete="SET NULL")
    system_id: int = Field(foreign_key="business_system.id", index=True)
    move_group: int | None = None
    flags: list[str] | None = Field(default=None, sa_type=sa.JSON)


class PlanItemPublic(PlanItemBase):
    id: int
    system: str
    wave: int | None
