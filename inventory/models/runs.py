"""Migration runs: carrying out one wave of a plan, item by item, step by step.

RunStatus (a run of one wave)
    ``running`` — items are being worked; ``completed`` — every item ended ``completed``;
    ``failed`` — at least one item ended failed, rolled back or refused (the others went on).
ItemState (one plan item inside a run; transitions are checked in ``migration_plans.execution.executor``)
    ``pending`` — not claimed yet; ``running`` — a worker holds it (``claimed_by``, ``heartbeat_at``);
    ``waiting`` — stopped at an operator gate until ``shangyun migrate approve``;
    ``completed`` — every step done, the inventory updated; ``rolled_back`` — a step failed and the
    reverts of the done steps ran; ``failed`` — a step failed and a revert failed too (needs a person);
    ``refused`` — never started: the system is classified (涉密) or otherwise not allowed to move.
Every step writes a RunEvent before it starts and after it ends (ARCHITECTURE invariant 3).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from inventory.models.enums import EventPhase, EventStatus, Strategy


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class ItemState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"
    REFUSED = "refused"


class MigrationRunBase(SQLModel):
    status: RunStatus = Field(default=RunStatus.RUNNING, sa_type=sa.String(16))
    dry_run: bool = False
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    started_by: str = Field(max_length=128)


class MigrationRun(MigrationRunBase, table=True):
    __tablename__ = "migration_run"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    wave_index: int
    site: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class MigrationRunPublic(MigrationRunBase):
    id: int
    plan: str = Field(description="name@version")
    wave: int
    items: dict[str, int] = Field(description="item state → count")


class RunItem(SQLModel, table=True):
    __tablename__ = "run_item"
    __table_args__ = (sa.UniqueConstraint("run_id", "plan_item_id"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="migration_run.id", index=True, ondelete="CASCADE")
    plan_item_id: int = Field(foreign_key="plan_item.id", index=True)
    system_id: int = Field(foreign_key="business_system.id", index=True)
    strategy: Strategy = Field(sa_type=sa.String(16))
    state: ItemState = Field(default=ItemState.PENDING, sa_type=sa.String(16), index=True)
    next_step: int = 0  # index into the runbook of the first step not completed
    claimed_by: str | None = Field(default=None, max_length=128)
    heartbeat_at: dt.datetime | None = None
    error: str | None = Field(default=None, max_length=4000)
    resources: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # what the steps made, for reverts


class RunEventBase(SQLModel):
    item_id: int = Field(foreign_key="run_item.id", index=True, ondelete="CASCADE")
    at: dt.datetime
    step: str = Field(max_length=64)
    phase: EventPhase = Field(sa_type=sa.String(16))
    status: EventStatus = Field(sa_type=sa.String(16))
    payload: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


class RunEvent(RunEventBase, table=True):
    __tablename__ = "run_event"
    __table_args__ = (sa.UniqueConstraint("item_id", "counter"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="migration_run.id", index=True, ondelete="CASCADE")
    counter: int


class RunEventPublic(RunEventBase):
    id: int
    system: str
