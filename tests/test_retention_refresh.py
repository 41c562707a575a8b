"""Raw samples age out while rollups stay; zombie evidence follows new agent samples (both databases)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.models import AuditLog, BusinessSystem, Server, SystemServer, UtilizationDaily, UtilizationSample
from inventory.records.agent import AgentReport
from inventory.retention import prune_samples
from inventory.writers.agent import ingest_report
from migration_plans.store import refresh_zombies_of_server

TZ = ZoneInfo("Asia/Shanghai")


def _count(session: Session, model: type) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


def test_prune_keeps_rollups_and_recent_samples(engine: Engine, tiny_estate: Path) -> None:
    import_survey(tiny_estate, engine=engine, actor=Actor("t"))
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)  # the tiny estate's 7 days end on 31 October (local)
    with Session(engine) as session:
        samples, rollups = _count(session, UtilizationSample), _count(session, UtilizationDaily)
        deleted = prune_samples(session, 3, Actor("t"), now=now)
        session.commit()
        oldest = session.execute(sa.select(sa.func.min(UtilizationSample.at))).scalar_one()
        audit = session.exec(select(AuditLog).where(AuditLog.entity_id == "retention")).one()
        assert 0 < deleted < samples and _count(session, UtilizationSample) == samples - deleted
        assert _count(session, UtilizationDaily) == rollups
    oldest_utc = oldest if oldest.tzinfo is not None else oldest.replace(tzinfo=dt.UTC)  # SQLite: naive UTC
    assert oldest_utc >= now - dt.timedelta(days=3)
    assert audit.before is not None and audit.before["deleted"] == deleted


def test_a_zombie_that_gets_busy_again_is_set_back_to_running(engine: Engine, tiny_estate: Path) -> None:
    from inventory.settings import get_cost_defaults
    from migration_plans.load import load_estate
    from migration_plans.store import mark_zombies

    import_survey(tiny_estate, engine=engine, actor=Actor("t"))
    with Session(engine) as session:
        mark_zombies(session, load_estate(session, get_cost_defaults()), Actor("t"))
        session.commit()
        zombie = session.exec(select(BusinessSystem).where(BusinessSystem.status == "zombie")).first()
        assert zombie is not None and zombie.zombie_evidence is not None and zombie.zombie_evidence["zombie"]
        hosts = session.exec(select(Server).join(SystemServer, SystemServer.server_id == Server.id)  # type: ignore[arg-type]
                             .where(SystemServer.system_id == zombie.id)).all()
        for day in range(1, 4):  # three busy days after the survey's week
            for server in hosts:
                report = AgentReport.model_validate({
                    "hostname": server.hostname, "collected_at": f"2026-11-0{day}T02:00:00Z", "cpu_cores": 8,
                    "memory_mb": 8192, "cpu_util": 0.9, "memory_util": 0.8})
                assert ingest_report(session, report, TZ) == "stored"
                refresh_zombies_of_server(session, server.id, Actor("agent:test"))  # type: ignore[arg-type]
        session.commit()
        session.refresh(zombie)
        changes = session.exec(select(AuditLog).where(AuditLog.entity_id == zombie.code,
                                                      AuditLog.actor == "agent:test")).all()
    assert zombie.status == "running" and zombie.zombie_evidence is None
    assert [c.after for c in changes if c.after and "status" in c.after] == [{"status": "running",
                                                                             "zombie_evidence": None}]
