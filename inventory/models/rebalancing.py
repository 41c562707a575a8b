"""Rebalance proposals: a rebalancer result for one platform, kept until an operator decides on it.

ProposalStatus
    ``proposed`` — stored, waiting for an operator (the default approval mode);
    ``rejected`` — an operator declined it; nothing ran;
    ``running`` — approved (or ``--auto``) and being applied move by move;
    ``completed`` — every move done; ``failed`` — a move failed and the rest were not tried;
    ``stale`` — when applied, the cloud no longer matched the snapshot it was planned on.
Every move writes a ProposalEvent before it starts and after it ends: its kind (``proposed``,
``approved``, ``rejected``, ``move``, ``finished``) and status (``started``, ``ok``, ``failed``, ``stale``,
or the proposal's final status for ``finished``).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from inventory.models.enums import EventStatus, JobStatus, RebalanceGoal


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    REJECTED = "rejected"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STALE = "stale"


class ProposalEventKind(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    MOVE = "move"
    FINISHED = "finished"


class RebalanceProposalBase(SQLModel):
    goal: RebalanceGoal = Field(sa_type=sa.String(16))
    max_load: float
    max_moves: int | None = None
    status: ProposalStatus = Field(default=ProposalStatus.PROPOSED, sa_type=sa.String(16), index=True)
    moves_done: int = 0
    created_at: dt.datetime
    created_by: str = Field(max_length=128)
    decided_at: dt.datetime | None = None
    decided_by: str | None = Field(default=None, max_length=128)
    error: str | None = Field(default=None, max_length=4000)


class RebalanceProposal(RebalanceProposalBase, table=True):
    __tablename__ = "rebalance_proposal"
    id: int | None = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="cloud_platform.id", index=True, ondelete="CASCADE")
    result: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # FORMATS.md §3


class RebalanceProposalPublic(RebalanceProposalBase):
    id: int
    platform: str
    moves: int = Field(description="moves in the proposal")
    before: dict[str, float]
    after: dict[str, float]


class ProposalEventBase(SQLModel):
    at: dt.datetime
    move_index: int | None = None  # None: an event of the whole proposal (approve, reject, finish)
    kind: ProposalEventKind = Field(sa_type=sa.String(32))
    status: EventStatus | ProposalStatus = Field(sa_type=sa.String(16))  # a ``finished`` event: the proposal's
    message: str = Field(default="", max_length=4000)


class ProposalEvent(ProposalEventBase, table=True):
    __tablename__ = "proposal_event"
    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="rebalance_proposal.id", index=True, ondelete="CASCADE")


class ProposalEventPublic(ProposalEventBase):
    pass


class RebalanceProposalDetail(RebalanceProposalPublic):
    result: dict[str, Any] = Field(description="the rebalancer's result (FORMATS.md §3)")
    events: list[ProposalEventPublic]


class JobRun(SQLModel, table=True):
    """One run of a scheduler job (``scheduler.jobs``): who ran it, how it ended, what it did."""

    __tablename__ = "job_run"
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=32, index=True)
    runner: str = Field(max_length=128)  # host:pid of the active scheduler instance
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    status: JobStatus = Field(default=JobStatus.RUNNING, sa_type=sa.String(16))
    summary: str = Field(default="", max_length=4000)
