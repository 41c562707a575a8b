"""The planner: ``plan(estate, params) → MigrationPlan``, a pure function over plain data.

Steps: a strategy per system (``strategies``), move groups from tight dependencies (``groups``),
then waves ordered to close rooms early (``waves``), with the savings upper bound. Rules and the
ordering are parameters, so other rules or optimisers can be plugged in and compared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from inventory.models.enums import Strategy
from inventory.workcalendar import past_known
from migration_plans.planning.groups import move_groups
from migration_plans.planning.model import (
    Decision,
    Estate,
    MigrationPlan,
    PlanParams,
    RoomClosure,
    Shortfall,
    SystemFacts,
    Wave,
)
from migration_plans.planning.savings import fiscal_years, savings_model
from migration_plans.planning.shortfall import shortfalls
from migration_plans.planning.sizing import unit_prices
from migration_plans.planning.strategies import DEFAULT_RULES, Rule, RuleContext, decide, level_of
from migration_plans.planning.waves import Ordering, RoomClosingOrder, Unit, evaluate, pack, upper_bound
from migration_plans.planning.windows import DayRule, parse_window


@dataclass(frozen=True)
class FixedWave:
    """A wave already started: its systems stay in it when re-planning, with the decisions (strategy,
    target) they were started with: work under way is neither moved nor re-sized."""

    index: int
    systems: tuple[str, ...]
    decisions: dict[str, Decision] = field(default_factory=dict)


def _is_simple(systems: Sequence[SystemFacts], tight: bool) -> bool:
    """Low complexity, for the small first waves: one system, ≤ 2 servers, MLPS ≤ 2, no tight links."""
    return len(systems) == 1 and len(systems[0].servers) <= 2 and level_of(systems[0]) <= 2 and not tight


def _group_window(rules: tuple[DayRule, ...], codes: list[str], warnings: list[str],
                  start: dt.date) -> DayRule | None:
    """The days on which every system of a move group may be cut over (the overlap of their windows). If
    the windows never coincide in the year from ``start`` (a 工作日 member and a 节假日 one), a named warning,
    and the most restrictive member's window: the group keeps its natural wave instead of waiting for a
    day that never comes."""
    if not rules:
        return None
    if len(rules) == 1:
        return rules[0]

    def every(day: dt.date) -> bool:
        return all(rule(day) for rule in rules)

    year = [start + dt.timedelta(days=i) for i in range(366)]
    if any(every(day) for day in year):
        return every
    strictest = min(rules, key=lambda rule: sum(rule(day) for day in year))
    warnings.append(f"move group {', '.join(codes)}: downtime windows never coincide; the most restrictive "
                    "member's window is used, coordinate the cutover")
    return strictest


def build_units(estate: Estate, decisions: dict[str, Decision], groups: dict[str, int],
                warnings: list[str], start: dt.date) -> list[Unit]:
    """One unit per move group, with what the sequencer needs to know about it."""
    by_code = {s.code: s for s in estate.systems}
    members: dict[int, list[str]] = {}
    for code, group in groups.items():
        members.setdefault(group, []).append(code)
    tight_systems = {d.system for d in estate.dependencies if d.tight} | {
        d.depends_on for d in estate.dependencies if d.tight}
    units = []
    for group, codes in sorted(members.items()):
        codes.sort()
        systems = [by_code[c] for c in codes]
        need: dict[str, tuple[float, float, float]] = {}
        vcpus = 0.0
        for code in codes:
            target = decisions[code].target
            if target is None or decisions[code].strategy.platform_kind is None:
                continue
            v, m, d = need.get(target.platform, (0.0, 0.0, 0.0))
            need[target.platform] = (v + target.vcpus, m + target.memory_gb, d + target.disk_gb)
            vcpus += target.vcpus
        rules = []
        for system in systems:
            rule, note = parse_window(system.downtime_window)
            if note:
                warnings.append(f"{system.code}: {note}")
            if rule is not None:
                rules.append(rule)
        window = _group_window(tuple(rules), codes, warnings, start)
        units.append(Unit(group, codes, frozenset().union(*(s.rooms for s in systems)),
                          min(s.department for s in systems), sum(len(s.servers) for s in systems), vcpus, need,
                          _is_simple(systems, any(c in tight_systems for c in codes)), window))
    return units


def plan(estate: Estate, params: PlanParams, *, rules: Sequence[Rule] = DEFAULT_RULES,
         ordering: Ordering | None = None, fixed: Sequence[FixedWave] = ()) -> MigrationPlan:
    """Plan every system of ``estate``: each lands in exactly one wave or in the not-migrated list."""
    warnings: list[str] = []
    ctx = RuleContext(estate.platforms, params)
    kept = {code: d for wave in fixed for code, d in wave.decisions.items()}
    decisions = {system.code: kept.get(system.code) or decide(system, ctx, rules) for system in estate.systems}
    groups, loose = move_groups(decisions, estate.dependencies)
    units = build_units(estate, decisions, groups, warnings, params.start)
    weights = {code: room.annual_cny for code, room in estate.rooms.items()}
    blockers: dict[str, list[str]] = {}
    for system in estate.systems:
        if decisions[system.code].strategy is Strategy.RETAIN:
            for room in system.rooms:
                blockers.setdefault(room, []).append(system.code)
    fixed_wave = {s: w.index for w in fixed for s in w.systems}
    fixed_units = {u.id: max(fixed_wave[c] for c in u.systems if c in fixed_wave)
                   for u in units if any(c in fixed_wave for c in u.systems)}
    order = (ordering or RoomClosingOrder()).order(units, {r: w for r, w in weights.items() if r not in blockers},
                                                   params)
    packing = pack(order, params, estate.platforms, fixed_units)
    warnings.extend(packing.warnings)
    rooms_of = {s.code: s.rooms for s in estate.systems}
    for unit in units:
        reason = packing.rejected.get(unit.id)
        if reason is None:
            continue
        reason_en, reason_zh = reason
        for code in unit.systems:
            decision = decisions[code]
            decision.flags.append(f"not placed: {reason_en}")
            decision.reason_zh += f"；未排入批次：{reason_zh}"
            decision.reason_en += f"; not placed in a wave: {reason_en}"
            for room in rooms_of[code]:
                blockers.setdefault(room, []).append(code)
    evaluation = evaluate(units, packing, weights, set(blockers), params)
    bound = upper_bound(units, weights, {r for r, codes in blockers.items() if any(
        decisions[c].strategy is Strategy.RETAIN for c in codes)}, params)
    wave_of = {code: packing.wave_of[u.id] for u in units if u.id in packing.wave_of for code in u.systems}
    waves = []
    for index, (start, end) in enumerate(packing.waves, start=1):
        waves.append(Wave(index, start, end, sorted(c for c, w in wave_of.items() if w == index)))
    rooms = [RoomClosure(code, weights[code], evaluation.closes_after[code], sorted(set(blockers.get(code, []))),
                         estate.rooms[code].from_defaults) for code in sorted(weights)]
    warnings.extend(_bad_input_warnings(estate, decisions))
    calendar_note = past_known(d for wave in waves for d in (wave.start, wave.end))
    if calendar_note:
        warnings.append(f"wave dates: {calendar_note}")
    savings = savings_model(params.name, params.start, waves, wave_of, decisions, estate.systems, estate.rooms,
                            evaluation.closes_after, blockers, estate.rates,
                            fiscal_years(params.start, waves, params.horizon_years))
    warnings.extend(savings.warnings)
    short = shortfalls(order, params, estate.platforms, fixed_units, packing)
    warnings.extend(shortfall_warning(s) for s in short)
    return MigrationPlan(params, decisions, waves, groups, loose, rooms, evaluation.objective_cny, bound,
                         warnings, wave_of, savings, short, list(estate.platforms))


def shortfall_warning(short: Shortfall) -> str:
    """One line for a platform the waiting systems need more of."""
    line = (f"capacity: {len(short.systems)} system(s) wait for {short.platform}; add {short.vcpus} physical vCPU, "
            f"{short.memory_gb:.0f} GB memory, {short.storage_gb / 1024:.1f} TB storage")
    if short.ready_by is None:
        return line + " (other limits still hold some of them back)"
    return (line + f" in service by {short.ready_by} (wave {short.ready_wave}) and the programme finishes by wave "
            f"{short.finish_wave} ({short.finish_on}); try it: plan create --assume-expansion "
            f"'{short.platform}:{short.ready_by}:+{short.vcpus},+{short.memory_gb:.0f},+{short.storage_gb / 1024:.1f}'")


def _bad_input_warnings(estate: Estate, decisions: dict[str, Decision]) -> list[str]:
    """Named warnings for inputs a figure would otherwise rest on silently."""
    out = []
    for platform in estate.platforms:
        if unit_prices(platform).basis == "default":
            out.append(f"platform {platform.name} gives no unit prices (vCPU月单价, 内存月单价, 存储月单价): "
                       "DOMAIN.md's proxies are used where a flavor has no price (marked default)")
    uncovered = sorted(code for code, d in decisions.items() if any(f.startswith("no flavors cover") for f in d.flags))
    if uncovered:
        out.append(f"{len(uncovered)} system(s) whose demand no combination of flavors covers (relocated): "
                   + ", ".join(uncovered[:20]) + (" …" if len(uncovered) > 20 else ""))
    return out


__all__ = ["FixedWave", "plan"]
