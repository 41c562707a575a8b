"""A plan as the JSON document of FORMATS.md §4 (other tools read it; fields are never renamed).

Every system appears exactly once: in a wave's items or in ``not_migrated``. Extra fields beyond
FORMATS.md are additions:

- reasons in both languages, flags, the sizing basis and window;
- each target's instance groups, demand, allocation and waste (allocation beyond demand, % of demand);
- the wave order's objective, its bound and gap;
- ``finance``: the savings model (``migration_plans.planning.savings``), in 万元.

A target keeps FORMATS.md's ``flavor``/``vcpus``/``memory_gb``/``count`` as its largest instance group (one
flavor × count, as before). ``instances`` lists every group, and ``allocated`` gives the totals.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from inventory.models.enums import PlatformKind, Strategy
from migration_plans.planning.model import Decision, InstanceGroup, MigrationPlan, SystemFacts, Target
from migration_plans.planning.savings import savings_timeline


def target_json(target: Target) -> dict[str, Any]:
    """A target as the plan document holds it."""
    first = target.groups[0]
    waste_v, waste_m = target.waste()
    data: dict[str, Any] = {
        "platform": target.kind, "platform_name": target.platform, "flavor": first.flavor, "vcpus": first.vcpus,
        "memory_gb": first.memory_gb, "count": first.count, "disk_gb": target.disk_gb,
        "monthly_cny": target.monthly_cny, "price_basis": target.price_basis,
        "instances": [asdict(g) for g in target.groups],
        "allocated": {"vcpus": round(target.vcpus, 2), "memory_gb": round(target.memory_gb, 2),
                      "instances": target.count},
        "demand": {"vcpus": target.demand_vcpus, "memory_gb": target.demand_memory_gb},
        "waste_pct": {"vcpus": round(waste_v * 100, 1), "memory_gb": round(waste_m * 100, 1)},
    }
    if target.kind == PlatformKind.KUBERNETES:
        data["replicas"] = first.count
        data["requests"] = {"cpu": f"{round(first.vcpus * 1000)}m", "memory": f"{round(first.memory_gb * 1024)}Mi"}
    return data


def target_from_json(data: dict[str, Any]) -> Target:
    """The inverse of ``target_json`` (documents written before instance groups read as one group)."""
    groups = tuple(InstanceGroup(g["flavor"], float(g["vcpus"]), float(g["memory_gb"]), int(g["count"]),
                                 float(g["monthly_cny"])) for g in data.get("instances") or [])
    if not groups:
        count = int(data.get("count") or 1)
        groups = (InstanceGroup(str(data["flavor"]), float(data["vcpus"]), float(data["memory_gb"]), count,
                                float(data.get("monthly_cny") or 0.0) / count),)
    demand = data.get("demand") or {}
    return Target(str(data["platform_name"]), str(data.get("platform") or "openstack"), groups,
                  float(data.get("disk_gb") or 0.0), float(data.get("monthly_cny") or 0.0),
                  float(demand.get("vcpus") or 0.0), float(demand.get("memory_gb") or 0.0),
                  str(data.get("price_basis") or "data"))


def instances_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per instance (or replica group) to create: flavor, vcpus, memory_gb (per instance)."""
    target = target_from_json(data)
    if target.kind == PlatformKind.KUBERNETES:
        return [asdict(target.groups[0])]
    return [{"flavor": g.flavor, "vcpus": g.vcpus, "memory_gb": g.memory_gb} for g in target.groups
            for _ in range(g.count)]


def target_allocation(data: dict[str, Any]) -> tuple[float, float, float]:
    """A stored target's vCPUs, memory and disk in all."""
    target = target_from_json(data)
    return target.vcpus, target.memory_gb, target.disk_gb


def _target(decision: Decision) -> dict[str, Any] | None:
    if decision.target is None or decision.strategy.platform_kind is None:
        return None
    return target_json(decision.target)


def _item(plan: MigrationPlan, decision: Decision, system: SystemFacts) -> dict[str, Any]:
    item: dict[str, Any] = {
        "system": decision.system,
        "name": system.name,
        "strategy": decision.strategy.value,
        "target": _target(decision),
        "servers": [s.hostname for s in system.servers],
        "move_group": plan.move_groups.get(decision.system),
        "reason": decision.reason_en,
        "reason_zh": decision.reason_zh,
    }
    if decision.sized_from:
        item["sized_from"] = decision.sized_from
    if decision.sizing_window:
        first, last, days = decision.sizing_window
        item["sizing_window"] = {"from": first.isoformat(), "to": last.isoformat(), "days": days}
    if decision.flags:
        item["flags"] = decision.flags
    if decision.destination:
        item["destination"] = {"platform": decision.destination, "network": "政务内网"}
    if decision.zone:
        item["zone"] = decision.zone
    if decision.system in plan.loose_dependencies:
        item["loose_dependencies"] = plan.loose_dependencies[decision.system]
    return item


