"""MLPS (等保) assessments and levels (issue 16 §3): a 等保测评 sheet, ``shangyun mlps overdue`` (level 3
yearly, level 4 every six months, level ≥ 2 never assessed), capacity requests that name what they are for
and are refused on a lower-level platform or, for a classified system, on any cloud platform; and the
executor refusing a target platform below the system's level."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.db import create_db_engine
from inventory.mlps import mlps_due
from inventory.models import BusinessSystem, CloudPlatform, Department, ItemState, PlanItem
from tests.conftest import run_cli, run_cli_here
from tests.test_executor import _items, _site, _wave_of

TODAY = dt.date(2026, 11, 30)
# system: (its level, its assessments) → overdue on TODAY, worked out by hand from the rule
CASES = {
    "S00001": (3, ["2025-11-01"], True),  # due 2026-11-01
    "S00002": (3, ["2025-06-01", "2026-01-15"], False),  # the latest counts: due 2027-01-15
    "S00003": (4, ["2026-05-01"], True),  # due 2026-11-01
    "S00004": (4, ["2026-06-15"], False),  # due 2026-12-15
    "S00005": (2, [], True),  # level 2, never assessed
    "S00006": (2, ["2020-01-01"], False),  # level 2 has no period
}


def test_overdue_assessments_follow_the_levels(engine: Engine, tiny_estate: Path, tmp_path: Path) -> None:
    survey = tmp_path / "survey"
    shutil.copytree(tiny_estate, survey)
    rows = [f"{code},第{'一二三四'[level - 1]}级,{day},符合,测评中心" for code, (level, days, _) in CASES.items()
            for day in days]
    (survey / "assessments.csv").write_text("系统编码,等保级别,测评日期,测评结论,测评机构\n" + "\n".join(rows) + "\n",
                                            encoding="utf-8")
    outcome = import_survey(survey, engine=engine, actor=Actor("test"))
    assert outcome.written and not outcome.report.errors
    assert outcome.report.counts["mlps_assessment"].created == len(rows)
    with Session(engine) as session:
        for system in session.exec(select(BusinessSystem)):
            system.mlps_level = CASES[system.code][0] if system.code in CASES else 1
            session.add(system)
        session.commit()
        due = {row.system: row for row in mlps_due(session, TODAY)}
    assert {code: row.overdue for code, row in due.items()} == {code: late for code, (_, _, late) in CASES.items()}
    assert due["S00002"].last_assessed == dt.date(2026, 1, 15) and due["S00002"].due == dt.date(2027, 1, 15)
    again = import_survey(survey, engine=engine, actor=Actor("test"))  # keyed by system and date
    assert again.written and vars(again.report.counts["mlps_assessment"]) == {"created": 0, "updated": 0,
                                                                              "unchanged": len(rows)}


def test_capacity_requests_are_refused_by_level_and_classification(planned: str) -> None:
    db_url = planned
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        platforms = {p.kind if p.kind != "openstack" or p.mlps_level > 2 else "internet": p.name
                     for p in session.exec(select(CloudPlatform))}
        classified = session.exec(select(BusinessSystem).where(col(BusinessSystem.classified))).first()
        plain = session.exec(select(BusinessSystem).where(BusinessSystem.classified == False,  # noqa: E712
                                                          BusinessSystem.mlps_level == 3)).first()
        assert classified is not None and plain is not None
        departments = dict(session.exec(select(Department.id, Department.code)).all())
        owner = {s.code: departments[s.department_id] for s in (classified, plain)}
    engine.dispose()

    def ask(system: str | None, platform: str, *extra: str, department: str | None = None) -> str:
        args = ["capacity", "request", "--department", department or owner[system or plain.code], "--platform",
                platform, "--purpose", f"for {system or extra}", "--vcpus", "1", *extra]
        result = run_cli_here(*args, *(["--system", system] if system else []), db_url=db_url)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "rejected" in (out := ask(classified.code, platforms["openstack"])) and "never on a cloud platform" in out
    assert "rejected" in (out := ask(plain.code, platforms["internet"])) and "below the system's level 3" in out
    assert "rejected" in (out := ask(plain.code, platforms["intranet"])) and "classified systems only" in out
    assert "rejected" not in ask(plain.code, platforms["openstack"])
    assert "rejected" not in ask(classified.code, platforms["intranet"])
    stated = ask(None, platforms["internet"], "--mlps-level", "3", "--not-classified")
    assert "rejected" in stated and "below the system's level 3" in stated
    unnamed = run_cli_here("capacity", "request", "--department", owner[plain.code], "--platform",
                           platforms["openstack"], "--purpose", "unnamed", "--vcpus", "1", db_url=db_url)
    assert unnamed.returncode == 2 and "system: name the system" in unnamed.stderr  # refused, not assumed
    wrong = run_cli_here("capacity", "request", "--department", owner[plain.code], "--platform", platforms["openstack"],
                    "--purpose", "x", "--vcpus", "1", "--system", "NO-SUCH", db_url=db_url)
    assert wrong.returncode == 2 and "no system 'NO-SUCH'" in wrong.stderr


def test_mlps_overdue_command(planned: str) -> None:
    result = run_cli("mlps", "overdue", "--json", db_url=planned)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    engine = create_db_engine(planned)
    with Session(engine) as session:
        expected = sorted(r.system for r in mlps_due(session, TODAY) if r.overdue)
    engine.dispose()
    assert expected and sorted(r["system"] for r in listed) == expected


def test_the_executor_refuses_a_target_below_the_system_s_level(planned: str, tmp_path: Path) -> None:
    """A plan row forged to put a level-3 system on the level-2 互联网区 platform is refused, before any step."""
    db_url = planned
    wave, codes = _wave_of(db_url, "rehost")
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        low = session.exec(select(CloudPlatform).where(CloudPlatform.mlps_level == 2)).first()
        system = session.exec(select(BusinessSystem).where(BusinessSystem.code == codes[0])).one()
        system.mlps_level = 3
        item = session.exec(select(PlanItem).where(PlanItem.system_id == system.id,
                                                   col(PlanItem.wave_id).is_not(None))).one()
        assert low is not None and item.target is not None
        item.target = {**item.target, "platform_name": low.name}
        session.add_all([system, item])
        session.commit()
    engine.dispose()
    site = _site(tmp_path, db_url)
    assert run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site), "--system", codes[0],
                   db_url=db_url).returncode == 0
    refused = _items(db_url)[codes[0]]
    assert refused.state == ItemState.REFUSED and "MLPS level 2, below the system's level 3" in (refused.error or "")
