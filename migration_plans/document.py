"""A plan as the JSON document of FORMATS.md §4 (other tools read it; fields are never renamed).

Every system appears exactly once: in a wave's items or in ``not_migrated``. Extra fields beyond
FORMATS.md (reasons in both languages, flags, sizing basis, bound and gap) are additions.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from migration_plans.model import Decision, MigrationPlan, Strategy, SystemFacts
from migration_plans.savings import savings_timeline


def _target(decision: Decision) -> dict[str, Any] | None:
    target = decision.target
    if target is None or decision.strategy not in (Strategy.REHOST, Strategy.REPLATFORM):
        return None
    kind = "openstack" if decision.strategy is Strategy.REHOST else "kubernetes"
    return {"platform": kind, "platform_name": target.platform, "flavor": target.flavor, "vcpus": target.vcpus,
            "memory_gb": target.memory_gb, "disk_gb": target.disk_gb, "count": target.count,
            "monthly_cny": target.monthly_cny}


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
    if decision.flags:
        item["flags"] = decision.flags
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
    timeline = savings_timeline(plan)
    return {
        "plan": plan.params.name,
        "start": plan.params.start.isoformat(),
        "wave_days": plan.params.wave_days,
        "waves": waves,
        "not_migrated": not_migrated,
        "rooms": [{"room": r.room, "closes_after_wave": r.closes_after_wave, "annual_cost_cny": round(r.annual_cny, 2),
                   "cost_from_defaults": r.cost_from_defaults, "blocked_by": r.blocked_by} for r in plan.rooms],
        "savings": {
            "annual_cny_after_plan": timeline[-1].room_cost_stopped_cny if timeline else 0.0,
            "by_wave": [{"wave": t.wave, "cumulative_annual_cny": t.room_cost_stopped_cny,
                         "rooms_closed": list(t.rooms_closed), "cloud_annual_cny": t.cloud_cost_added_cny,
                         "net_annual_cny": t.net_cny} for t in timeline],
            "objective_cny": round(plan.objective_cny, 2),
            "upper_bound_cny": round(plan.upper_bound_cny, 2),
            "gap": round(plan.gap, 4),
            "horizon_waves": plan.params.horizon_waves,
        },
        "params": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in asdict(plan.params).items()},
        "warnings": plan.warnings,
    }
