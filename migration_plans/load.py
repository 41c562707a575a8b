"""Load the planner's ``Estate`` from the inventory (the edge between the database and the planner).

Measured use comes from each server's own daily rollups (``inventory.views.measured``): for sizing, the
95th percentile of the daily p95 values over the server's latest ``sizing_days`` days of data; for
zombie detection, the mean of the daily averages over its latest ``ZOMBIE_WINDOW`` days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from inventory import clock
from inventory.capacity import free, overcommit
from inventory.costs import Basis
from inventory.errors import NotFoundError
from inventory.expansions import ExpansionSpec
from inventory.models import (
    BusinessSystem,
    CloudPlatform,
    Department,
    Dependency,
    Flavor,
    PlatformExpansion,
    Room,
    Server,
    ServerStatus,
    SystemServer,
)
from inventory.models.enums import RoomStatus
from inventory.settings import CostDefaults
from inventory.views.measured import measured_use
from inventory.views.public import table_of
from inventory.views.queries import pairs, room_rows
from migration_plans.planning import model as m
from migration_plans.planning.zombies import WINDOW_DAYS as ZOMBIE_WINDOW
from migration_plans.planning.zombies import zombie_evidence


def _as_date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def server_use(session: Session, sizing_days: int,
               server_ids: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
    """Per measured server, the ``ServerUse`` fields drawn from its own windows: p95 over its latest
    ``sizing_days`` days of data, averages and disk over its latest ``ZOMBIE_WINDOW`` days."""
    windows = measured_use(session, (sizing_days, ZOMBIE_WINDOW), server_ids)
    out: dict[int, dict[str, Any]] = {}
    for server_id, history in windows[ZOMBIE_WINDOW].items():
        sizing = windows[sizing_days][server_id]
        out[server_id] = {"cpu_p95": sizing.cpu_p95, "memory_p95": sizing.memory_p95, "cpu_avg": history.cpu_avg,
                          "memory_avg": history.memory_avg, "disk_used_gb": history.disk_used_gb,
                          "days": history.days, "sizing_days": sizing.days, "first_day": history.first_day,
                          "last_day": history.last_day, "sizing_from": sizing.first_day}
    return out


def load_systems(session: Session, sizing_days: int = 30, system_ids: set[int] | None = None,
                 shares: dict[int, tuple[float, float]] | None = None) -> tuple[list[m.SystemFacts], dict[int, str]]:
    """Systems (all, or ``system_ids``) with their active servers' measured use (and, from ``shares``,
    each server's energy and upkeep share of its room); and id → code."""
    placement_rows = session.execute(sa.select(table_of(SystemServer))).all()
    if system_ids is not None:
        placement_rows = [r for r in placement_rows if r[0] in system_ids]
    wanted_servers = {r[1] for r in placement_rows} if system_ids is not None else None
    use = server_use(session, sizing_days, wanted_servers)
    rooms_code = pairs(session, sa.select(table_of(Room).c.id, table_of(Room).c.code))
    departments = pairs(session, sa.select(table_of(Department).c.id, table_of(Department).c.code))
    servers: dict[int, m.ServerUse] = {}
    srv = table_of(Server)
    query = sa.select(srv).where(srv.c.status == ServerStatus.ACTIVE)
    if wanted_servers is not None:
        query = query.where(srv.c.id.in_(wanted_servers))
    for r in session.execute(query).mappings():
        servers[r["id"]] = m.ServerUse(r["hostname"], rooms_code[r["room_id"]], r["cpu_cores"], r["memory_gb"],
                                       r["storage_gb"], purchase_date=_as_date(r["purchase_date"]),
                                       energy_cny=(shares or {}).get(r["id"], (0.0, 0.0))[0],
                                       upkeep_cny=(shares or {}).get(r["id"], (0.0, 0.0))[1],
                                       **use.get(r["id"], {}))
    placement: dict[int, list[m.ServerUse]] = {}
    for system_id, server_id in placement_rows:
        if server_id in servers:
            placement.setdefault(system_id, []).append(servers[server_id])
    systems = []
    codes: dict[int, str] = {}
    bs = table_of(BusinessSystem)
    query = sa.select(bs).order_by(bs.c.code)
    if system_ids is not None:
        query = query.where(bs.c.id.in_(system_ids))
    for r in session.execute(query).mappings():
        codes[r["id"]] = r["code"]
        facts = m.SystemFacts(r["code"], r["name"], departments[r["department_id"]], r["classified"], r["mlps_level"],
                              r["status"], r["daily_users"], bool(r["containerized"]), bool(r["special_hardware"]),
                              r["downtime_window"], tuple(sorted(placement.get(r["id"], []), key=lambda s: s.hostname)),
                              secrecy_level=r["secrecy_level"], network=r["network"])
        evidence = zombie_evidence(facts)
        if evidence is not None and evidence.zombie:
            facts = m.SystemFacts(**{**facts.__dict__, "zombie": True})
        systems.append(facts)
    return systems, codes


