"""Wave sequencing that closes machine rooms early, its baselines, and a proven upper bound.

Objective. A room whose systems all leave stops costing money from the wave after its last system
leaves; a room that keeps any system (retained, or not placed) never closes. Over a horizon of H
waves, the plan saves Σ_rooms annual_cost × (H − k_room) × wave_days / 365, where k_room is the wave
its last system leaves in (0 for a room with no systems). Savings do not grow linearly with the
share migrated: a room pays until it is empty.

Optimiser (``RoomClosingOrder``). Smith's ratio rule generalised to rooms that share move groups:
repeatedly take the open room with the highest annual cost per unit of remaining work, schedule all
its move groups, and lower the remaining work of every other room those groups touch. Work is the
per-wave limits' binding share (systems / K, vCPUs / V). The order is then packed first-fit into
waves honouring the per-wave limits, small first waves, platform capacity and downtime windows.

Upper bound. Relax the waves into one machine doing work continuously at one wave's limit per wave,
and split each shared move group's work evenly among the closable rooms it touches. In any feasible
plan, list the rooms that close within the horizon by closing wave k₁ ≤ k₂ ≤ …: by the end of wave
k_j every group of rooms 1..j is done, so the prefix sum C_j of their split work is at most k_j, and
the plan saves at most Σ_j w_j (H − C_j) over that subset of rooms. For a fixed subset, Smith's
order (weight ÷ work, highest first) maximises that sum, so the best subset in Smith's order bounds
every plan — clipping included (a room past the horizon saves nothing, so it is left out of the
subset). ``upper_bound`` finds that subset exactly by dynamic programming over the elapsed work,
with each room's work rounded down to 1/64 of a wave (less work only raises the bound). Each
per-wave limit (systems, vCPUs) alone is such a relaxation; the smaller bound is kept.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from migration_plans.planning.capacity import Headroom
from migration_plans.planning.model import PlanParams, Platform
from migration_plans.planning.windows import DayRule, window_allows

LOOKBACK_WAVES = 30
WINDOW_SEARCH_WAVES = 60
SMALL_WAVES = 2
SMALL_WAVE_SERVERS = 10


@dataclass
class Unit:
    """A move group as the sequencer sees it."""

    id: int
    systems: list[str]
    rooms: frozenset[str]
    department: str
    servers: int
    vcpus: float
    platform_need: dict[str, tuple[float, float, float]]  # platform → vCPUs, memory GB, disk GB
    simple: bool
    window: DayRule | None = None

    @property
    def size(self) -> int:
        return len(self.systems)


def work(unit: Unit, params: PlanParams) -> float:
    """The unit's share of a wave under the binding per-wave limit (systems when none is set)."""
    parts = []
    if params.max_systems_per_wave:
        parts.append(unit.size / params.max_systems_per_wave)
    if params.max_vcpus_per_wave:
        parts.append(unit.vcpus / params.max_vcpus_per_wave)
    return max(parts) if parts else float(unit.size)


class Ordering(Protocol):
    name: str

    def order(self, units: Sequence[Unit], weights: dict[str, float], params: PlanParams) -> list[Unit]:
        """The order in which ``units`` are offered to the packer."""
        ...


@dataclass
class RoomClosingOrder:
    """Highest annual cost per remaining work first, recomputed as shared groups are scheduled."""

    name: str = "room-closing"

    def order(self, units: Sequence[Unit], weights: dict[str, float], params: PlanParams) -> list[Unit]:
        room_units: dict[str, set[int]] = {r: set() for r in weights}
        for unit in units:
            for room in unit.rooms:
                if room in room_units:
                    room_units[room].add(unit.id)
        by_id = {u.id: u for u in units}
        remaining = {r: sum(work(by_id[i], params) for i in ids) for r, ids in room_units.items()}
        version = dict.fromkeys(room_units, 0)
        heap = [(-_ratio(weights[r], remaining[r]), 0, r) for r in room_units]
        heapq.heapify(heap)
        done: set[int] = set()
        ordered: list[Unit] = []
        while heap:
            _, seen, room = heapq.heappop(heap)
            if seen != version[room] or not room_units[room]:
                continue
            picked = sorted((by_id[i] for i in room_units[room]), key=lambda u: (-u.size, u.id))
            for unit in picked:
                done.add(unit.id)
                ordered.append(unit)
                for other in unit.rooms:
                    if other != room and other in room_units and unit.id in room_units[other]:
                        room_units[other].discard(unit.id)
                        remaining[other] -= work(unit, params)
                        version[other] += 1
                        heapq.heappush(heap, (-_ratio(weights[other], remaining[other]), version[other], other))
            room_units[room].clear()
        rest = sorted((u for u in units if u.id not in done), key=lambda u: (u.department, u.id))
        return ordered + rest


