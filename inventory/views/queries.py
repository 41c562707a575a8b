"""Read models over the inventory for listings and summaries (loaded at the edge, plain data out)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from inventory.costs import RoomCost, RoomFacts, ServerDraw, room_cost, server_power_w
from inventory.models import (
    BusinessSystem,
    Department,
    Room,
    Server,
    ServerStatus,
    SystemServer,
    UtilizationDaily,
)
from inventory.settings import CostDefaults
from inventory.views.measured import measured_use
from inventory.views.public import table_of

UTIL_WINDOW_DAYS = 30


def _as_date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def pairs(session: Session, query: sa.Select[Any]) -> dict[Any, Any]:
    """A two-column query as a dict of first column → second."""
    return dict(session.execute(query).all())


@dataclass
class RoomRow:
    code: str
    name: str
    department: str
    status: str
    racks: int | None
    servers: int
    systems: int
    cost: RoomCost
    lines_contract_end: dt.date | None = None
    draws_w: dict[int, float] = field(default_factory=dict)  # active server id → its average draw (W)

    def shares(self) -> dict[int, tuple[float, float]]:
        """Each active server's share of the room's annual energy (by draw) and maintenance (per server)."""
        total = sum(self.draws_w.values())
        upkeep = self.cost.maintenance.cny / len(self.draws_w) if self.draws_w else 0.0
        return {sid: (self.cost.energy.cny * w / total if total else 0.0, upkeep) for sid, w in self.draws_w.items()}


def average_cpu_by_server(session: Session, days: int = UTIL_WINDOW_DAYS,
                          server_ids: list[int] | None = None) -> dict[int, float]:
    """Each measured server's (or those of ``server_ids``) average CPU use over its own latest ``days``
    days of rollups (``inventory.views.measured``); servers without data are absent (their use is unknown)."""
    return {sid: w.cpu_avg for sid, w in measured_use(session, (days,), server_ids)[days].items()}


def room_rows(session: Session, defaults: CostDefaults, room_ids: list[int] | None = None) -> list[RoomRow]:
    """Every room (or those of ``room_ids``) with its department, counts and annual cost, by code."""
    rooms, servers = table_of(Room), table_of(Server)
    departments = pairs(session, sa.select(table_of(Department).c.id, table_of(Department).c.name))
    draws: dict[int, list[tuple[int, ServerDraw]]] = {}
    active = sa.select(servers.c.id, servers.c.room_id, servers.c.power_w).where(
        servers.c.status == ServerStatus.ACTIVE)
    if room_ids is not None:
        active = active.where(servers.c.room_id.in_(room_ids))
    active_rows = session.execute(active).all()
    cpu = average_cpu_by_server(session, server_ids=None if room_ids is None else [r[0] for r in active_rows])
    for server_id, room_id, power_w in active_rows:
        draws.setdefault(room_id, []).append((server_id, ServerDraw(power_w, cpu.get(server_id))))
    placement, systems_table = table_of(SystemServer), table_of(BusinessSystem)
    counting = (sa.select(servers.c.room_id, sa.func.count(sa.distinct(placement.c.system_id)))
                .join(placement, placement.c.server_id == servers.c.id)
                .join(systems_table, systems_table.c.id == placement.c.system_id).group_by(servers.c.room_id))
    if room_ids is not None:
        counting = counting.where(servers.c.room_id.in_(room_ids))
    system_counts = pairs(session, counting)
    out = []
    chosen = sa.select(rooms).order_by(rooms.c.code)
    if room_ids is not None:
        chosen = chosen.where(rooms.c.id.in_(room_ids))
    for r in session.execute(chosen).mappings():
        facts = RoomFacts(code=r["code"], area_m2=r["area_m2"], racks=r["racks"], it_load_kw=r["it_load_kw"],
                          pue=r["pue"], tariff_cny_kwh=r["tariff_cny_kwh"], rent_cny=r["rent_cny"],
                          maintenance_cny=r["maintenance_cny"], staff_cny=r["staff_cny"], lines_cny=r["lines_cny"],
                          servers=tuple(d for _, d in draws.get(r["id"], [])))
        out.append(RoomRow(r["code"], r["name"], departments.get(r["department_id"], "?"), r["status"], r["racks"],
                           len(facts.servers), int(system_counts.get(r["id"], 0)), room_cost(facts, defaults),
                           _as_date(r["lines_contract_end"]),
                           {sid: server_power_w(d, defaults) for sid, d in draws.get(r["id"], [])}))
    return out


@dataclass
class InventorySummary:
    departments: int = 0
    rooms: int = 0
    servers: int = 0
    systems: int = 0
    samples_days: int = 0  # days with utilization data
    hourly_days: int = 0  # of which days with hourly (or denser) samples
    by_department: list[tuple[str, int, int, int]] = field(default_factory=list)  # name, rooms, servers, systems
    by_classification: Counter[str] = field(default_factory=Counter)
    by_mlps: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    rooms_by_status: Counter[str] = field(default_factory=Counter)


def inventory_summary(session: Session) -> InventorySummary:
    """Counts of the estate for the demo and dashboards."""
    d, r, s, b = table_of(Department), table_of(Room), table_of(Server), table_of(BusinessSystem)
    summary = InventorySummary()

    def count(table: sa.Table) -> int:
        return int(session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    summary.departments, summary.rooms, summary.servers, summary.systems = count(d), count(r), count(s), count(b)
    daily = table_of(UtilizationDaily)
    summary.samples_days = int(session.execute(sa.select(sa.func.count(sa.distinct(daily.c.day)))).scalar_one())
    summary.hourly_days = int(session.execute(sa.select(sa.func.count(sa.distinct(daily.c.day)))
                                              .where(daily.c.samples >= 24)).scalar_one())
    room_n = pairs(session, sa.select(r.c.department_id, sa.func.count()).group_by(r.c.department_id))
    server_n = pairs(session, sa.select(r.c.department_id, sa.func.count()).select_from(s)
                     .join(r, r.c.id == s.c.room_id).group_by(r.c.department_id))
    system_n = pairs(session, sa.select(b.c.department_id, sa.func.count()).group_by(b.c.department_id))
    for ident, name in session.execute(sa.select(d.c.id, d.c.name).order_by(d.c.code)):
        summary.by_department.append((name, room_n.get(ident, 0), server_n.get(ident, 0), system_n.get(ident, 0)))
    for classified, mlps, status in session.execute(sa.select(b.c.classified, b.c.mlps_level, b.c.status)):
        summary.by_classification["classified 涉密" if classified else "non-classified 非涉密"] += 1
        summary.by_mlps[f"level {mlps}" if mlps else "unknown"] += 1
        summary.by_status[status] += 1
    for (status,) in session.execute(sa.select(r.c.status)):
        summary.rooms_by_status[status] += 1
    return summary