def plan_document(plan: MigrationPlan, systems: list[SystemFacts]) -> dict[str, Any]:
    """FORMATS.md §4 for ``plan``."""
    by_code = {s.code: s for s in systems}
    waves = []
    for wave in plan.waves:
        waves.append({"index": wave.index, "start": wave.start.isoformat(), "end": wave.end.isoformat(),
                      "items": [_item(plan, plan.decisions[c], by_code[c]) for c in wave.systems]})
    not_migrated = [_item(plan, d, by_code[c]) for c, d in sorted(plan.decisions.items()) if c not in plan.wave_of]
    cloud_by_wave: dict[int, float] = {}
    for code, wave_index in plan.wave_of.items():
        decision = plan.decisions[code]
        if decision.target is not None and decision.strategy.platform_kind is not None:
            cloud_by_wave[wave_index] = cloud_by_wave.get(wave_index, 0.0) + decision.target.monthly_cny * 12
    timeline = savings_timeline([(r.room, r.annual_cny, r.closes_after_wave) for r in plan.rooms], cloud_by_wave,
                                len(plan.waves))
    document: dict[str, Any] = {
        "plan": plan.params.name,
        "start": plan.params.start.isoformat(),
        "wave_days": plan.params.wave_days,
        "waves": waves,
        "not_migrated": not_migrated,
        "rooms": [{"room": r.room, "closes_after_wave": r.closes_after_wave, "annual_cost_cny": round(r.annual_cny, 2),
                   "cost_from_defaults": r.cost_from_defaults, "blocked_by": r.blocked_by} for r in plan.rooms],
        "savings": {
            "note": "run rate after each wave: annual room cost stopped and cloud cost added, in CNY, before "
                    "finance's N+1 rule; the fiscal years are under `finance`",
            "annual_cny_after_plan": timeline[-1].room_cost_stopped_cny if timeline else 0.0,
            "by_wave": [{"wave": t.wave, "cumulative_annual_cny": t.room_cost_stopped_cny,
                         "rooms_closed": list(t.rooms_closed), "cloud_annual_cny": t.cloud_cost_added_cny,
                         "net_annual_cny": t.net_cny} for t in timeline],
            "objective": "room cost avoided over the horizon at run rate (CNY): what the wave order maximises",
            "objective_cny": round(plan.objective_cny, 2),
            "upper_bound_cny": round(plan.upper_bound_cny, 2),
            "gap": round(plan.gap, 4),
            "horizon_waves": plan.params.horizon_waves,
        },
        "params": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in asdict(plan.params).items()},
        "warnings": plan.warnings,
    }
    if plan.savings is not None:
        document["finance"] = plan.savings.as_json()
    document["capacity"] = capacity_json(plan)
    return document


def capacity_json(plan: MigrationPlan) -> dict[str, Any]:
    """The expansions the plan counted on (declared or assumed) and what the systems still waiting need."""
    return {
        "note": "expansions count from the first wave starting on or after their day; vcpus are physical "
                "(the plan counts them × the platform's overcommit); memory and storage in GB",
        "expansions": [{"platform": p.name, "ready_on": e.ready_on.isoformat(),
                        "vcpus": round(e.vcpus / p.cpu_ratio, 2), "memory_gb": e.memory_gb,
                        "storage_gb": e.storage_gb, "assumed": e.assumed}
                       for p in plan.platforms for e in p.expansions],
        "shortfalls": [{"platform": s.platform, "systems": list(s.systems), "vcpus": s.vcpus,
                        "memory_gb": s.memory_gb, "storage_gb": s.storage_gb,
                        "ready_by": s.ready_by.isoformat() if s.ready_by else None, "ready_wave": s.ready_wave,
                        "finish_wave": s.finish_wave, "finish_on": s.finish_on.isoformat() if s.finish_on else None}
                       for s in plan.shortfalls],
    }


def decision_from_item(item: dict[str, Any]) -> Decision:
    """A stored plan item as the planner's decision (for waves kept when re-planning)."""
    target = target_from_json(item["target"]) if item.get("target") else None
    decision = Decision(item["system"], Strategy(item["strategy"]), item.get("reason_zh") or "",
                        item.get("reason") or "", target, item.get("sized_from"), list(item.get("flags") or []),
                        destination=(item.get("destination") or {}).get("platform"), zone=item.get("zone"))
    return decision
