"""Concurrent capacity requests (issue 15 §1), on SQLite and PostgreSQL, from threads and from separate
``shangyun capacity request`` processes at once.

Attack reproduced: 8 concurrent 200-vCPU requests for one department (quota 256) were all approved, and of
8 identical ones 5 were, because each read, decided and inserted without serialisation. The expected
outcome comes from the quota rule itself, not from the code: with 200 vCPU of room per department at most
one 200-vCPU request fits, and a purpose already asked for is a duplicate.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from inventory.audit import Actor
from inventory.db import create_db_engine
from inventory.models import CapacityRequest, CloudPlatform, Department
from inventory.models.enums import CapacityRequestStatus, PlatformKind
from scheduler.requests import ForSystem, situation, submit
from tests.conftest import PINNED_TODAY, SHANGYUN, run_cli

PLAIN_LEVEL_2 = ForSystem(mlps_level=2, classified=False)

THREADS = PROCESSES = 8
ASK = 200.0


def _race(db_url: str, department: str, platform: str, purpose: str | None) -> list[CapacityRequest]:
    """Start PROCESSES CLI requests and THREADS in-process ones together; every request, decided."""
    env = os.environ | {"SHANGYUN_DATABASE_URL": db_url}
    processes = [subprocess.Popen(
        [SHANGYUN, "capacity", "request", "--department", department, "--platform", platform, "--vcpus",
         str(int(ASK)), "--mlps-level", "2", "--not-classified",
         "--purpose", purpose or f"process {k}"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for k in range(PROCESSES)]
    engine = create_db_engine(db_url)
    start, failures = threading.Barrier(THREADS), []

    def ask(k: int) -> None:
        start.wait()
        try:
            with Session(engine) as session:
                submit(session, department, platform, {"vcpus": ASK}, purpose or f"thread {k}",
                       Actor(f"test:{k}"), dt.datetime.now(dt.UTC), for_system=PLAIN_LEVEL_2)
        except Exception as exc:  # every failure is reported below, with its thread
            failures.append(f"thread {k}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    outputs = [p.communicate(timeout=120) for p in processes]
    assert failures == []
    assert all(p.returncode == 0 for p in processes), [err for _, err in outputs]
    with Session(engine) as session:
        requests = list(session.exec(select(CapacityRequest).order_by(col(CapacityRequest.id))))
    engine.dispose()
    assert len(requests) == THREADS + PROCESSES
    return requests


@pytest.mark.parametrize("identical", [False, True], ids=["different purposes", "identical"])
def test_sixteen_concurrent_requests_never_pass_the_quota(db_url: str, tiny_estate: Path, identical: bool,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("import", str(tiny_estate), db_url=db_url).returncode == 0
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        platform = session.exec(select(CloudPlatform).where(CloudPlatform.kind == PlatformKind.OPENSTACK)).first()
        department = session.exec(select(Department).order_by(col(Department.id))).first()
        assert platform is not None and department is not None
        held = situation(session, department, platform, dt.date.fromisoformat(PINNED_TODAY))
    engine.dispose()
    quota = held.department_in_use["vcpus"] + ASK + 56  # room for one request of 200, not two
    monkeypatch.setenv("SHANGYUN_DEPARTMENT_QUOTA_VCPUS", str(quota))
    from inventory.settings import get_department_quota

    get_department_quota.cache_clear()
    try:
        requests = _race(db_url, department.code, platform.name, "one shared purpose" if identical else None)
    finally:
        get_department_quota.cache_clear()
    approved = [r for r in requests if r.status == CapacityRequestStatus.APPROVED]
    assert len(approved) == 1, [(r.purpose, r.status, r.reason) for r in requests]
    assert held.department_in_use["vcpus"] + sum(r.vcpus for r in approved) <= quota
    others = {r.status for r in requests if r not in approved}
    assert others == {CapacityRequestStatus.REJECTED}
    expected = "duplicate" if identical else "quota"
    assert all(expected in (r.reason or "") for r in requests if r not in approved)
