"""Each server's figures come from its own latest days of data (both databases): one agent reporting
today does not push the surveyed servers out of their windows, and zombie marking needs 90 days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from collectors.sample.estate import SCALES, Scale, generate, write_estate
from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.models import BusinessSystem, Server
from inventory.records.agent import AgentReport
from inventory.settings import get_cost_defaults
from inventory.views.measured import measured_use
from inventory.views.queries import average_cpu_by_server
from inventory.writers.agent import ingest_report
from migration_plans.load import load_estate
from migration_plans.planning.model import Decision, Estate, PlanParams, SystemFacts
from migration_plans.planning.strategies import RuleContext, decide
from migration_plans.store import mark_zombies

SURVEY_END = dt.date(2026, 10, 31)  # the tiny estate's samples end the day before 1 November


def test_an_agent_report_today_leaves_every_other_server_its_own_window(engine: Engine, tiny_estate: Path) -> None:
    import_survey(tiny_estate, engine=engine, actor=Actor("t"))
    with Session(engine) as session:
        before = load_estate(session, get_cost_defaults())
        server = session.exec(select(Server).order_by(col(Server.hostname))).first()
        assert server is not None and server.id is not None
        hostname, server_id = server.hostname, server.id
        report = AgentReport.model_validate({"hostname": hostname, "collected_at": "2026-11-30T03:00:00Z",
                                             "cpu_cores": 8, "memory_mb": 16384, "cpu_util": 0.5,
                                             "memory_util": 0.5})
        ingest_report(session, report, ZoneInfo("Asia/Shanghai"), now=dt.datetime(2026, 11, 30, 4, tzinfo=dt.UTC))
        session.commit()
        after = load_estate(session, get_cost_defaults())
        windows = measured_use(session, (30,))[30]
        cpu = average_cpu_by_server(session)
    sizes = {s.code: (d.target.vcpus, d.target.memory_gb) for s, d in (
        (s, _decide(s, after)) for s in after.systems) if d.target is not None}
    old_sizes = {s.code: (d.target.vcpus, d.target.memory_gb) for s, d in (
        (s, _decide(s, before)) for s in before.systems) if d.target is not None}
    others = {s.code for s in after.systems if all(x.hostname != hostname for x in s.servers)}
    assert others and all(sizes[c] == old_sizes[c] for c in others if c in sizes)
    for system in after.systems:
        for use in system.servers:
            if use.hostname == hostname:
                # its own latest 30 days: 1 to 30 November, with data on one day only
                assert (use.sizing_from, use.last_day, use.sizing_days) == (dt.date(2026, 11, 30),) * 2 + (1,)
            else:
                assert use.last_day == SURVEY_END and use.sizing_days == 30 and use.cpu_p95 is not None
                assert use.sizing_from == SURVEY_END - dt.timedelta(days=29) and use.days == 90
    assert windows[server_id].days == 1 and cpu[server_id] == windows[server_id].cpu_avg
    assert len(windows) == len(cpu) == 60


def _decide(system: SystemFacts, estate: Estate) -> Decision:
    return decide(system, RuleContext(estate.platforms, PlanParams("t", dt.date(2027, 1, 4))))


def test_zombies_need_ninety_days_and_fewer_make_candidates(engine: Engine, tmp_path: Path) -> None:
    short = Scale("short", 6, 8, 60, 20, hourly=True, days=30, hourly_days=7)
    write_estate(generate(short, seed=7), tmp_path / "short")
    import_survey(tmp_path / "short", engine=engine, actor=Actor("t"))
    with Session(engine) as session:
        found = mark_zombies(session, load_estate(session, get_cost_defaults()), Actor("t"))
        session.commit()
        marked = session.exec(select(BusinessSystem).where(BusinessSystem.status == "zombie")).all()
    idle_no_users = [e for e in found if e.daily_users == 0]
    assert idle_no_users and not marked  # idle with no users, but only 30 days: candidates
    for evidence in idle_no_users:
        assert not evidence.zombie and evidence.days == 30 and "needs 90 days" in evidence.reason
        assert evidence.first_day == SURVEY_END - dt.timedelta(days=29) and evidence.last_day == SURVEY_END
    assert SCALES["tiny"].days == 90  # the sample estate has the full window, so the demo marks zombies
