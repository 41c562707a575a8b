"""Capacity requests at the database edge: submit (decided at once), review the queue, list overdue.

Decisions on one platform are taken one at a time: each locks the platform's row before it reads what is
in use (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the database's write lock, taken by the first
statement as ``BEGIN IMMEDIATE`` would), and commits before the next may read. A quota is raised on the
platform only after the approval is committed; if the raise fails the request is marked so (queued,
with the reason), which errs on the safe side.

Department quotas come from ``SHANGYUN_DEPARTMENT_QUOTA_VCPUS`` / ``…_MEMORY_GB`` / ``…_STORAGE_GB``.
What a department holds on a platform is its cloud instances (project ``dept-<code>`` or its code)
plus the requests already approved for it there.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from drivers.errors import DriverError
from inventory import clock, services
from inventory.audit import Actor
from inventory.capacity import allocatable
from inventory.errors import InvalidInputError
from inventory.models import BusinessSystem, CapacityRequest, CloudInstance, CloudPlatform, Department
from inventory.models.enums import CapacityRequestStatus, PlatformKind
from inventory.settings import get_department_quota
from scheduler.admission import RESOURCES, Ask, Decision, Situation, admit, due_date, normalised
from scheduler.forecast_data import platform_forecasts
from scheduler.room_data import newest_current_plan

OPEN = ("approved", "pending", "queued")


@dataclass(frozen=True)
class RequestRow:
    request: CapacityRequest
    department: str
    platform: str
    system: str | None  # the code of the system it is for, when one was named
    due: dt.date
    overdue: bool


def _amount(request: CapacityRequest) -> dict[str, float]:
    return {"vcpus": float(request.vcpus), "memory_gb": request.memory_gb, "storage_gb": request.storage_gb}


def situation(session: Session, department: Department, platform: CloudPlatform, today: dt.date,
              exclude: int | None = None) -> Situation:
    """Everything ``admit`` weighs for ``department`` on ``platform``."""
    assert department.id is not None and platform.id is not None
    projects = [f"dept-{department.code.lower()}", department.code]
    in_use = dict.fromkeys(RESOURCES, 0.0)
    for instance in session.exec(select(CloudInstance).where(CloudInstance.platform_id == platform.id,
                                                             col(CloudInstance.project).in_(projects))):
        in_use["vcpus"] += instance.vcpus
        in_use["memory_gb"] += instance.memory_gb
        in_use["storage_gb"] += instance.disk_gb
    since = dt.datetime.combine(today - dt.timedelta(days=90), dt.time(), dt.UTC)
    open_purposes: dict[str, int] = {}
    granted = dict.fromkeys(RESOURCES, 0.0)
    for request in session.exec(select(CapacityRequest).where(CapacityRequest.platform_id == platform.id,
                                                              col(CapacityRequest.status).in_(OPEN))):
        assert request.id is not None
        if request.id == exclude:
            continue
        if request.department_id == department.id and request.requested_at >= since:
            open_purposes.setdefault(normalised(request.purpose), request.id)
        if request.status == CapacityRequestStatus.APPROVED:
            for r, v in _amount(request).items():
                granted[r] += v
                if request.department_id == department.id:
                    in_use[r] += v
    capacity = allocatable(platform)
    now = {"vcpus": float(platform.allocated_vcpus or 0) + granted["vcpus"],
           "memory_gb": float(platform.allocated_memory_gb or 0) + granted["memory_gb"],
           "storage_gb": float(platform.allocated_storage_gb or 0) + granted["storage_gb"]}
    (forecast,) = platform_forecasts(session, newest_current_plan(session), today, 90, platform.name)
    later = {r.resource: r.share_at_horizon * r.capacity_at_horizon + granted[r.resource] for r in forecast.resources}
    return Situation(get_department_quota().model_dump(), in_use, capacity, now, later, open_purposes,
                     platform.mlps_level, platform.kind == PlatformKind.INTRANET)


def _lookup(session: Session, department: str, platform: str) -> tuple[Department, CloudPlatform]:
    found = session.exec(select(Department).where(Department.code == department)).first()
    if found is None:
        raise InvalidInputError(f"no department {department!r}", field="department_code")
    target = session.exec(select(CloudPlatform).where(CloudPlatform.name == platform)).first()
    if target is None:
        raise InvalidInputError(f"no cloud platform {platform!r}", field="platform")
    return found, target


QuotaRaiser = Callable[[CloudPlatform, Department, dict[str, float]], None]


def raise_quota_with(cloud: str | None, kubeconfig: str | None = None, context: str | None = None,
                     ) -> QuotaRaiser | None:
    """What an approval does on the platform: raise the department project's OpenStack quota (``cloud`` of
    clouds.yaml) or its Kubernetes namespace quota (kubeconfig ``context``) by the amount granted. None when
    no platform access is given: approvals are then recorded only."""
    if not (cloud or kubeconfig or context):
        return None

    def apply(platform: CloudPlatform, department: Department, amount: dict[str, float]) -> None:
        name = f"dept-{department.code.lower()}"
        if platform.kind == PlatformKind.KUBERNETES:
            from drivers.kubernetes import KubernetesDriver

            KubernetesDriver.connect(kubeconfig, context).raise_quota(name, amount["vcpus"], amount["memory_gb"])
            return
        if cloud is None:
            raise DriverError("no --cloud given for an OpenStack platform")
        from drivers.openstack import OpenStackDriver

        OpenStackDriver.connect(cloud).ensure_project(name, {
            "cores": math.ceil(amount["vcpus"]), "ram_mb": int(amount["memory_gb"] * 1024),
            "gigabytes": math.ceil(amount["storage_gb"])})

    return apply


def decide_alone(session: Session, platform: str) -> None:
    """Lock ``platform`` for one capacity decision, until the caller's commit; the first statement of it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(CloudPlatform.id).where(CloudPlatform.name == platform).with_for_update())
    else:  # SQLite locks the whole database for the first write, and keeps it to the commit
        session.execute(sa.update(CloudPlatform).where(col(CloudPlatform.name) == platform)
                        .values(name=CloudPlatform.name).execution_options(synchronize_session=False))


