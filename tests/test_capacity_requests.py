"""Capacity requests: the admission rules decide as documented, due dates skip weekends and holidays,
and the commands record, review and list requests on both databases (audited)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from inventory.db import create_db_engine
from inventory.models import AuditLog, CapacityRequest, CloudPlatform, Department
from inventory.models.enums import CapacityRequestStatus
from scheduler.admission import Ask, Situation, admit, due_date
from tests.conftest import run_cli, run_cli_here


def _situation(**changes: object) -> Situation:
    base: dict[str, object] = {
        "quota": {"vcpus": 100.0, "memory_gb": 400.0, "storage_gb": 5000.0},
        "department_in_use": {"vcpus": 20.0, "memory_gb": 40.0, "storage_gb": 0.0},
        "capacity": {"vcpus": 1000.0, "memory_gb": 4000.0, "storage_gb": 100000.0},
        "allocated_now": {"vcpus": 500.0, "memory_gb": 2000.0, "storage_gb": 10000.0},
        "allocated_in_90_days": {"vcpus": 500.0, "memory_gb": 2000.0, "storage_gb": 10000.0}}
    return Situation(**(base | changes))  # type: ignore[arg-type]


def _ask(purpose: str = "new portal", **amount: float) -> Ask:
    return Ask("D0001", "cloud", amount or {"vcpus": 8.0, "memory_gb": 16.0}, purpose)


def test_admission_rules_in_order() -> None:
    assert admit(_ask(), _situation()).status == "approved"
    assert admit(_ask(vcpus=0.0), _situation()).reason_en == "nothing asked for"
    duplicate = admit(_ask("New  Portal"), _situation(open_purposes={"new portal": 7}))
    assert duplicate.status == "rejected" and "#7" in duplicate.reason_en
    quota = admit(_ask(vcpus=90.0), _situation())
    assert quota.status == "rejected" and "20 vCPU in use + 90 asked > 100" in quota.reason_en
    full = admit(_ask(memory_gb=100.0), _situation(allocated_now={"vcpus": 0.0, "memory_gb": 3550.0}))
    assert full.status == "queued" and "now 89%" in full.reason_en and "内存" in full.reason_zh
    later = admit(_ask(memory_gb=100.0), _situation(allocated_in_90_days={"memory_gb": 3550.0}))
    assert later.status == "queued" and "within 90 days" in later.reason_en


def test_five_working_days_skip_weekends_and_holidays() -> None:
    assert due_date(dt.date(2026, 11, 23)) == dt.date(2026, 11, 30)  # Monday → next Monday
    assert due_date(dt.date(2026, 11, 27)) == dt.date(2026, 12, 4)  # Friday → next Friday
    # across the 1–7 October holiday, and Saturday 10 October is a make-up working day (the 2026 notice)
    assert due_date(dt.date(2026, 9, 30)) == dt.date(2026, 10, 13)


def _imported(db_url: str, tiny_estate: Path) -> tuple[Engine, CloudPlatform, Department]:
    """The tiny estate imported; (engine, its OpenStack platform, a department)."""
    assert run_cli("import", str(tiny_estate), db_url=db_url).returncode == 0
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        platform = session.exec(select(CloudPlatform).where(CloudPlatform.kind == "openstack")).first()
        department = session.exec(select(Department)).first()
    assert platform is not None and department is not None
    return engine, platform, department


def test_commands_record_review_and_list(db_url: str, tiny_estate: Path) -> None:
    engine, platform, department = _imported(db_url, tiny_estate)
    ask = ("capacity", "request", "--department", department.code, "--platform", platform.name, "--mlps-level", "2",
           "--not-classified")
    first = run_cli(*ask, "--vcpus", "4", "--memory-gb", "8", "--purpose", "test env", db_url=db_url)
    assert first.returncode == 0, first.stderr
    assert "request #1:" in first.stdout
    again = run_cli(*ask, "--vcpus", "4", "--purpose", "Test  Env", db_url=db_url)
    assert "request #2: rejected" in again.stdout and "duplicate of request #1" in again.stdout
    greedy = run_cli(*ask, "--vcpus", "100000", "--purpose", "everything", db_url=db_url)
    assert "rejected" in greedy.stdout and "quota" in greedy.stdout
    bad = run_cli("capacity", "request", "--department", "NOPE", "--platform", platform.name, "--vcpus", "1",
                  "--purpose", "x", "--mlps-level", "2", "--not-classified", db_url=db_url)
    assert bad.returncode == 2 and "no department 'NOPE'" in bad.stderr
    # What the capacity is for must be said (the issue: a system, or a level and a classification)
    unnamed = ("capacity", "request", "--department", department.code, "--platform", platform.name, "--vcpus", "1",
               "--purpose", "unnamed")
    for extra, field in (((), "system"), (("--mlps-level", "3"), "classified"), (("--classified",), "mlps_level")):
        refused = run_cli_here(*unnamed, *extra, db_url=db_url)
        assert refused.returncode == 2 and f"error: {field}: name the system" in refused.stderr, (extra, refused.stderr)

    with Session(engine) as session:  # an old request still queued: overdue
        old = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
        session.add(CapacityRequest(department_id=department.id or 0, platform_id=platform.id or 0, vcpus=1,
                                    purpose="old", status=CapacityRequestStatus.QUEUED, requested_at=old))
        session.commit()
        audited = session.exec(select(AuditLog).where(AuditLog.entity == "capacity_request")).all()
    engine.dispose()
    assert len(audited) == 3
    overdue = run_cli("capacity", "list", "--overdue", db_url=db_url)
    assert overdue.returncode == 0 and "old" in overdue.stdout and "2026-01-12" in overdue.stdout
    assert "test env" not in overdue.stdout
    reviewed = run_cli("capacity", "review", db_url=db_url)
    assert reviewed.returncode == 0 and "queued request(s) reviewed" in reviewed.stdout


def test_an_approval_raises_the_quota_after_its_commit_or_waits_when_it_cannot(db_url: str,
                                                                              tiny_estate: Path) -> None:
    """``raise_quota`` is the hook the real drivers plug into (tested against the test cloud below). It runs
    only once the approval is committed (another connection already sees it), and a failed raise puts the
    request back in the queue with the reason, committed too."""
    from drivers.errors import DriverError
    from inventory.audit import Actor
    from scheduler.requests import ForSystem, submit

    plain_level_2 = ForSystem(mlps_level=2, classified=False)

    engine, platform, department = _imported(db_url, tiny_estate)
    seen: list[tuple[dict[str, float], list[str]]] = []

    def raising(p: CloudPlatform, d: Department, amount: dict[str, float]) -> None:
        with Session(engine) as other:  # what everybody else sees while the quota is raised
            seen.append((amount, [r.status for r in other.exec(select(CapacityRequest))]))

    def failing(p: CloudPlatform, d: Department, amount: dict[str, float]) -> None:
        raise DriverError("cloud 'x' not usable (ConnectFailure)")

    now = dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC)
    with Session(engine) as session:
        _, decision = submit(session, department.code, platform.name, {"vcpus": 4.0}, "portal", Actor("t"), now,
                             raising, plain_level_2)
    assert decision.status == "approved" and "quota raised" in decision.reason_en
    assert seen == [({"vcpus": 4.0, "memory_gb": 0.0, "storage_gb": 0.0}, ["approved"])]
    with Session(engine) as session:
        waiting, decision = submit(session, department.code, platform.name, {"vcpus": 4.0}, "mail", Actor("t"), now,
                                   failing, plain_level_2)
        assert waiting.id is not None
    assert decision.status == "queued" and "could not be raised: cloud 'x' not usable" in decision.reason_en
    with Session(engine) as session:
        stored = session.get(CapacityRequest, waiting.id)
        assert stored is not None and stored.status == "queued" and "could not be raised" in (stored.reason or "")
    with Session(engine) as session:
        _, decision = submit(session, department.code, platform.name, {"vcpus": 10**6}, "all", Actor("t"), now,
                             failing, plain_level_2)
    assert decision.status == "rejected"  # a rejection never touches the platform
    engine.dispose()
