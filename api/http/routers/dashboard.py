"""What the dashboard's pages read: the overview, each platform's history and hosts, the rooms to close
with their scores and what blocks them, and the current plan's waves with their items."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from api.http.auth import COSTS_READ, DASHBOARD, PLANS_READ, ROLE_PERMISSIONS, require, scope_department
from api.http.cache import TtlCache
from api.http.deps import SessionDep
from api.http.routers.common import from_object
from inventory import clock
from inventory.capacity import allocatable, allocation_ratios, host_allocation_ratio, use_ratios
from inventory.errors import NotFoundError
from inventory.models import (
    BusinessSystem,
    CloudHost,
    CloudInstance,
    CloudPlatform,
    Plan,
    PlanItem,
    PlanWave,
    Room,
)
from inventory.models.cloud import CloudHostPublic, PlatformDailyPublic
from inventory.models.enums import SystemStatus
from inventory.models.plans import PlanStatus, PlanWaveBase
from inventory.platform_history import history
from inventory.settings import get_cost_defaults, get_room_weights
from inventory.users import Principal

router = APIRouter(prefix="/api/v1", tags=["dashboard 看板"])
Viewer = Annotated[Principal, Depends(require(DASHBOARD))]


class WaveProgress(PlanWaveBase):
    items: int
    done: int
    failed: int


class OverviewOut(BaseModel):
    rooms_by_status: dict[str, int]
    systems_by_status: dict[str, int]
    systems_by_strategy: dict[str, int]  # in the current plan
    classified_systems: int
    on_cloud_systems: int
    cloud_eligible_systems: int
    on_cloud_rate: float  # 上云率: non-classified systems on the cloud / non-classified systems not retired
    plan: str | None
    waves: list[WaveProgress]


class BlockerOut(BaseModel):
    """A system that keeps a room open (``scheduler.room_flags.Blocker``)."""

    model_config = ConfigDict(from_attributes=True)
    system: str
    reason_zh: str
    reason_en: str
    unblock_zh: str = Field(description="what would let the room close")
    unblock_en: str


class RoomFlagOut(BaseModel):
    """A room's flag (``scheduler.room_flags.RoomFlag``)."""

    room: str = Field(validation_alias="code")
    name: str
    score: float
    closable: bool = Field(description="every system left in it can leave under the plan")
    factors: dict[str, float | None] = Field(description="0..1 each; None: unknown (no data), left out of the score")
    reasons_zh: list[str]
    reasons_en: list[str]
    annual_cost_cny: float | None  # only for roles that read costs
    blocked_by: list[str]  # systems the plan keeps in the room
    blockers: list[BlockerOut]


class ItemOut(BaseModel):
    system: str
    name: str
    strategy: str
    status: str


class WaveOut(PlanWaveBase):
    items: list[ItemOut]
    rooms_closing: list[str]


class PlanOut(BaseModel):
    plan: str
    version: int
    start: dt.date
    waves: list[WaveOut]


def _current_plan(session: Session) -> Plan | None:
    """The newest current plan, its large JSON columns loaded only when read."""
    return session.exec(select(Plan).options(defer(Plan.document), defer(Plan.params))  # type: ignore[arg-type]
                        .where(Plan.status == PlanStatus.CURRENT).order_by(col(Plan.created_at).desc())).first()


# Dashboard figures are read far more often than they change: each is computed at most this often.
FIGURES: TtlCache[Any] = TtlCache(15.0)


@router.get("/overview", response_model=OverviewOut)
def get_overview(session: SessionDep, _: Viewer) -> OverviewOut:
    """Rooms open/closing/closed, systems by status and strategy, wave progress and the on-cloud rate
    (figures up to 15 s old)."""
    overview: OverviewOut = FIGURES.get("overview", lambda: _overview(session))
    return overview