def _ratio(weight: float, remaining: float) -> float:
    return math.inf if remaining <= 1e-12 else weight / remaining


@dataclass
class DepartmentOrder:
    """Baseline: department by department, as many programmes run it."""

    name: str = "department-by-department"

    def order(self, units: Sequence[Unit], weights: dict[str, float], params: PlanParams) -> list[Unit]:
        return sorted(units, key=lambda u: (u.department, u.id))


@dataclass
class RandomOrder:
    """Baseline: a random order (seeded)."""

    seed: int = 0
    name: str = "random"

    def order(self, units: Sequence[Unit], weights: dict[str, float], params: PlanParams) -> list[Unit]:
        shuffled = list(units)
        random.Random(self.seed).shuffle(shuffled)
        return shuffled


@dataclass
class _WaveLoad:
    start: dt.date
    end: dt.date
    systems: int = 0
    vcpus: float = 0.0
    servers: int = 0
    units: list[int] = field(default_factory=list)


@dataclass
class Packing:
    wave_of: dict[int, int]  # unit id → wave (1-based)
    waves: list[tuple[dt.date, dt.date]]
    rejected: dict[int, tuple[str, str]]  # unit id → reason (English, Chinese)
    warnings: list[str]
    short: set[int] = field(default_factory=set)  # rejected units that wait for cloud capacity
    headroom: Headroom | None = None


def wave_dates(params: PlanParams, index: int) -> tuple[dt.date, dt.date]:
    """Start and end (inclusive) of wave ``index`` (1-based)."""
    start = params.start + dt.timedelta(days=(index - 1) * params.wave_days)
    return start, start + dt.timedelta(days=params.wave_days - 1)


def pack(order: Iterable[Unit], params: PlanParams, platforms: Sequence[Platform],
         fixed: dict[int, int] | None = None) -> Packing:
    """Place units first-fit into waves; units of ``fixed`` keep their wave and later units start after. Cloud
    capacity is counted wave by wave with the platforms' planned expansions (``capacity.Headroom``): a unit
    too big for what is free now waits for the wave its expansion makes room in."""
    headroom = Headroom(platforms, params)
    limit_n = params.max_systems_per_wave or math.inf
    limit_v = params.max_vcpus_per_wave or math.inf
    waves: list[_WaveLoad] = []
    wave_of: dict[int, int] = {}
    rejected: dict[int, tuple[str, str]] = {}
    warnings: list[str] = []
    fixed = fixed or {}

    def open_wave() -> _WaveLoad:
        start, end = wave_dates(params, len(waves) + 1)
        waves.append(_WaveLoad(start, end))
        return waves[-1]

    def place(unit: Unit, index: int) -> None:
        wave = waves[index]
        wave.systems += unit.size
        wave.vcpus += unit.vcpus
        wave.servers += unit.servers
        wave.units.append(unit.id)
        wave_of[unit.id] = index + 1
        headroom.place(unit.platform_need, index + 1)

    ordered = list(order)
    for unit in ordered:
        if unit.id in fixed:
            while len(waves) < fixed[unit.id]:
                open_wave()
            place(unit, fixed[unit.id] - 1)
    first_open = len(waves)
    short_units: set[int] = set()
    for unit in ordered:
        if unit.id in fixed:
            continue
        earliest = headroom.earliest(unit.platform_need)
        if earliest is None:
            rejected[unit.id] = _no_capacity(unit, headroom)
            short_units.add(unit.id)
            continue
        oversized = unit.size > limit_n or unit.vcpus > limit_v
        index = max(first_open, earliest - 1)
        search_from = max(len(waves), earliest - 1)
        while True:
            if index >= search_from + WINDOW_SEARCH_WAVES:
                rejected[unit.id] = (
                    f"no wave within {WINDOW_SEARCH_WAVES} waves after the last one matches its downtime window",
                    f"最后一批之后{WINDOW_SEARCH_WAVES}个批次内没有符合其可停机窗口的批次")
                break
            empty = _WaveLoad(*wave_dates(params, index + 1))
            wave = waves[index] if index < len(waves) else empty
            small = params.first_waves_small and index < SMALL_WAVES
            fits = (not small or (unit.simple and wave.servers + unit.servers <= SMALL_WAVE_SERVERS)) and (
                (oversized and wave.systems == 0) or (
                    not oversized and wave.systems + unit.size <= limit_n and wave.vcpus + unit.vcpus <= limit_v))
            if fits and window_allows(unit.window, wave.start, wave.end):
                while len(waves) <= index:  # waves are created only when something lands in them
                    open_wave()
                place(unit, index)
                if oversized:
                    warnings.append(f"move group {unit.id} ({unit.size} systems, {unit.vcpus} vCPU) exceeds the "
                                    f"per-wave limit; it has wave {index + 1} to itself")
                break
            index += 1
        while first_open < len(waves) and (
                waves[first_open].systems >= limit_n or waves[first_open].vcpus >= limit_v
                or len(waves) - first_open > LOOKBACK_WAVES):
            first_open += 1
    used = max(wave_of.values(), default=0)
    return Packing(wave_of, [(w.start, w.end) for w in waves[:used]], rejected, warnings, short_units, headroom)