def load_estate(session: Session, defaults: CostDefaults, sizing_days: int = 30,
                rates: m.SavingsRates | None = None) -> m.Estate:
    """Everything the planner needs, read in a handful of queries."""
    rows = [row for row in room_rows(session, defaults) if row.status == RoomStatus.ACTIVE]
    shares = {sid: share for row in rows for sid, share in row.shares().items()}
    systems, codes = load_systems(session, sizing_days, shares=shares)
    deps = table_of(Dependency)
    tight: dict[tuple[str, str], bool] = {}
    for system_id, depends_on_id, is_tight in session.execute(sa.select(deps.c.system_id, deps.c.depends_on_id,
                                                                         deps.c.tight)):
        key = (codes[system_id], codes[depends_on_id])
        tight[key] = tight.get(key, False) or bool(is_tight)
    rooms = {row.code: m.RoomCost(row.code, row.cost.total,
                                  any(p.basis is Basis.DEFAULT for p in row.cost.parts.values()),
                                  tuple((part, value.cny, value.basis.value) for part, value in row.cost.parts.items()),
                                  row.lines_contract_end, row.name, row.department)
             for row in rows}
    return m.Estate(systems, [m.Dependency(a, b, t) for (a, b), t in sorted(tight.items())], rooms,
                    load_platforms(session), rates or savings_rates(defaults))


def savings_rates(defaults: CostDefaults) -> m.SavingsRates:
    """The savings model's placeholders from the cost defaults (``SHANGYUN_DEFAULT_…``)."""
    return m.SavingsRates(defaults.server_refresh_cny_year, defaults.hosting_cny_u_year,
                          defaults.server_rack_units)


def load_platforms(session: Session) -> list[m.Platform]:
    """Cloud platforms with the capacity still free (overcommit applied to vCPUs) and their flavors."""
    flavors: dict[int, list[m.Flavor]] = {}
    for r in session.execute(sa.select(table_of(Flavor)).order_by(table_of(Flavor).c.name)).mappings():
        flavors.setdefault(r["platform_id"], []).append(
            m.Flavor(r["name"], r["vcpus"], r["memory_gb"], r["disk_gb"], r["monthly_cny"]))
    expansions: dict[int, list[PlatformExpansion]] = {}
    for e in session.exec(select(PlatformExpansion).where(PlatformExpansion.ready_on > clock.today())
                          .order_by(col(PlatformExpansion.ready_on))):
        expansions.setdefault(e.platform_id, []).append(e)
    platforms = []
    for p in session.exec(select(CloudPlatform).order_by(col(CloudPlatform.name))):
        room = free(p)
        ratio = overcommit(p.cpu_ratio)
        platforms.append(m.Platform(p.name, p.kind, p.mlps_level, room["vcpus"], room["memory_gb"], room["storage_gb"],
                                    tuple(flavors.get(p.id or 0, [])), p.vcpu_monthly_cny, p.memory_gb_monthly_cny,
                                    p.storage_gb_monthly_cny, p.secrecy_level, p.network_zone, ratio,
                                    tuple(m.Expansion(e.ready_on, e.vcpus * ratio, e.memory_gb, e.storage_gb)
                                          for e in expansions.get(p.id or 0, []))))
    return platforms


def with_assumed(estate: m.Estate, assumed: Sequence[ExpansionSpec]) -> m.Estate:
    """``estate`` with what-if expansions added to its platforms (``plan create --assume-expansion``)."""
    by_name = {p.name: p for p in estate.platforms}
    for spec in assumed:
        platform = by_name.get(spec.platform)
        if platform is None:
            raise NotFoundError(what="cloud platform", key=spec.platform)
        by_name[spec.platform] = dataclasses.replace(platform, expansions=(*platform.expansions, m.Expansion(
            spec.ready_on, spec.vcpus * platform.cpu_ratio, spec.memory_gb, spec.storage_gb, assumed=True)))
    return dataclasses.replace(estate, platforms=[by_name[p.name] for p in estate.platforms])