def _overview(session: Session) -> OverviewOut:
    rooms = dict(session.execute(sa.select(col(Room.status), sa.func.count()).group_by(col(Room.status))).all())
    systems = dict(session.execute(sa.select(col(BusinessSystem.status), sa.func.count())
                                   .group_by(col(BusinessSystem.status))).all())
    classified = session.execute(sa.select(sa.func.count()).where(col(BusinessSystem.classified))).scalar_one()
    eligible = sa.select(sa.func.count()).select_from(BusinessSystem).where(
        col(BusinessSystem.classified).is_(False), col(BusinessSystem.status) != SystemStatus.RETIRED)
    open_systems = int(session.execute(eligible).scalar_one())
    on_cloud = int(session.execute(eligible.where(sa.or_(
        col(BusinessSystem.status) == SystemStatus.MIGRATED,
        col(BusinessSystem.id).in_(sa.select(col(CloudInstance.system_id)).where(
            col(CloudInstance.system_id).is_not(None)))))).scalar_one())
    plan = _current_plan(session)
    strategies: Counter[str] = Counter()
    waves: list[WaveProgress] = []
    if plan is not None:
        strategies.update(dict(session.execute(sa.select(col(PlanItem.strategy), sa.func.count()).where(
            col(PlanItem.plan_id) == plan.id).group_by(col(PlanItem.strategy))).all()))
        counts: dict[int, Counter[str]] = {}
        for wave_id, status, count in session.execute(
                sa.select(col(PlanItem.wave_id), col(PlanItem.status), sa.func.count())
                .where(col(PlanItem.plan_id) == plan.id, col(PlanItem.wave_id).is_not(None))
                .group_by(col(PlanItem.wave_id), col(PlanItem.status))):
            counts.setdefault(wave_id, Counter())[status] += count
        for wave in session.exec(select(PlanWave).where(PlanWave.plan_id == plan.id).order_by(col(PlanWave.index))):
            c = counts.get(wave.id or 0, Counter())
            waves.append(WaveProgress.model_validate(wave, update={"items": sum(c.values()), "done": c["done"],
                                                                   "failed": c["failed"]}))
    return OverviewOut(rooms_by_status=rooms, systems_by_status=systems, systems_by_strategy=dict(strategies),
                       classified_systems=int(classified), on_cloud_systems=on_cloud,
                       cloud_eligible_systems=open_systems,
                       on_cloud_rate=round(on_cloud / open_systems, 4) if open_systems else 0.0,
                       plan=f"{plan.name}@{plan.version}" if plan else None, waves=waves)


def _platform(session: Session, name: str) -> CloudPlatform:
    platform = session.exec(select(CloudPlatform).where(CloudPlatform.name == name)).first()
    if platform is None or platform.id is None:
        raise NotFoundError(what="cloud platform", key=name)
    return platform


@router.get("/platforms/{name}/history", response_model=list[PlatformDailyPublic])
def get_platform_history(name: str, session: SessionDep, _: Viewer) -> list[PlatformDailyPublic]:
    """The platform's daily capacity, allocation and measured use."""
    platform = _platform(session, name)
    assert platform.id is not None
    return [PlatformDailyPublic.model_validate(d, update={
        "vcpus_capacity": allocatable(d)["vcpus"], "allocation_ratio": allocation_ratios(d),
        "use_ratio": use_ratios(d)}) for d in history(session, platform.id)]


