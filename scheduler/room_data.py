"""Loading the room-flag inputs from the inventory (the database edge of ``scheduler.room_flags``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import Session, col, select

from inventory.models import BusinessSystem, PlanItem, Room, RoomStatus, Server, ServerStatus, SystemServer
from inventory.queries import average_cpu_by_server, room_rows
from inventory.settings import CostDefaults
from scheduler.room_flags import RoomInput

SERVICE_YEARS = 6  # government depreciation of computers (DOMAIN.md)


def load_room_inputs(session: Session, defaults: CostDefaults, plan_id: int | None, today: dt.date) -> list[RoomInput]:
    """One ``RoomInput`` per active room; retained systems come from the plan, or are the classified ones."""
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
    retained: set[int] = set()
    if plan_id is not None:
        retained = set(session.exec(select(PlanItem.system_id).where(PlanItem.plan_id == plan_id,
                                                                    PlanItem.strategy == "retain")))
    else:
        retained = {i for i, s in systems.items() if s.classified and i is not None}
    out = []
    query = select(Room).where(Room.status == RoomStatus.ACTIVE).order_by(col(Room.code))
    for room in session.exec(query):
        assert room.id is not None
        row = rows[room.code]
        here = servers.get(room.id, [])
        left = [systems[i] for i in systems_of_room.get(room.id, set()) if i in systems]
        measured = [(s.cpu_cores, cpu[s.id]) for s in here if s.id in cpu]
        used = sum(cores * util for cores, util in measured)
        util = used / sum(cores for cores, _ in measured) if measured else None
        out.append(RoomInput(
            code=room.code, name=room.name, racks=float(room.racks or max(1, round(len(here) / 10))),
            servers=len(here), pue=room.pue or defaults.pue, pue_assumed=room.pue is None,
            kwh_per_year=row.cost.kwh_per_year, used_cores=used,
            old_servers=sum(1 for s in here if s.purchase_date is not None and s.purchase_date < cutoff),
            systems=len(left), systems_without_mlps=sum(1 for s in left if s.mlps_level is None),
            retained_systems=sum(1 for s in left if s.id in retained), cpu_util=util,
            annual_cost_cny=row.cost.total))
    return out


def newest_current_plan(session: Session) -> int | None:
    """The most recent current plan (any name), if any."""
    from inventory.models import Plan
    from inventory.models.plans import PlanStatus

    return session.exec(select(Plan.id).where(Plan.status == PlanStatus.CURRENT)
                        .order_by(col(Plan.created_at).desc())).first()