def _reason(decision: Decision) -> str:
    return f"{decision.reason_zh} / {decision.reason_en}"[:1000]


def _raise_after_commit(session: Session, request: CapacityRequest, decision: Decision,
                        raise_quota: QuotaRaiser | None, platform: CloudPlatform, department: Department,
                        actor: Actor) -> Decision:
    """The committed approval raises the quota on the platform; if that fails the request goes back to
    the queue with the reason (committed too)."""
    if decision.status != CapacityRequestStatus.APPROVED or raise_quota is None:
        return decision
    try:
        raise_quota(platform, department, _amount(request))
    except DriverError as exc:
        decision = Decision("queued", f"approved, but the quota could not be raised: {exc}",
                            f"已批准，但配额调整失败：{exc}")
    else:
        decision = Decision("approved", f"{decision.reason_en}; quota raised on the platform",
                            f"{decision.reason_zh}；平台配额已调整")
    services.update(session=session, actor=actor, obj=request,
                    changes={"status": CapacityRequestStatus(decision.status), "reason": _reason(decision)})
    session.commit()
    return decision


ASSUMED_LEVEL = 2


@dataclass(frozen=True)
class ForSystem:
    """What the capacity is for: a system of the department (its level and classification come from the
    inventory), or a level and a classification stated outright."""

    system: str | None = None
    mlps_level: int | None = None
    classified: bool | None = None


def _require_named(what: ForSystem) -> None:
    """Refuse a request that says neither its system nor both its level and classification: a guessed level
    could put a level-3 system on a level-2 platform."""
    if what.system is not None or (what.mlps_level is not None and what.classified is not None):
        return
    missing = "system" if what.mlps_level is None and what.classified is None else \
        "classified" if what.classified is None else "mlps_level"
    raise InvalidInputError("name the system the capacity is for (system), or give both its MLPS level "
                            "(mlps_level) and whether it is classified (classified)", field=missing)


def _for_system(session: Session, dept: Department, what: ForSystem) -> tuple[int | None, int, bool, str | None]:
    """(system id, MLPS level, classified, a note when the system has no level recorded) of ``what``; a
    system without a recorded level is taken at the level most systems hold, and says so."""
    if what.system is not None:
        system = session.exec(select(BusinessSystem).where(BusinessSystem.code == what.system.strip())).first()
        if system is None or system.department_id != dept.id:
            raise InvalidInputError(f"no system {what.system!r} in department {dept.code}", field="system")
        level = system.mlps_level or ASSUMED_LEVEL
        note = None if system.mlps_level else f"{system.code} has no MLPS level recorded: level {ASSUMED_LEVEL} assumed"
        return system.id, level, system.classified, note
    assert what.mlps_level is not None and what.classified is not None  # _require_named checked it
    return None, what.mlps_level, what.classified, None