@router.get("/platforms/{name}/hosts", response_model=list[CloudHostPublic])
def get_platform_hosts(name: str, session: SessionDep, _: Viewer) -> list[CloudHostPublic]:
    """Each host's allocation and measured CPU load."""
    platform = _platform(session, name)
    hosts = session.exec(select(CloudHost).where(CloudHost.platform_id == platform.id)
                         .order_by(col(CloudHost.name))).all()
    totals: dict[int, list[float]] = {}
    for instance in session.exec(select(CloudInstance).where(CloudInstance.platform_id == platform.id,
                                                             col(CloudInstance.host_id).is_not(None))):
        t = totals.setdefault(instance.host_id or 0, [0.0, 0.0, 0.0, 0.0, 0.0])
        t[0] += instance.vcpus
        t[1] += instance.memory_gb
        if instance.cpu_util is not None:
            t[2] += instance.vcpus * instance.cpu_util
            t[4] += 1
        t[3] += 1
    out = []
    for h in hosts:
        t = totals.get(h.id or 0, [0.0, 0.0, 0.0, 0.0, 0.0])
        out.append(CloudHostPublic.model_validate(h, update={
            "allocated_vcpus": t[0], "allocated_memory_gb": round(t[1], 3),
            "cpu_load": round(t[2] / h.vcpus, 4) if t[4] and h.vcpus else None, "instances": int(t[3]),
            "allocation_ratio": host_allocation_ratio(t[0], h.vcpus, h.cpu_ratio)}))
    return out


@router.get("/room-flags", response_model=list[RoomFlagOut])
def get_room_flags(session: SessionDep, principal: Viewer) -> list[RoomFlagOut]:
    """Active rooms ranked by how much closing them next is worth, with reasons and what blocks them
    (figures up to 15 s old). A department user sees its own department's rooms only."""
    costs = COSTS_READ in ROLE_PERMISSIONS[principal.role]
    flags: list[RoomFlagOut] = FIGURES.get(("room-flags", costs), lambda: _room_flags(session, costs))
    own = scope_department(principal)
    if own is None:
        return flags
    mine = set(session.exec(select(Room.code).where(Room.department_id == own)))
    return [f for f in flags if f.room in mine]


def _room_flags(session: Session, costs: bool) -> list[RoomFlagOut]:
    from scheduler.room_data import load_room_inputs
    from scheduler.room_flags import score_rooms

    plan = _current_plan(session)
    flags = score_rooms(load_room_inputs(session, get_cost_defaults(), plan.id if plan else None, clock.today()),
                        get_room_weights())
    return [from_object(RoomFlagOut, f, annual_cost_cny=round(f.annual_cost_cny, 2) if costs else None,
                        blocked_by=[b.system for b in f.blockers],
                        blockers=[BlockerOut.model_validate(b) for b in f.blockers]) for f in flags]


@router.get("/plans/current", response_model=PlanOut)
def get_current_plan(session: SessionDep, _: Annotated[Principal, Depends(require(PLANS_READ))]) -> PlanOut:
    """The current plan's waves with their items' strategies and statuses, and the rooms each closes."""
    plan = _current_plan(session)
    if plan is None or plan.id is None:
        raise NotFoundError("no current plan: `shangyun plan create` first")
    rows = session.exec(select(PlanItem, BusinessSystem.code, BusinessSystem.name).join(
        BusinessSystem, col(BusinessSystem.id) == PlanItem.system_id).where(PlanItem.plan_id == plan.id)
        .order_by(col(BusinessSystem.code))).all()
    by_wave: dict[int, list[ItemOut]] = {}
    for item, code, name in rows:
        if item.wave_id is not None:
            by_wave.setdefault(item.wave_id, []).append(ItemOut(system=code, name=name, strategy=item.strategy,
                                                                status=item.status))
    closing: dict[int, list[str]] = {}
    for room in plan.document.get("rooms", []):
        if room.get("closes_after_wave") is not None:
            closing.setdefault(room["closes_after_wave"], []).append(room["room"])
    waves = [WaveOut.model_validate(w, update={"items": by_wave.get(w.id or 0, []),
                                               "rooms_closing": sorted(closing.get(w.index, []))})
             for w in session.exec(select(PlanWave).where(PlanWave.plan_id == plan.id).order_by(col(PlanWave.index)))]
    return PlanOut(plan=plan.name, version=plan.version, start=dt.date.fromisoformat(plan.document["start"]),
                   waves=waves)
