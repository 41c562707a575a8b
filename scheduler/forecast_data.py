"""Loading forecast inputs from the inventory (the database edge of ``scheduler.forecast``)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlmodel import Session, col, select

from inventory.capacity import allocatable, allocatable_vcpus, overcommit, physical
from inventory.errors import NotFoundError
from inventory.expansions import upcoming
from inventory.models import CloudHost, CloudPlatform, PlanItem, PlanWave, PlatformDaily
from inventory.models.plans import ItemStatus
from inventory.platform_history import history
from migration_plans.planning.document import target_allocation
from scheduler.forecast import DayFigures, PlannedAddition, PlatformForecast, forecast

DEFAULT_HOST = {"vcpus": 64.0, "memory_gb": 512.0}  # a common 2-socket server, when no host is known


def _measured(row: CloudPlatform | PlatformDaily) -> dict[str, float]:
    """The use series a collector measured (none for survey-only platforms)."""
    values = {"vcpus_used": row.used_vcpus, "memory_gb_used": row.used_memory_gb,
              "storage_gb_used": row.used_storage_gb}
    return {k: float(v) for k, v in values.items() if v is not None}


def platform_forecasts(session: Session, plan_id: int | None, today: dt.date, horizon_days: int,
                       only: str | None = None) -> list[PlatformForecast]:
    """A forecast per platform (or for ``only``); the plan's not-done items are the planned additions."""
    query = select(CloudPlatform).order_by(col(CloudPlatform.name))
    if only is not None:
        query = query.where(CloudPlatform.name == only)
    platforms = session.exec(query).all()
    if only is not None and not platforms:
        raise NotFoundError(what="cloud platform", key=only)
    planned: dict[str, list[PlannedAddition]] = {}
    if plan_id is not None:
        rows = session.exec(select(PlanItem, PlanWave).join(PlanWave, col(PlanWave.id) == PlanItem.wave_id)
                            .where(PlanItem.plan_id == plan_id, PlanItem.status != ItemStatus.DONE)).all()
        for item, wave in rows:
            target = item.target or {}
            if not target.get("platform_name"):
                continue
            vcpus, memory_gb, storage_gb = target_allocation(target)
            planned.setdefault(target["platform_name"], []).append(PlannedAddition(wave.end, {
                "vcpus": vcpus, "memory_gb": memory_gb, "storage_gb": storage_gb}))
    out = []
    for platform in platforms:
        assert platform.id is not None
        ratio = overcommit(platform.cpu_ratio)
        capacity = allocatable(platform) | {f"{r}_used": v for r, v in physical(platform).items()}
        allocated = {"vcpus": float(platform.allocated_vcpus or 0),
                     "memory_gb": float(platform.allocated_memory_gb or 0),
                     "storage_gb": float(platform.allocated_storage_gb or 0)} | _measured(platform)
        days = [DayFigures(h.day, {"vcpus": h.allocated_vcpus or 0.0, "memory_gb": h.allocated_memory_gb or 0.0,
                                   "storage_gb": h.allocated_storage_gb or 0.0} | _measured(h))
                for h in history(session, platform.id)]
        for day in days:  # a use measured before but not by the latest collection: its last known value
            for key, value in day.allocated.items():
                if key.endswith("_used") and key not in _measured(platform):
                    allocated[key] = value
        hosts = session.exec(select(CloudHost).where(CloudHost.platform_id == platform.id)).all()
        if hosts:
            shapes = Counter((h.vcpus, h.cpu_ratio, h.memory_gb) for h in hosts)
            (host_vcpus, cpu_ratio, memory), _ = shapes.most_common(1)[0]
            vcpus = float(host_vcpus)
        else:
            vcpus, cpu_ratio, memory = DEFAULT_HOST["vcpus"], ratio, DEFAULT_HOST["memory_gb"]
        size = {"vcpus": allocatable_vcpus(vcpus, cpu_ratio), "memory_gb": memory, "vcpus_used": vcpus,
                "memory_gb_used": memory}
        grows = [PlannedAddition(e.ready_on, {"vcpus": allocatable_vcpus(e.vcpus, ratio), "memory_gb": e.memory_gb,
                                              "storage_gb": e.storage_gb, "vcpus_used": float(e.vcpus),
                                              "memory_gb_used": e.memory_gb, "storage_gb_used": e.storage_gb})
                 for _, e in upcoming(session, platform.name)]
        out.append(forecast(platform.name, capacity, allocated, days, planned.get(platform.name, []), size, today,
                            horizon_days, grows))
    return out
