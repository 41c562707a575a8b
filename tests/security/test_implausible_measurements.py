"""A measurement no server could have is kept as a conflict, never applied over the survey (issue 15
§3), on SQLite and PostgreSQL, through the real ingest path.

Attack reproduced: measured values beat the survey, so one report of absurd hardware (within the
report's hard bounds: 60 TiB of memory, 4,000 cores) rewrote the server, and the planner then sized the
whole estate from it. A survey re-import must not bring such a value back either.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.models import Server
from inventory.reconcile import PLAUSIBLE_FACTOR, conflicts
from inventory.records.agent import AgentReport
from inventory.writers.agent import ingest_report

ACTOR = Actor("test:implausible")
HOST = "r0001-srv001"
AT = dt.datetime(2026, 11, 29, 8, tzinfo=dt.UTC)


def _report(at: dt.datetime, cores: int, memory_gb: float) -> AgentReport:
    return AgentReport.model_validate({
        "hostname": HOST, "collected_at": at.isoformat(), "cpu_cores": cores, "memory_mb": memory_gb * 1024,
        "cpu_util": 0.2, "memory_util": 0.3})


def test_absurd_hardware_is_a_conflict_and_the_survey_holds(engine: Engine, tiny_estate: Path) -> None:
    import_survey(tiny_estate, engine=engine, actor=ACTOR)
    with Session(engine) as session:
        server = session.exec(select(Server).where(Server.hostname == HOST)).one()
        cores, memory = server.cpu_cores, server.memory_gb
        assert cores and memory
        absurd_memory = 60 * 1024.0  # 60 TiB, inside the report's 64 TiB bound
        assert absurd_memory / memory > PLAUSIBLE_FACTOR
        ingest_report(session, _report(AT, 4000, absurd_memory), ZoneInfo("Asia/Shanghai"), now=AT)
        session.commit()
        session.refresh(server)
        assert (server.cpu_cores, server.memory_gb) == (cores, memory)  # the survey's values hold
        listed = {c.field: c for c in conflicts(session, HOST)}
        assert listed["cpu_cores"].chosen.source == "survey" and listed["cpu_cores"].others[0].value == 4000
        assert listed["memory_gb"].chosen.source == "survey" and listed["memory_gb"].others[0].value == absurd_memory
    # a survey re-import keeps the survey's value too (measured values normally survive it)
    import_survey(tiny_estate, engine=engine, actor=ACTOR)
    with Session(engine) as session:
        server = session.exec(select(Server).where(Server.hostname == HOST)).one()
        assert (server.cpu_cores, server.memory_gb) == (cores, memory)
        # a plausible measurement still wins, as measured beats declared
        later = AT + dt.timedelta(hours=2)
        ingest_report(session, _report(later, cores * 2, memory * 2), ZoneInfo("Asia/Shanghai"), now=later)
        session.commit()
        session.refresh(server)
        assert (server.cpu_cores, server.memory_gb) == (cores * 2, memory * 2)
