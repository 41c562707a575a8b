"""Dependency discovery from agent reports (SQLite and PostgreSQL): connections between inventory
servers become observed system dependencies with evidence; the diff against declared ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.dependencies import dependency_diff, discover_links, write_observed
from inventory.models import AuditLog, Dependency
from inventory.records.agent import AgentReport
from inventory.writers.agent import ingest_report
from tests.conftest import run_cli
from tests.survey_files import write_csv_folder

TZ = ZoneInfo("Asia/Shanghai")
SURVEY = {
    "部门": [["部门编码", "部门名称"], ["D1", "市教育局"]],
    "机房": [["机房编码", "机房名称", "所属部门"], ["R1", "教育局机房", "D1"]],
    "服务器": [["主机名", "所在机房", "CPU核数", "内存", "IP地址"], ["web-01", "R1", "8", "16G", "10.0.0.1"],
               ["db-01", "R1", "16", "64G", "10.0.0.2, 192.168.9.2"]],
    "信息系统": [["系统编码", "系统名称", "所属部门", "是否涉密", "部署服务器"],
                 ["S1", "学籍系统", "D1", "否", "web-01"], ["S2", "数据库平台", "D1", "否", "db-01"],
                 ["S3", "门户网站", "D1", "否", "web-01"]],
    "依赖关系": [["系统编码", "依赖系统编码"], ["S1", "S2"], ["S3", "S1"]],
}


def _report(host: str, at: str, listening: list[int], connections: list[tuple[str, str]]) -> AgentReport:
    return AgentReport.model_validate({
        "hostname": host, "collected_at": at, "cpu_cores": 8, "memory_mb": 16384, "cpu_util": 0.1,
        "memory_util": 0.2, "listening": [{"port": p, "process": "postgres"} for p in listening],
        "connections": [{"remote": r, "process": p} for r, p in connections]})


def test_connections_become_observed_dependencies_and_the_diff_shows_both_gaps(engine: Engine,
                                                                               tmp_path: Path) -> None:
    assert import_survey(write_csv_folder(tmp_path / "s", SURVEY), engine=engine, actor=Actor("t")).written
    with Session(engine) as session:
        ingest_report(session, _report("db-01", "2026-11-01T08:00:00Z", [5432], []), TZ)
        ingest_report(session, _report("web-01", "2026-11-01T08:00:00Z", [80], [
            ("10.0.0.2:5432", "java"), ("192.168.9.2:9999", "java"), ("8.8.8.8:443", "curl")]), TZ)
        ingest_report(session, _report("web-01", "2026-11-01T09:00:00Z", [80], [("10.0.0.2:5432", "java")]), TZ)
        session.commit()
    with Session(engine) as session:
        links = discover_links(session)
        assert [(lk.system, lk.depends_on) for lk in links] == [("S1", "S2"), ("S3", "S2")]
        assert links[0].ports == {5432} and links[0].processes == {"java"}
        assert links[0].first_seen == dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
        assert links[0].last_seen == dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
        counts = write_observed(session, links, Actor("t"))
        session.commit()
        assert (counts.created, counts.updated) == (2, 0)
    with Session(engine) as session:
        again = write_observed(session, discover_links(session), Actor("t"))
        session.commit()
        observed = session.exec(select(Dependency).where(Dependency.source == "observed")).all()
        audits = session.exec(select(AuditLog).where(AuditLog.entity == "dependency",
                                                     AuditLog.entity_id.endswith("(observed)"))).all()
        diff = dependency_diff(session)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert len(observed) == 2 and all(d.evidence == {"ports": [5432], "processes": ["java"], "connections": 1}
                                      for d in observed)
    assert len(audits) == 2
    assert diff.declared_unseen == [("S3", "S1", True)]
    assert [(a, b) for a, b, _ in diff.seen_undeclared] == [("S3", "S2")]
    result = run_cli("deps", "diff", db_url=str(engine.url.render_as_string(hide_password=False)))
    assert result.returncode == 0 and "declared, not seen" in result.stdout and "seen, not declared" in result.stdout
