"""Load the planner's ``Estate`` from the inventory (the edge between the database and the planner).

Measured use comes from the daily rollups relative to the newest day in the inventory: for sizing,
the 95th percentile of the daily p95 values over the last ``sizing_days``; for zombie detection,
the mean of the daily averages over the last ``ZOMBIE_WINDOW`` days (or all days available).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from itertools import chain
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

from inventory.costs import Basis
from inventory.models import (
    BusinessSystem,
    CloudPlatform,
    Department,
    Dependency,
    Flavor,
    Room,
    Server,
    ServerStatus,
    SystemServer,
    UtilizationDaily,
)
from inventory.public import table_of
from inventory.queries import pairs, room_rows
from inventory.rollups import group_bounds, group_stats
from inventory.settings import CostDefaults
from migration_plans import model as m
from migration_plans.zombies import WINDOW_DAYS as ZOMBIE_WINDOW
from migration_plans.zombies import zombie_evidence


def _as_date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def server_use_stats(session: Session, sizing_days: int,
                     server_ids: Iterable[int] | None = None) -> dict[int, dict[str, float | int | None]]:
    """Per server: p95 of the daily CPU/memory p95 over the sizing window; mean daily CPU/memory use,
    days measured and the largest disk use over the zombie window.

    One sequential scan, streamed in partitions into NumPy arrays (no ORDER BY or GROUP BY: on a
    million-row rollup table those walk an index with a random lookup per row); grouping and the
    statistics happen in NumPy.
    """
    daily = table_of(UtilizationDaily)
    latest = _as_date(session.execute(sa.select(sa.func.max(daily.c.day))).scalar())
    if latest is None:
        return {}
    zombie_since = latest - dt.timedelta(days=ZOMBIE_WINDOW - 1)
    sizing_since = latest - dt.timedelta(days=sizing_days - 1)
    since = min(zombie_since, sizing_since)
    sqlite = session.get_bind().dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    sql = (f"SELECT server_id, CASE WHEN day >= {mark} THEN 1.0 ELSE 0.0 END, "
           f"CASE WHEN day >= {mark} THEN 1.0 ELSE 0.0 END, cpu_p95, memory_p95, cpu_avg, memory_avg, "
           f"COALESCE(disk_used_gb, -1.0) FROM utilization_daily WHERE day >= {mark}")
    if server_ids is not None:
        sql += f" AND server_id IN ({', '.join(str(int(i)) for i in server_ids) or 'NULL'})"
    binds = [d.isoformat() if sqlite else d for d in (sizing_since, zombie_since, since)]
    # The DB-API cursor hands back plain tuples; SQLAlchemy Rows cost more than the scan itself here.
    raw = session.connection().connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    blocks = []
    try:
        cursor.execute(sql, binds)
        while part := cursor.fetchmany(200_000):
            blocks.append(np.fromiter(chain.from_iterable(part), dtype=np.float64, count=len(part) * 8).reshape(-1, 8))
    finally:
        cursor.close()
    if not blocks:
        return {}
    data = np.concatenate(blocks)
    del blocks
    data = data[np.argsort(data[:, 0], kind="stable")]
    stats: dict[int, dict[str, float | int | None]] = {}
    for mask, kind in ((data[:, 2] > 0, "zombie"), (data[:, 1] > 0, "sizing")):
        rows = data[mask]
        if not len(rows):
            continue
        ids = rows[:, 0].astype(np.int64)
        changed = np.ones(len(ids), dtype=bool)
        changed[1:] = ids[1:] != ids[:-1]
        starts, counts, group = group_bounds(changed)
        servers = ids[starts].tolist()
        if kind == "zombie":
            cpu_mean = (np.add.reduceat(rows[:, 5], starts) / counts).tolist()
            memory_mean = (np.add.reduceat(rows[:, 6], starts) / counts).tolist()
            disk = np.maximum.reduceat(rows[:, 7], starts).tolist()
            for k, server_id in enumerate(servers):
                stats[server_id] = {"cpu_avg": cpu_mean[k], "memory_avg": memory_mean[k], "days": int(counts[k]),
                                    "disk_used_gb": disk[k] if disk[k] >= 0 else None,
                                    "cpu_p95": None, "memory_p95": None}
        else:
            cpu = group_stats(rows[:, 3], group, starts, counts)[2].tolist()
            memory = group_stats(rows[:, 4], group, starts, counts)[2].tolist()
            for k, server_id in enumerate(servers):
                entry = stats.setdefault(server_id, {"cpu_avg": None, "memory_avg": None, "days": 0,
                                                     "disk_used_gb": None})
                entry["cpu_p95"], entry["memory_p95"] = cpu[k], memory[k]
    return stats


def load_systems(session: Session, sizing_days: int = 30,
                 system_ids: set[int] | None = None) -> tuple[list[m.SystemFacts], dict[int, str]]:
    """Systems (all, or ``system_ids``) with their active servers' measured use; and id → code."""
    placement_rows = session.execute(sa.select(table_of(SystemServer))).all()
    if system_ids is not None:
        placement_rows = [r for r in placement_rows if r[0] in system_ids]
    wanted_servers = {r[1] for r in placement_rows} if system_ids is not None else None
    use = server_use_stats(session, sizing_days, wanted_servers)
    rooms_code = pairs(session, sa.select(table_of(Room).c.id, table_of(Room).c.code))
    departments = pairs(session, sa.select(table_of(Department).c.id, table_of(Department).c.code))
    servers: dict[int, m.ServerUse] = {}
    srv = table_of(Server)
    query = sa.select(srv).where(srv.c.status == ServerStatus.ACTIVE)
    if wanted_servers is not None:
        query = query.where(srv.c.id.in_(wanted_servers))
    for r in session.execute(query).mappings():
        u = use.get(r["id"], {})
        servers[r["id"]] = m.ServerUse(r["hostname"], rooms_code[r["room_id"]], r["cpu_cores"], r["memory_gb"],
                                       r["storage_gb"], u.get("cpu_p95"), u.get("memory_p95"),
                                       u.get("cpu_avg"), u.get("memory_avg"), u.get("disk_used_gb"),
                                       int(u.get("days") or 0))
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
                              r["downtime_window"], tuple(sorted(placement.get(r["id"], []), key=lambda s: s.hostname)))
        evidence = zombie_evidence(facts)
        if evidence is not None and evidence.zombie:
            facts = m.SystemFacts(**{**facts.__dict__, "zombie": True})
        systems.append(facts)
    return systems, codes