def _no_capacity(unit: Unit, headroom: Headroom) -> tuple[str, str]:
    """Why ``unit`` waits: the platforms it does not fit on, even once their planned expansions are in."""
    short = []
    for name, need in unit.platform_need.items():
        free = headroom.final(name)
        if any(n > f + 1e-9 for n, f in zip(need, free, strict=True)):
            short.append((name, need, free))
    return ("no free capacity on " + "; ".join(
                f"{name} (needs {v:.0f} vCPU/{m:.0f} GB/{d:.0f} GB disk, free {fv:.0f}/{fm:.0f}/{fd:.0f} with "
                "planned expansions)" for name, (v, m, d), (fv, fm, fd) in short),
            "云平台余量不足：" + "；".join(
                f"{name}（需{v:.0f}个vCPU、{m:.0f}GB内存、{d:.0f}GB磁盘，含计划扩容余{fv:.0f}/{fm:.0f}/{fd:.0f}）"
                for name, (v, m, d), (fv, fm, fd) in short))


@dataclass
class Evaluation:
    objective_cny: float
    closes_after: dict[str, int | None]  # room → wave (None: never closes)


def evaluate(units: Sequence[Unit], packing: Packing, weights: dict[str, float], blocked: set[str],
             params: PlanParams) -> Evaluation:
    """Savings over the horizon and each room's closing wave, for a packing."""
    last: dict[str, int] = dict.fromkeys(weights, 0)
    blocked = set(blocked)
    for unit in units:
        wave = packing.wave_of.get(unit.id)
        for room in unit.rooms:
            if wave is None:
                blocked.add(room)
            elif room in last:
                last[room] = max(last[room], wave)
    horizon = params.horizon_waves
    years_per_wave = params.wave_days / 365
    closes: dict[str, int | None] = {}
    objective = 0.0
    for room, weight in weights.items():
        if room in blocked:
            closes[room] = None
            continue
        closes[room] = last[room]
        objective += weight * max(0, horizon - last[room]) * years_per_wave
    return Evaluation(objective, closes)


BOUND_STEPS_PER_WAVE = 64


def upper_bound(units: Sequence[Unit], weights: dict[str, float], blocked: set[str], params: PlanParams) -> float:
    """An upper bound on any plan's savings (see the module docstring for the proof)."""
    closable = {r: w for r, w in weights.items() if r not in blocked}
    years_per_wave = params.wave_days / 365
    if not params.max_systems_per_wave and not params.max_vcpus_per_wave:
        # No per-wave limit: the best any plan can do is close every room with systems after wave 1.
        occupied = {r for u in units for r in u.rooms}
        return sum(w * max(0, params.horizon_waves - (1 if r in occupied else 0)) * years_per_wave
                   for r, w in closable.items())
    bounds = []
    for limit, resource in ((params.max_systems_per_wave, "systems"), (params.max_vcpus_per_wave, "vcpus")):
        if not limit:
            continue
        load = dict.fromkeys(closable, 0.0)
        for unit in units:
            touched = [r for r in unit.rooms if r in closable]
            if not touched:
                continue
            # An oversized group fills a wave on its own: it counts as one wave of work at most.
            amount = min(1.0, (unit.size if resource == "systems" else unit.vcpus) / limit) / len(touched)
            for room in touched:
                load[room] += amount
        rooms = [(closable[r], load[r]) for r in sorted(closable)]
        bounds.append(best_subset_value(rooms, params.horizon_waves, BOUND_STEPS_PER_WAVE) * years_per_wave)
    return min(bounds)


def best_subset_value(rooms: Sequence[tuple[float, float]], horizon: float, steps: int) -> float:
    """max over subsets S of Σ_{r∈S} w_r (horizon − C_r), C_r the prefix sums of work in Smith's order of
    S, each room's work (weight, work) rounded down to 1/``steps``; exact over the rounded works."""
    total_steps = math.floor(horizon * steps + 1e-9)
    items = [(w, math.floor(p * steps + 1e-9)) for w, p in rooms if w > 0]
    items.sort(key=lambda item: -math.inf if item[1] == 0 else -item[0] / item[1])
    best = np.full(total_steps + 1, -np.inf)
    best[0] = 0.0
    finish = horizon - np.arange(total_steps + 1) / steps  # what a room finishing at that step saves per unit
    for weight, work in items:
        if work > total_steps:
            continue
        reach = best[: total_steps + 1 - work] + weight * finish[work:]
        np.maximum(best[work:], reach, out=best[work:])
    return float(best.max())
