"""Loading the room-flag inputs from the inventory (the database edge of ``scheduler.room_flags``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import Session, col, select

from inventory.models import BusinessSystem, PlanItem, Room, RoomStatus, Server, ServerStatus, SystemServer
from inventory.models.enums import Strategy
from inventory.settings import CostDefaults
from inventory.views.queries import average_cpu_by_server, room_rows
from scheduler.room_flags import Blocker, RoomInput

SERVICE_YEARS = 6  # government depreciation of computers (DOMAIN.md)


def load_room_inputs(session: Session, defaults: CostDefaults, plan_id: int | None, today: dt.date) -> list[RoomInput]:
    """One ``RoomInput`` per active room. What keeps a room open comes from the plan (its items in no
    wave: retained, or not placed), or without a plan from the classified systems."""
    rows = {r.code: r for r in room_rows(session, defaults)}
    cpu = average_cpu_by_server(session)
    cutoff = today.replace(year=today.year - SERVICE_YEARS)
    servers: dict[int, list[Server]] = defaultdict(list)
    for server in session.exec(select(Server).where(Server.status == ServerStatus.ACTIVE)):
        servers[server.room_id].append(server)
    systems_of_room: dict[int, set[int]] = defaultdict(set)
    for room_id, system_id in session.exec(
            select(Server.room_id, SystemServer.system_id).join(SystemServer, col(SystemServer.server_id) == Server.id)
            .where(Server.status == ServerStatus.ACTIVE)):
        systems_of_room[room_id].add(system_id)
    systems = {s.id: s for s in session.exec(select(BusinessSystem).where(
        col(BusinessSystem.status).not_in(["migrated", "retired"])))}
    blocking: dict[int, Blocker] = {}
    if plan_id is not None:
        for item in session.exec(select(PlanItem).where(PlanItem.plan_id == plan_id,
                                                        col(PlanItem.wave_id).is_(None))):
            system = systems.get(item.system_id)
            if system is not None:
                blocking[item.system_id] = blocker(system, item.strategy, item.reason_en, item.reason_zh,
                                                   item.flags or [])
    else:
        for ident, system in systems.items():
            if system.classified and ident is not None:
                blocking[ident] = blocker(system, "retain", "classified (涉密)", "涉密系统", [])
    out = []
    query = select(Room).where(Room.status == RoomStatus.ACTIVE).order_by(col(Room.code))
    for room in session.exec(query):
        assert room.id is not None
        row = rows[room.code]
        here = servers.get(room.id, [])
        left = [systems[i] for i in systems_of_room.get(room.id, set()) if i in systems]
        measured = [(s.cpu_cores, cpu[s.id]) for s in here if s.id in cpu]
        used = sum(cores * util for cores, util in measured)
        measured_cores = sum(cores for cores, _ in measured)
        util = used / measured_cores if measured_cores else None
        all_cores = sum(s.cpu_cores for s in here)
        out.append(RoomInput(
            code=room.code, name=room.name, racks=float(room.racks or max(1, round(len(here) / 10))),
            servers=len(here), pue=room.pue or defaults.pue, pue_assumed=room.pue is None,
            kwh_per_year=row.cost.kwh_per_year,
            # the measured servers' use, extended to the unmeasured ones at the same rate; unknown without any
            used_cores=util * all_cores if util is not None else None,
            old_servers=sum(1 for s in here if s.purchase_date is not None and s.purchase_date < cutoff),
            systems=len(left), systems_without_mlps=sum(1 for s in left if s.mlps_level is None),
            cpu_util=util, annual_cost_cny=row.cost.total, measured_servers=len(measured),
            blockers=tuple(sorted((blocking[s.id] for s in left if s.id in blocking), key=lambda b: b.system))))
    return out


def blocker(system: BusinessSystem, strategy: str, reason_en: str, reason_zh: str, flags: list[str]) -> Blocker:
    """Why ``system`` stays in its room and what would let the room close."""
    if system.classified:
        return Blocker(system.code, "classified (涉密): never goes to the cloud", "涉密系统，不上云",
                       "move it to the government intranet (电子政务内网)", "迁往电子政务内网")
    placed = next((f for f in flags if f.startswith("not placed:")), None)
    if placed and "no free capacity" in placed:
        return Blocker(system.code, "not placed: no free cloud capacity", "未排入批次：云平台余量不足",
                       "expand the cloud platform (or free capacity), then re-plan",
                       "云平台扩容或释放资源后重新制定计划")
    if placed:
        return Blocker(system.code, "not placed: no wave matches its downtime window",
                       "未排入批次：没有符合其可停机窗口的批次",
                       "agree a downtime window with the department, then re-plan",
                       "与部门商定可停机窗口后重新制定计划")
    if strategy == Strategy.RETAIN and "no servers recorded" in reason_en:
        return Blocker(system.code, "no servers recorded in the survey", "调查表未登记部署服务器",
                       "record its servers in the survey, then re-plan", "在调查表中登记其部署服务器后重新制定计划")
    return Blocker(system.code, reason_en[:200], reason_zh[:200], "change its plan item, then re-plan",
                   "调整其迁移方案后重新制定计划")


def newest_current_plan(session: Session) -> int | None:
    """The most recent current plan (any name), if any."""
    from inventory.models import Plan
    from inventory.models.plans import PlanStatus

    return session.exec(select(Plan.id).where(Plan.status == PlanStatus.CURRENT)
                        .order_by(col(Plan.created_at).desc())).first()
