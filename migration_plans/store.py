"""Plans in the database: save a planner result as a new version, find plans, compare versions.

A plan is named; creating a plan under an existing name makes the next version and supersedes the
previous one. Waves already started (status ``started``/``done``, or whose start date has passed)
are handed to the planner as fixed, so re-planning never moves work that is under way. Every saved
plan writes an audit row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from inventory.audit import Actor, record
from inventory.errors import NotFoundError
from inventory.models import (
    AuditAction,
    BusinessSystem,
    ItemStatus,
    Plan,
    PlanItem,
    PlanStatus,
    PlanWave,
    WaveStatus,
)
from inventory.models.enums import SystemStatus
from migration_plans.planning.document import decision_from_item, plan_document
from migration_plans.planning.model import Estate, MigrationPlan, SystemFacts
from migration_plans.planning.planner import FixedWave


class PlanNotFoundError(NotFoundError):
    """No plan matches the reference given."""


def resolve(session: Session, ref: str) -> Plan:
    """The plan ``name`` (its newest version) or ``name@version``."""
    name, _, version = ref.partition("@")
    query = select(Plan).where(Plan.name == name)
    if version:
        if not version.isdigit() or len(version) > 9:  # beyond the database's integers: no such plan
            raise PlanNotFoundError(f"{ref!r}: the version after @ must be a number (at most 9 digits)")
        query = query.where(Plan.version == int(version))
    found = session.exec(query.order_by(col(Plan.version).desc())).first()
    if found is None:
        raise PlanNotFoundError(f"no plan {ref!r}; `shangyun plan list` shows the plans")
    return found


def named_or_current(session: Session, ref: str | None) -> Plan:
    """Plan ``ref`` (see ``resolve``), or without one the newest current plan."""
    if ref is not None:
        return resolve(session, ref)
    found = session.exec(select(Plan).where(Plan.status == PlanStatus.CURRENT)
                         .order_by(col(Plan.created_at).desc())).first()
    if found is None:
        raise PlanNotFoundError("no current plan: `shangyun plan create` first, or name one with --plan")
    return found


def list_plans(session: Session) -> list[Plan]:
    return list(session.exec(select(Plan).order_by(Plan.name, col(Plan.version).desc())))


def started_waves(session: Session, plan: Plan, today: dt.date) -> list[FixedWave]:
    """The waves of ``plan`` already under way, with their systems and the decisions they were started
    with, for re-planning."""
    waves = session.exec(select(PlanWave).where(PlanWave.plan_id == plan.id).order_by(col(PlanWave.index))).all()
    codes: dict[int, str] = dict(
        session.execute(sa.select(BusinessSystem.id, BusinessSystem.code)).all())  # type: ignore[call-overload]
    stored = {item["system"]: item for wave in plan.document.get("waves", []) for item in wave["items"]}
    fixed = []
    for wave in waves:
        if wave.status == WaveStatus.PLANNED and wave.start > today:
            continue
        items = session.exec(select(PlanItem.system_id).where(PlanItem.wave_id == wave.id)).all()
        systems = tuple(sorted(codes[i] for i in items))
        fixed.append(FixedWave(wave.index, systems, {c: decision_from_item(stored[c]) for c in systems if c in stored}))
    return fixed


def save_plan(session: Session, result: MigrationPlan, estate: Estate, actor: Actor,
              fixed: list[FixedWave] | None = None) -> Plan:
    """Store ``result`` as the next version of its name (waves, items, the §4 document) and audit it."""
    name = result.params.name
    previous = session.exec(select(Plan).where(Plan.name == name, Plan.status == PlanStatus.CURRENT)).first()
    version = (previous.version + 1) if previous else 1
    if previous:
        previous.status = PlanStatus.SUPERSEDED
        session.add(previous)
    document = plan_document(result, estate.systems)
    document["version"] = version
    plan = Plan(name=name, version=version, created_at=dt.datetime.now(dt.UTC), created_by=actor.name,
                start=result.params.start, wave_days=result.params.wave_days, params=document["params"],
                objective_cny=result.objective_cny, upper_bound_cny=result.upper_bound_cny, document=document)
    session.add(plan)
    session.flush()
    started = {w.index for w in fixed or []}
    wave_ids: dict[int, int] = {}
    for wave in result.waves:
        row = PlanWave(plan_id=plan.id, index=wave.index, start=wave.start, end=wave.end,  # type: ignore[arg-type]
                       status=WaveStatus.STARTED if wave.index in started else WaveStatus.PLANNED)
        session.add(row)
        session.flush()
        wave_ids[wave.index] = row.id  # type: ignore[assignment]
    system_ids: dict[str, int] = dict(
        session.execute(sa.select(BusinessSystem.code, BusinessSystem.id)).all())  # type: ignore[call-overload]
    kept_status: dict[int, str] = {}  # items of started waves keep how far they got
    if previous is not None and started:
        kept_status = dict(session.execute(sa.select(PlanItem.system_id, PlanItem.status).where(  # type: ignore[call-overload]
            PlanItem.plan_id == previous.id)).all())
    items: list[dict[str, Any]] = []
    by_code = {item["system"]: item for wave in document["waves"] for item in wave["items"]}
    by_code |= {item["system"]: item for item in document["not_migrated"]}
    for code, decision in result.decisions.items():
        wave_index = result.wave_of.get(code)
        item = by_code[code]
        items.append({"plan_id": plan.id, "wave_id": wave_ids.get(wave_index) if wave_index else None,
                      "system_id": system_ids[code], "strategy": decision.strategy.value, "target": item["target"],
                      "move_group": item["move_group"], "zone": item.get("zone"),
                      "destination": (item.get("destination") or {}).get("platform"),
                      "reason_en": decision.reason_en[:2000],
                      "reason_zh": decision.reason_zh[:2000], "flags": decision.flags or None,
                      "status": (kept_status.get(system_ids[code], ItemStatus.PLANNED) if wave_index in started
                                 else ItemStatus.PLANNED) if wave_index else ItemStatus.NOT_MIGRATED})
    if items:
        session.execute(sa.insert(PlanItem), items)
    summary = {"version": version, "waves": len(result.waves), "systems": len(result.decisions),
               "in_waves": len(result.wave_of), "objective_cny": round(result.objective_cny, 2),
               "upper_bound_cny": round(result.upper_bound_cny, 2), "kept_waves": sorted(started)}
    record(session, actor, "plan", f"{name}@{version}", AuditAction.CREATE, None, summary)
    return plan


@dataclass
class PlanDiff:
    """What changed between two plan documents, system by system."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: list[tuple[str, Any, Any]] = field(default_factory=list)  # system, wave before, wave after
    restrategised: list[tuple[str, str, str]] = field(default_factory=list)
    resized: list[tuple[str, Any, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.moved or self.restrategised or self.resized)


def _placements(document: dict[str, Any]) -> dict[str, tuple[int | None, str, str | None]]:
    out: dict[str, tuple[int | None, str, str | None]] = {}
    for wave in document["waves"]:
        for item in wave["items"]:
            target = item.get("target") or {}
            out[item["system"]] = (wave["index"], item["strategy"], target.get("flavor"))
    for item in document["not_migrated"]:
        target = item.get("target") or {}
        out[item["system"]] = (None, item["strategy"], target.get("flavor"))
    return out


def diff_documents(before: dict[str, Any], after: dict[str, Any]) -> PlanDiff:
    """Systems added, removed, moved between waves, given another strategy or another flavor."""
    a, b = _placements(before), _placements(after)
    diff = PlanDiff(sorted(set(b) - set(a)), sorted(set(a) - set(b)))
    for code in sorted(set(a) & set(b)):
        (wave_a, strategy_a, flavor_a), (wave_b, strategy_b, flavor_b) = a[code], b[code]
        if wave_a != wave_b:
            diff.moved.append((code, wave_a, wave_b))
        if strategy_a != strategy_b:
            diff.restrategised.append((code, strategy_a, strategy_b))
        elif flavor_a != flavor_b:
            diff.resized.append((code, flavor_a, flavor_b))
    return diff


def apply_zombie_evidence(session: Session, systems: list[SystemFacts], actor: Actor) -> list[Any]:
    """Store each system's zombie evidence through the audited services: a zombie is marked
    ``zombie``; a system marked zombie whose use has risen is set back to ``running`` (measured beats
    declared). Returns the evidence found (zombies and idle candidates)."""
    from inventory import services
    from migration_plans.planning.zombies import zombie_evidence

    found = []
    for system in systems:
        evidence = zombie_evidence(system)
        row = session.exec(select(BusinessSystem).where(BusinessSystem.code == system.code)).one()
        changes: dict[str, Any] = {}
        if evidence is not None:
            found.append(evidence)
            stored = row.zombie_evidence or {}
            fresh = evidence.as_json()
            # Rewrite the evidence when the verdict changes, else at most daily: agents report every
            # minute and each report would otherwise become an audit row.
            if stored.get("zombie") != evidence.zombie or stored.get("as_of") != fresh["as_of"]:
                changes["zombie_evidence"] = fresh
            if evidence.zombie and row.status == SystemStatus.RUNNING:
                changes["status"] = SystemStatus.ZOMBIE
        elif (row.status == SystemStatus.ZOMBIE and system.servers
              and all(s.cpu_avg is not None for s in system.servers)):
            changes |= {"status": SystemStatus.RUNNING, "zombie_evidence": None}
        if changes:
            services.update(session=session, actor=actor, obj=row, changes=changes)
    return found


def mark_zombies(session: Session, estate: Estate, actor: Actor) -> list[Any]:
    """Detect and mark zombies across the whole estate (``shangyun zombies``)."""
    return apply_zombie_evidence(session, estate.systems, actor)


def refresh_zombies_of_server(session: Session, server_id: int, actor: Actor) -> list[Any]:
    """Re-judge the systems on one server after it reported new samples."""
    from inventory.models import SystemServer
    from migration_plans.load import load_systems

    system_ids = set(session.exec(select(SystemServer.system_id).where(SystemServer.server_id == server_id)).all())
    if not system_ids:
        return []
    systems, _ = load_systems(session, system_ids=system_ids)
    return apply_zombie_evidence(session, systems, actor)
