"""Capacity forecast per platform: when allocation and measured use cross 75% and 90%, and how many
hosts to add.

The model, shown with every forecast, is the sum of two parts for each series:

- **trend**: a least-squares line through the platform's daily history of the series (at least two
  days spanning a week, else no trend); a falling trend counts as flat;
- **plan**: each planned item that targets the platform adds its size on the last day of its wave to
  the allocation; to the use it adds that size times the platform's current use per allocated unit
  (new systems are assumed to use their allocation as the systems already there do).

Series: allocated vCPUs (against ``vcpus × cpu_ratio``), memory and storage; busy cores (against the
physical vCPUs), memory and storage in use. Use series appear only where a collector measured them.
Planned expansions (扩容计划) raise each series' capacity from their day on: allocation by the added
vCPUs × overcommit, memory and storage; use by the physical amounts. The expansion recommendation is
the number of hosts of the platform's common size that keeps every series under 75% at the horizon,
beyond the planned expansions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

THRESHOLDS = (0.75, 0.90)
RESOURCES = ("vcpus", "memory_gb", "storage_gb")
USAGE = {"vcpus_used": "vcpus", "memory_gb_used": "memory_gb", "storage_gb_used": "storage_gb"}  # series → resource


@dataclass(frozen=True)
class DayFigures:
    day: dt.date
    allocated: dict[str, float]  # series (RESOURCES and USAGE keys) → amount that day


@dataclass(frozen=True)
class PlannedAddition:
    day: dt.date
    amount: dict[str, float]


@dataclass
class ResourceForecast:
    resource: str  # a series: "vcpus" … allocation, "vcpus_used" … measured use
    measure: str  # allocation | usage
    capacity: float  # today
    capacity_at_horizon: float  # with the planned expansions in service by then
    allocated_now: float
    trend_per_day: float
    share_now: float
    share_at_horizon: float
    crossing: dict[str, dt.date | None]  # "75%" → first day at or above it (None: not within the horizon)
    days_until: dict[str, int | None]


@dataclass
class PlatformForecast:
    platform: str
    today: dt.date
    horizon_days: int
    model: str
    resources: list[ResourceForecast] = field(default_factory=list)
    expansion_hosts: int = 0
    host_size: dict[str, float] = field(default_factory=dict)
    expansions: list[PlannedAddition] = field(default_factory=list)  # planned (扩容计划), per series


def trend(history: list[DayFigures], resource: str) -> float:
    """Growth per day of ``resource`` from a least-squares line (0 without a week of history)."""
    points = [(h.day.toordinal(), h.allocated[resource]) for h in history if h.allocated.get(resource) is not None]
    if len(points) < 2 or points[-1][0] - points[0][0] < 7:
        return 0.0
    x, y = np.array(points, dtype=np.float64).T
    slope = round(float(np.polyfit(x - x[0], y, 1)[0]), 6)  # to the millionth: floating noise, not growth
    return max(slope, 0.0)


def forecast(platform: str, capacity: dict[str, float], allocated_now: dict[str, float], history: list[DayFigures],
             planned: list[PlannedAddition], host_size: dict[str, float], today: dt.date,
             horizon_days: int = 730, expansions: list[PlannedAddition] | None = None) -> PlatformForecast:
    """Project each series day by day to ``today + horizon_days``; see the module docstring.

    ``capacity`` and ``allocated_now`` are keyed by series; a usage series is forecast when
    ``allocated_now`` has it, against ``capacity`` of the same key. ``expansions`` add capacity per series
    from their day on."""
    expansions = [e for e in expansions or [] if (e.day - today).days <= horizon_days]
    series = [*RESOURCES, *(u for u in USAGE if u in allocated_now)]
    slopes = {r: trend(history, r) for r in series}
    history_days = (history[-1].day - history[0].day).days if len(history) >= 2 else 0
    model = (f"trend over {history_days} day(s) of history" if any(slopes.values())
             else "no trend (less than a week of history)")
    model += f" + {len(planned)} planned item(s) on their wave's last day" if planned else " + no planned items"
    if expansions:
        model += f", against capacity with {len(expansions)} planned expansion(s)"
    result = PlatformForecast(platform, today, horizon_days, model, host_size=host_size, expansions=expansions)
    days = np.arange(horizon_days + 1)
    for r in series:
        now = capacity.get(r, 0.0)
        if now <= 0:
            continue
        cap = np.full(horizon_days + 1, now)
        for e in expansions:
            offset = max((e.day - today).days, 0)
            if offset <= horizon_days:
                cap[offset:] += e.amount.get(r, 0.0)
        resource = USAGE.get(r, r)
        allocated = allocated_now.get(resource, 0.0)
        use_per_unit = allocated_now.get(r, 0.0) / allocated if r in USAGE and allocated > 0 else 1.0
        planned_by_day = np.zeros(horizon_days + 1)
        for p in planned:
            offset = min(max((p.day - today).days, 0), horizon_days + 1)
            if offset <= horizon_days:
                planned_by_day[offset] += p.amount.get(resource, 0.0) * use_per_unit
        projected = allocated_now.get(r, 0.0) + slopes[r] * days + np.cumsum(planned_by_day)
        share = projected / cap
        crossing: dict[str, dt.date | None] = {}
        until: dict[str, int | None] = {}
        for threshold in THRESHOLDS:
            label = f"{threshold:.0%}"
            hit = np.flatnonzero(share >= threshold)
            until[label] = int(hit[0]) if hit.size else None
            crossing[label] = today + dt.timedelta(days=int(hit[0])) if hit.size else None
        result.resources.append(ResourceForecast(r, "usage" if r in USAGE else "allocation", now,
                                                 float(cap[-1]), allocated_now.get(r, 0.0), round(slopes[r], 3),
                                                 round(float(share[0]), 4), round(float(share[-1]), 4), crossing,
                                                 until))
        size = host_size.get(r, 0.0)  # usage series: a host adds its physical size
        if size > 0:
            needed = math.ceil(max(0.0, float(projected[-1]) / THRESHOLDS[0] - float(cap[-1])) / size)
            result.expansion_hosts = max(result.expansion_hosts, needed)
    return result
