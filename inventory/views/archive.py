"""The archive of one system (档案库): everything the record holds about it, as one dossier.

- the survey's facts about the system, and where they came from (its audit history: which import or
  service wrote each change, who and when);
- its servers with each fact's sources (survey, agent, Ansible, cloud) and their times;
- every plan version that planned it: strategy, target, wave, reasons;
- every migration run of it with its event log, the verification evidence (each check and what was
  compared), the department's sign-off (who and when) and the decommissioning of its sources.

A read model over the system of record: nothing here changes anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from inventory.errors import NotFoundError
from inventory.models import (
    AuditLog,
    BusinessSystem,
    Department,
    MigrationRun,
    Plan,
    PlanItem,
    PlanWave,
    Room,
    RunEvent,
    RunItem,
    Server,
    ServerObservation,
    SystemServer,
)
from inventory.models.enums import AuditAction, EventPhase, EventStatus, ServerStatus
from inventory.views.cells import as_text_cells

SYSTEM_FACTS = ("code", "name", "classified", "mlps_level", "network", "status", "daily_users", "downtime_window",
                "containerized", "special_hardware", "funding", "approved_by", "approved_at", "sharing")
DECOMMISSION_STEPS = ("decommission", "switch_off", "record")
MAX_EVENTS = 2000  # per run item: a dossier is read by people


class SystemNotFoundError(NotFoundError):
    """No such system (or not one the caller may see)."""


@dataclass
class SystemArchive:
    system: dict[str, Any]
    department: str
    history: list[dict[str, Any]] = field(default_factory=list)  # the system's audit rows, oldest first
    servers: list[dict[str, Any]] = field(default_factory=list)  # each with its facts' sources
    plans: list[dict[str, Any]] = field(default_factory=list)  # every plan version that planned it
    runs: list[dict[str, Any]] = field(default_factory=list)  # runs with their event logs
    verifications: list[dict[str, Any]] = field(default_factory=list)
    signoffs: list[dict[str, Any]] = field(default_factory=list)
    decommission: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))  # type: ignore[no-any-return]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def system_archive(session: Session, *, code: str | None = None, system_id: int | None = None,
                   department_id: int | None = None) -> SystemArchive:
    """The dossier of the system ``code`` (or ``system_id``); ``department_id`` limits it to one department."""
    query = select(BusinessSystem)
    query = query.where(BusinessSystem.code == code) if code is not None else query.where(
        col(BusinessSystem.id) == system_id)
    if department_id is not None:
        query = query.where(BusinessSystem.department_id == department_id)
    system = session.exec(query).first()
    if system is None or system.id is None:
        raise SystemNotFoundError(f"no system {code or system_id!r}")
    department = session.get(Department, system.department_id)
    archive = SystemArchive({k: getattr(system, k) for k in SYSTEM_FACTS} | {"zombie_evidence": system.zombie_evidence},
                            department.code if department else "")
    archive.history = [_audit(a) for a in session.exec(
        select(AuditLog).where(AuditLog.entity == "system", AuditLog.entity_id == system.code)
        .order_by(col(AuditLog.at), col(AuditLog.id)))]
    archive.verifications = [{"at": a.at, "by": a.actor, **(a.after or {})} for a in session.exec(
        select(AuditLog).where(AuditLog.entity == "system", AuditLog.entity_id == system.code,
                               AuditLog.action == AuditAction.VERIFY).order_by(col(AuditLog.at), col(AuditLog.id)))]
    servers = session.exec(select(Server, Room.code).join(SystemServer, col(SystemServer.server_id) == Server.id)
                           .join(Room, col(Room.id) == Server.room_id).where(SystemServer.system_id == system.id)
                           .order_by(col(Server.hostname))).all()
    for server, room in servers:
        sources: dict[str, list[dict[str, Any]]] = {}
        for o in session.exec(select(ServerObservation).where(ServerObservation.server_id == server.id)
                              .order_by(col(ServerObservation.field), col(ServerObservation.observed_at))):
            sources.setdefault(o.field, []).append({"source": o.source, "value": o.value, "observed_at": o.observed_at})
        retired = [_audit(a) for a in session.exec(
            select(AuditLog).where(AuditLog.entity == "server", AuditLog.entity_id == server.hostname,
                                   AuditLog.action == AuditAction.UPDATE).order_by(col(AuditLog.at)))
                   if (a.after or {}).get("status") == ServerStatus.RETIRED]
        archive.servers.append({"hostname": server.hostname, "room": room, "status": server.status,
                                "cpu_cores": server.cpu_cores, "memory_gb": server.memory_gb,
                                "storage_gb": server.storage_gb, "os": server.os, "purchase_date": server.purchase_date,
                                "sources": sources})
        archive.decommission += [{"server": server.hostname, **r} for r in retired]
    for planned, plan, wave in session.exec(
            select(PlanItem, Plan, PlanWave).join(Plan, col(Plan.id) == PlanItem.plan_id)
            .outerjoin(PlanWave, col(PlanWave.id) == PlanItem.wave_id).where(PlanItem.system_id == system.id)
            .order_by(col(Plan.created_at), col(Plan.version))).all():
        archive.plans.append({"plan": f"{plan.name}@{plan.version}", "plan_status": plan.status,
                              "created_at": plan.created_at, "created_by": plan.created_by,
                              "wave": wave.index if wave else None, "wave_start": wave.start if wave else None,
                              "wave_end": wave.end if wave else None, "strategy": planned.strategy,
                              "target": planned.target, "reason_zh": planned.reason_zh,
                              "reason_en": planned.reason_en, "flags": planned.flags or [], "status": planned.status})
    runs = select(RunItem, MigrationRun).join(MigrationRun, col(MigrationRun.id) == RunItem.run_id)
    for item, run in session.exec(runs.where(RunItem.system_id == system.id).order_by(col(RunItem.id))).all():
        events = session.exec(select(RunEvent).where(RunEvent.item_id == item.id).order_by(col(RunEvent.counter))
                              .limit(MAX_EVENTS)).all()
        archive.runs.append({"run": run.id, "item": item.id, "wave": run.wave_index, "started_at": run.started_at,
                             "started_by": run.started_by, "strategy": item.strategy, "state": item.state,
                             "error": item.error, "events": [
                                 {"at": e.at, "step": e.step, "phase": e.phase, "status": e.status,
                                  "payload": e.payload} for e in events]})
        for e in events:
            if e.step == "signoff" and e.phase == EventPhase.APPROVE:
                archive.signoffs.append({"run": run.id, "item": item.id, "at": e.at,
                                         "by": (e.payload or {}).get("by")})
            if e.step in DECOMMISSION_STEPS and e.phase == EventPhase.AFTER and e.status == EventStatus.OK:
                archive.decommission.append({"run": run.id, "item": item.id, "step": e.step, "at": e.at,
                                             "result": e.payload})
    return archive


def _audit(row: AuditLog) -> dict[str, Any]:
    return {"at": row.at, "actor": row.actor, "action": row.action, "before": row.before, "after": row.after}


def archive_workbook(archive: SystemArchive, path: Any) -> None:
    """The dossier as an xlsx workbook: one sheet per section (``path`` a file path or a binary stream)."""
    import json

    import openpyxl

    def cell(value: Any) -> Any:
        if isinstance(value, dict | list):
            return json.dumps(_jsonable(value), ensure_ascii=False)[:32000]
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    workbook = openpyxl.Workbook()
    facts = workbook.active
    assert facts is not None
    facts.title = "system 系统"
    facts.append(["field 字段", "value 值"])
    facts.append(["department", archive.department])
    for key, value in archive.system.items():
        facts.append([key, cell(value)])
    sections: list[tuple[str, list[dict[str, Any]]]] = [
        ("history 变更记录", archive.history), ("plans 迁移计划", archive.plans),
        ("verification 功能验证", archive.verifications), ("signoff 签字确认", archive.signoffs),
        ("decommission 下线", archive.decommission)]
    servers = [{k: v for k, v in s.items() if k != "sources"} for s in archive.servers]
    sources = [{"hostname": s["hostname"], "field": f, **o} for s in archive.servers for f, obs in s["sources"].items()
               for o in obs]
    events = [{"run": r["run"], "item": r["item"], **e} for r in archive.runs for e in r["events"]]
    sections += [("servers 服务器", servers), ("sources 数据来源", sources), ("events 执行日志", events)]
    for title, rows in sections:
        sheet = workbook.create_sheet(title)
        columns = list(dict.fromkeys(k for row in rows for k in row))
        sheet.append(columns or ["(none 无)"])
        for row in rows:
            sheet.append([cell(row.get(c)) for c in columns])
    as_text_cells(workbook).save(path)