def submit(session: Session, department: str, platform: str, amount: dict[str, float], purpose: str, actor: Actor,
           now: dt.datetime, raise_quota: QuotaRaiser | None = None,
           for_system: ForSystem | None = None) -> tuple[CapacityRequest, Decision]:
    """Record a request and decide it at once (audited, committed); an approval then raises the quota through
    ``raise_quota``. ``for_system`` says what it is for: a classified system never gets cloud capacity, and a
    platform below the system's MLPS level none at all."""
    if any(v < 0 for v in amount.values()):
        raise InvalidInputError("sizes must not be negative", field="vcpus")
    if not purpose.strip():
        raise InvalidInputError("say what the capacity is for", field="purpose")
    what = for_system or ForSystem()
    _require_named(what)
    decide_alone(session, platform)
    dept, target = _lookup(session, department, platform)
    system_id, level, classified, note = _for_system(session, dept, what)
    decision = admit(Ask(department, platform, amount, purpose, level, classified),
                     situation(session, dept, target, now.date()))
    if note:
        decision = Decision(decision.status, f"{decision.reason_en} ({note})", f"{decision.reason_zh}（{note}）")
    assert dept.id is not None and target.id is not None
    request = services.create(session=session, actor=actor, obj=CapacityRequest(
        department_id=dept.id, platform_id=target.id, vcpus=int(amount.get("vcpus", 0)),
        memory_gb=amount.get("memory_gb", 0.0), storage_gb=amount.get("storage_gb", 0.0), purpose=purpose.strip(),
        status=CapacityRequestStatus(decision.status), reason=_reason(decision), requested_at=now, decided_at=now,
        system_id=system_id, mlps_level=level, classified=classified))
    session.commit()
    return request, _raise_after_commit(session, request, decision, raise_quota, target, dept, actor)


def review_queued(session: Session, actor: Actor, now: dt.datetime,
                  raise_quota: QuotaRaiser | None = None) -> list[tuple[int, str]]:
    """Decide the queued requests again (oldest first), e.g. after an expansion, each alone and committed;
    (id, new status) of each."""
    queued = session.exec(select(CapacityRequest.id, CloudPlatform.name)
                          .join(CloudPlatform, col(CloudPlatform.id) == CapacityRequest.platform_id)
                          .where(CapacityRequest.status == CapacityRequestStatus.QUEUED)
                          .order_by(col(CapacityRequest.requested_at), col(CapacityRequest.id))).all()
    session.commit()
    changed = []
    for request_id, platform_name in queued:
        decide_alone(session, platform_name)
        request = session.get(CapacityRequest, request_id, populate_existing=True)
        if request is None or request.status != CapacityRequestStatus.QUEUED:  # decided meanwhile by another
            session.commit()
            continue
        dept = session.get(Department, request.department_id)
        platform = session.get(CloudPlatform, request.platform_id)
        assert dept is not None and platform is not None and request.id is not None
        decision = admit(Ask(dept.code, platform.name, _amount(request), request.purpose,
                             request.mlps_level or ASSUMED_LEVEL, bool(request.classified)),
                         situation(session, dept, platform, now.date(), exclude=request.id))
        services.update(session=session, actor=actor, obj=request, changes={
            "status": CapacityRequestStatus(decision.status), "reason": _reason(decision), "decided_at": now})
        session.commit()
        decision = _raise_after_commit(session, request, decision, raise_quota, platform, dept, actor)
        changed.append((request.id, decision.status))
    return changed


OPEN_STATUSES = ("pending", "queued")


def requests_query(department_id: int | None = None,
                   overdue_on: dt.date | None = None) -> sa.Select[CapacityRequest, str, str, str | None]:
    """Requests with their department's code, platform's name and system's code (of one department, or all);
    ``overdue_on``: only those overdue on that day. Due dates count from the request's local day (in
    ``SHANGYUN_TIMEZONE``), as ``request_rows`` does."""
    query = (sa.select(CapacityRequest, col(Department.code), col(CloudPlatform.name), col(BusinessSystem.code))
             .join(Department, col(Department.id) == CapacityRequest.department_id)
             .join(CloudPlatform, col(CloudPlatform.id) == CapacityRequest.platform_id)
             .outerjoin(BusinessSystem, col(BusinessSystem.id) == CapacityRequest.system_id))
    if department_id is not None:
        query = query.where(col(CapacityRequest.department_id) == department_id)
    if overdue_on is not None:
        first_in_time = clock.start_of_local_day(_first_day_not_overdue(overdue_on))
        query = query.where(col(CapacityRequest.status).in_(OPEN_STATUSES),
                            col(CapacityRequest.requested_at) < first_in_time)
    return query


def _first_day_not_overdue(today: dt.date) -> dt.date:
    """The earliest request day whose due date is not yet past on ``today`` (due dates never go back)."""
    day = today
    while due_date(day - dt.timedelta(days=1)) >= today:
        day -= dt.timedelta(days=1)
    return day


def request_rows(rows: Iterable[Any], today: dt.date) -> list[RequestRow]:
    """``requests_query``'s rows with their 5-working-day due dates; overdue = still pending or queued
    after it."""
    out = []
    for request, department, platform, system in rows:
        due = due_date(clock.local_day(request.requested_at))
        out.append(RequestRow(request, department, platform, system, due,
                              request.status in OPEN_STATUSES and today > due))
    return out


def list_requests(session: Session, today: dt.date, overdue_only: bool = False,
                  department_id: int | None = None) -> list[RequestRow]:
    """Requests (of one department, or all), oldest first, with their due dates; ``overdue_only``: those
    overdue on ``today``."""
    query = requests_query(department_id, today if overdue_only else None)
    return request_rows(session.execute(query.order_by(col(CapacityRequest.requested_at),
                                                       col(CapacityRequest.id))), today)
