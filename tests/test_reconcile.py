"""Reconciliation with provenance on both databases: measured beats declared, newer beats older,
an older report never overrides a newer one, and every disagreement is listed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.models import AuditLog, Server
from inventory.reconcile import Observation, agree, choose, conflicts, observe
from inventory.records.agent import AgentReport
from inventory.writers.agent import ingest_report

T0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
ACTOR = Actor("test")
HOST = "r0001-srv001"


def _server(session: Session) -> Server:
    server = session.exec(select(Server).where(Server.hostname == HOST)).one()
    return server


def test_precedence_and_tolerance() -> None:
    survey = Observation("survey", 64, T0 + dt.timedelta(days=9))
    agent = Observation("agent", 62.8, T0)
    ansible = Observation("ansible", 128, T0 + dt.timedelta(days=1))
    assert choose([survey, agent]) is agent  # measured beats declared, even an older measurement
    assert choose([survey, agent, ansible]) is ansible  # newer beats older among measured
    assert agree("memory_gb", 64, 62.8) and not agree("memory_gb", 64, 128)
    assert not agree("cpu_cores", 16, 15)
    assert agree("os", "CentOS  7.9", "centos 7.9") and not agree("os", "CentOS 7.9", "CentOS 8")
    assert agree("os", "Debian GNU/Linux 12", "Debian 12.11") and agree("os", "CentOS Linux 7", "CentOS 7.9")
    assert not agree("os", "CentOS 7", "CentOS 78") and not agree("os", "Kylin V10", "Debian 12")
    assert agree("hypervisor", False, False) and not agree("hypervisor", True, False)


def test_sources_reconcile_into_one_record(engine: Engine, tiny_estate: Path) -> None:
    import_survey(tiny_estate, engine=engine, actor=ACTOR)
    with Session(engine) as session:
        declared = _server(session).memory_gb

        changes = observe(session, _server(session), "ansible", {"memory_gb": declared * 2, "serial": "SN1"}, T0, ACTOR)
        assert changes == {"memory_gb": declared * 2, "serial": "SN1"}
        session.commit()
        # An older agent report (queued while the server was down) does not override the newer Ansible fact…
        observe(session, _server(session), "agent", {"memory_gb": declared * 3}, T0 - dt.timedelta(hours=2), ACTOR)
        assert _server(session).memory_gb == declared * 2
        # …a newer one does.
        observe(session, _server(session), "agent", {"memory_gb": declared * 3}, T0 + dt.timedelta(hours=1), ACTOR)
        assert _server(session).memory_gb == declared * 3
        session.commit()

        (found,) = conflicts(session, HOST)
        assert found.field == "memory_gb" and found.chosen.source == "agent"
        assert [(o.source, o.value) for o in found.others] == [("ansible", declared * 2), ("survey", declared)]
        assert len(conflicts(session)) == 1

        # The survey again says the original value: it is kept as declared, not applied.
        session.commit()
        assert import_survey(tiny_estate, engine=engine, actor=ACTOR).report.warnings
        session.expire_all()
        assert _server(session).memory_gb == declared * 3
        audited = session.exec(select(AuditLog).where(AuditLog.entity == "server", AuditLog.entity_id == HOST,
                                                      AuditLog.action == "update")).all()
        assert [a.after for a in audited][-1] == {"memory_gb": declared * 3}


def test_agent_reports_feed_reconciliation(engine: Engine, tiny_estate: Path) -> None:
    import_survey(tiny_estate, engine=engine, actor=ACTOR)
    with Session(engine) as session:
        cores = _server(session).cpu_cores
        report = AgentReport(hostname=HOST, collected_at=T0, os="Kylin V10", cpu_cores=cores, memory_mb=4096,
                             disks=[{"mount": "/", "size_gb": 100, "used_gb": 10}], cpu_util=0.2, memory_util=0.3)
        assert ingest_report(session, report, ZoneInfo("Asia/Shanghai"), now=T0) == "stored"
        session.commit()
        server = _server(session)
        assert (server.memory_gb, server.storage_gb, server.os, server.cpu_cores) == (4.0, 100.0, "Kylin V10", cores)
        fields = {c.field for c in conflicts(session, HOST)}
        assert "memory_gb" in fields and "cpu_cores" not in fields
