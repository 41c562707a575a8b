"""What closing rooms leave behind and what assessments are due: a room's servers and their disposal
(资产处置), the servers a plan frees for reuse, and MLPS (等保) assessments past due. The same functions
as ``shangyun rooms assets``, ``plan show`` and ``mlps overdue``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.http.auth import ESTATE_READ, PLANS_READ, require, scope_department
from api.http.deps import SessionDep
from api.http.routers.common import Id, not_found
from inventory import clock
from inventory.mlps import MlpsDue, mlps_due
from inventory.models import Plan, Room
from inventory.users import Principal
from migration_plans.assets import LABELS, Disposal, assets_of_rooms, disposals_as_configured, reusable_servers
from migration_plans.assets import counts as disposal_counts
from migration_plans.store import PlanNotFoundError, named_or_current

router = APIRouter(prefix="/api/v1", tags=["disposal 资产处置与测评"])
EstateReader = Annotated[Principal, Depends(require(ESTATE_READ))]
PlanReader = Annotated[Principal, Depends(require(PLANS_READ))]


class HostedOut(BaseModel):
    system: str
    strategy: str | None = Field(description="in the plan; null when the plan keeps it (retain, not placed)")
    classified: bool
    gone: bool = Field(description="already migrated or retired")


class DisposalOut(BaseModel):
    hostname: str
    model: str | None
    cpu_cores: int
    memory_gb: float
    purchase_date: dt.date | None
    age_years: float | None
    systems: list[HostedOut]
    disposal: str = Field(description="moves | in_use | secrecy | check | reuse | transfer | scrap")
    disposal_zh: str
    reason: str


class RoomAssetsOut(BaseModel):
    room: str
    plan: str | None = Field(description="NAME@VERSION whose strategies decided; null without a plan")
    as_of: dt.date
    servers: list[DisposalOut]
    counts: dict[str, int]


class FreedOut(BaseModel):
    room: str
    closes_after_wave: int
    cores: int
    memory_gb: float
    servers: list[DisposalOut]


def _out(row: Disposal) -> DisposalOut:
    a = row.asset
    return DisposalOut(hostname=a.hostname, model=a.model, cpu_cores=a.cpu_cores, memory_gb=a.memory_gb,
                       purchase_date=a.purchase_date,
                       age_years=round(row.age_years, 2) if row.age_years is not None else None,
                       systems=[HostedOut(system=s.code, strategy=s.strategy, classified=s.classified, gone=s.gone)
                                for s in a.systems],
                       disposal=row.disposal, disposal_zh=LABELS[row.disposal], reason=row.reason)


def _current_plan(session: SessionDep) -> Plan | None:
    try:
        return named_or_current(session, None)
    except PlanNotFoundError:
        return None


@router.get("/rooms/{room_id}/assets", response_model=RoomAssetsOut)
def room_disposal(room_id: Id, session: SessionDep, principal: EstateReader) -> RoomAssetsOut:
    """The room's servers and what becomes of each when it closes, by the current plan (资产处置): moves with
    its system, stays in use, secrecy office, reuse, transfer or scrap (a department user: its own rooms)."""
    room = session.get(Room, room_id)
    own = scope_department(principal)
    if room is None or room.id is None or (own is not None and room.department_id != own):
        raise not_found("room", room_id)
    plan = _current_plan(session)
    today = clock.today()
    rows = disposals_as_configured(assets_of_rooms(session, [room.id], plan).get(room.id, []), today)
    return RoomAssetsOut(room=room.code, plan=f"{plan.name}@{plan.version}" if plan else None, as_of=today,
                         servers=[_out(r) for r in rows], counts=dict(disposal_counts(rows)))


@router.get("/plans/{plan_id}/reusable-servers", response_model=list[FreedOut])
def plan_reusable_servers(plan_id: Id, session: SessionDep, _: PlanReader) -> list[FreedOut]:
    """Per room the plan closes, its servers under the depreciation age: they can serve the plan's intranet
    or relocation moves, or the cloud's spare pool."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise not_found("plan", plan_id)
    return [FreedOut(room=f.room, closes_after_wave=f.closes_after_wave, cores=f.cores, memory_gb=f.memory_gb,
                     servers=[_out(d) for d in f.servers]) for f in reusable_servers(session, plan, clock.today())]


@router.get("/mlps/overdue", response_model=list[MlpsDue])
def mlps_overdue(session: SessionDep, principal: EstateReader,
                 every: Annotated[bool, Query(description="every system of level 2 or above, not only the overdue")]
                 = False) -> list[MlpsDue]:
    """Systems past their MLPS (等保) assessment as of the business day: level 3 yearly, level 4 every six
    months, and systems of level 2 or above never assessed (a department user: its own)."""
    return [r for r in mlps_due(session, clock.today(), scope_department(principal)) if every or r.overdue]
