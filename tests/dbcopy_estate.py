"""A database holding something in every kind of table `db copy` must carry, and an independent reader.

``populate`` fills a migrated database through the product's own commands (import, plan, users and
tokens, a capacity request, a scheduler job) and adds, through the models, what only a long-running
estate has: a migration run with items and events, a rebalance proposal, an observed connection, a
login failure, and the awkward cases a copy gets wrong first: a department whose parent has a higher id,
a JSON ``null`` beside an SQL NULL, Chinese text, microseconds and a float with no short decimal form.

``every_row`` reads every table row by row with plain SQLAlchemy (JSON parsed, its NULL-ness recorded
separately), sorted in Python, so tests compare two databases without the copy's own digest.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from inventory.audit import Actor
from inventory.db import create_db_engine
from inventory.models import (
    BusinessSystem,
    CloudPlatform,
    Department,
    ItemState,
    LoginFailure,
    MigrationRun,
    ObservedConnection,
    Plan,
    PlanItem,
    RunEvent,
    RunItem,
    Server,
)
from inventory.models.enums import EventPhase, EventStatus
from scheduler.proposals import store_proposal
from scheduler.rebalance import Move, Result
from tests.api_server import seed
from tests.conftest import run_cli_here

AT = dt.datetime(2026, 11, 29, 3, 4, 5, 123456, tzinfo=dt.UTC)


def populate(db_url: str, estate: Path) -> None:
    """Fill the migrated, empty database at ``db_url`` (see the module docstring)."""
    seeded = seed(db_url, estate)
    platform_name = _first_platform(db_url)
    for args in (["capacity", "request", "--department", seeded.department, "--platform", platform_name, "--purpose",
                  "扩容测试", "--vcpus", "2", "--mlps-level", "2", "--not-classified"],
                 ["scheduler", "run", "--job", "forecast"]):
        result = run_cli_here(*args, db_url=db_url)
        assert result.returncode == 0, result.stdout + result.stderr
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        _late_parent(session)
        _run_with_events(session)
        platform = session.exec(select(CloudPlatform).order_by(col(CloudPlatform.id))).first()
        assert platform is not None
        store_proposal(session, platform.name, Result("balance", [Move("live_migrate", "vm-1", "h1", "h2")],
                                                      {"active_hosts": 2}, {"active_hosts": 2}, 0.1),
                       0.8, None, Actor("test"))
        servers = session.exec(select(Server).order_by(col(Server.id)).limit(1)).all()
        assert servers[0].id is not None
        session.add(ObservedConnection(server_id=servers[0].id, remote_ip="10.0.0.9", remote_port=5432,
                                       process="postgres", first_seen=AT, last_seen=AT))
        session.add(LoginFailure(key="user:nobody", failures=2, last_at=AT))
        session.add(LoginFailure(key="User:Nobody", failures=1, last_at=AT))  # collations order these differently
        session.commit()
    engine.dispose()


def _first_platform(db_url: str) -> str:
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        name = session.exec(select(CloudPlatform.name).order_by(col(CloudPlatform.id))).first()
    engine.dispose()
    assert name is not None
    return name


def _late_parent(session: Session) -> None:
    """A department whose parent is added after it (so has the higher id)."""
    child = Department(code="DCHILD", name="子部门")
    session.add(child)
    session.flush()
    parent = Department(code="DPARENT", name="上级部门")
    session.add(parent)
    session.flush()
    child.parent_id = parent.id
    session.add(child)


def _run_with_events(session: Session) -> None:
    plan = session.exec(select(Plan)).first()
    item = session.exec(select(PlanItem).order_by(col(PlanItem.id))).first()
    assert plan is not None and plan.id is not None and item is not None and item.id is not None
    system = session.get(BusinessSystem, item.system_id)
    assert system is not None
    run = MigrationRun(plan_id=plan.id, wave_index=1, started_at=AT, started_by="测试员",
                       site={"sources": {"default": {"ssh_user": "root"}}, "weight": 0.1 + 0.2})
    session.add(run)
    session.flush()
    assert run.id is not None and system.id is not None
    run_item = RunItem(run_id=run.id, plan_item_id=item.id, system_id=system.id, strategy=item.strategy,
                       state=ItemState.COMPLETED, next_step=3, resources={"server": None, "volumes": []})
    session.add(run_item)
    session.flush()
    assert run_item.id is not None
    for counter, (phase, payload) in enumerate([(EventPhase.BEFORE, None),
                                                (EventPhase.AFTER, {"note": "已完成", "ratio": 1 / 3})]):
        session.add(RunEvent(item_id=run_item.id, run_id=run.id, counter=counter, at=AT + dt.timedelta(seconds=counter),
                             step="prepare_project", phase=phase, status=EventStatus.OK, payload=payload))


def every_row(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every Shangyun table's rows, each as (value, …, and for each JSON column whether it IS NULL)."""
    engine = create_db_engine(db_url)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            nulls = [c.is_(None) for c in table.columns if isinstance(c.type, sa.JSON)]
            found = conn.execute(sa.select(*table.columns, *nulls)).all()
            rows[table.name] = sorted((tuple(r) for r in found), key=repr)
    engine.dispose()
    return rows