def load_estate(session: Session, defaults: CostDefaults, sizing_days: int = 30) -> m.Estate:
    """Everything the planner needs, read in a handful of queries."""
    systems, codes = load_systems(session, sizing_days)
    deps = table_of(Dependency)
    tight: dict[tuple[str, str], bool] = {}
    for system_id, depends_on_id, is_tight in session.execute(sa.select(deps.c.system_id, deps.c.depends_on_id,
                                                                         deps.c.tight)):
        key = (codes[system_id], codes[depends_on_id])
        tight[key] = tight.get(key, False) or bool(is_tight)
    rooms = {row.code: m.RoomCost(row.code, row.cost.total,
                                  any(p.basis is Basis.DEFAULT for p in row.cost.parts.values()))
             for row in room_rows(session, defaults) if row.status == "active"}
    return m.Estate(systems, [m.Dependency(a, b, t) for (a, b), t in sorted(tight.items())], rooms,
                    load_platforms(session))


def load_platforms(session: Session) -> list[m.Platform]:
    """Cloud platforms with the capacity still free (overcommit applied to vCPUs) and their flavors."""
    flavors: dict[int, list[m.Flavor]] = {}
    for r in session.execute(sa.select(table_of(Flavor)).order_by(table_of(Flavor).c.name)).mappings():
        flavors.setdefault(r["platform_id"], []).append(
            m.Flavor(r["name"], r["vcpus"], r["memory_gb"], r["disk_gb"], r["monthly_cny"]))
    platforms = []
    for r in session.execute(sa.select(table_of(CloudPlatform)).order_by(table_of(CloudPlatform).c.name)).mappings():
        platforms.append(m.Platform(
            r["name"], r["kind"], r["mlps_level"],
            r["vcpus"] * (r["cpu_ratio"] or 1.0) - (r["allocated_vcpus"] or 0),
            r["memory_gb"] - (r["allocated_memory_gb"] or 0.0),
            r["storage_gb"] - (r["allocated_storage_gb"] or 0.0),
            tuple(flavors.get(r["id"], []))))
    return platforms
