"""Planning through the real ``shangyun`` command on SQLite and PostgreSQL: zombies, plan create
(JSON on stdout), storage and audit, re-planning that keeps started waves, export, diff, savings."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import sqlalchemy as sa
import yaml
from sqlmodel import Session, select

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.db import create_db_engine
from inventory.models import AuditLog, BusinessSystem, Plan, PlanItem, PlanWave
from tests.conftest import run_cli


def _imported(db_url: str, estate: Path) -> None:
    engine = create_db_engine(db_url)
    assert import_survey(estate, engine=engine, actor=Actor("test")).written
    engine.dispose()


def _create(db_url: str, *extra: str) -> dict:  # type: ignore[type-arg]
    result = run_cli("plan", "create", "--name", "P", "--start", "2027-01-04", "--max-systems-per-wave", "4",
                     *extra, "--json", db_url=db_url)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_zombies_are_marked_with_evidence_and_audited(db_url: str, tiny_estate: Path) -> None:
    _imported(db_url, tiny_estate)
    result = run_cli("zombies", db_url=db_url)
    assert result.returncode == 0, result.stderr
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        zombies = session.exec(select(BusinessSystem).where(BusinessSystem.status == "zombie")).all()
        audits = session.exec(select(AuditLog).where(AuditLog.entity == "system", AuditLog.action == "update")).all()
    engine.dispose()
    assert zombies, result.stdout
    for system in zombies:
        assert system.daily_users == 0 and system.zombie_evidence is not None
        evidence = system.zombie_evidence
        assert evidence["cpu_avg_max"] < 0.05 and evidence["days"] == 90  # the rule's full window
        assert evidence["to"] == "2026-10-31" and evidence["from"] == "2026-08-03"  # the days it rests on
    assert {a.entity_id for a in audits} == {z.code for z in zombies}
    assert all(a.after is not None and a.after["status"] == "zombie" for a in audits)


def test_plan_json_lists_every_system_once_and_is_stored(db_url: str, tiny_estate: Path) -> None:
    _imported(db_url, tiny_estate)
    document = _create(db_url)
    in_waves = [item["system"] for wave in document["waves"] for item in wave["items"]]
    kept = [item["system"] for item in document["not_migrated"]]
    assert len(in_waves) + len(kept) == 20 and len(set(in_waves + kept)) == 20
    assert all(len(w["items"]) <= 4 or len({i["move_group"] for i in w["items"]}) == 1 for w in document["waves"])
    assert all(i["strategy"] == "retain" for i in document["not_migrated"] if i["reason"].startswith("classified"))
    assert document["savings"]["objective_cny"] <= document["savings"]["upper_bound_cny"] + 0.01
    sized = [i for w in document["waves"] for i in w["items"] if i["strategy"] in ("rehost", "replatform")]
    assert sized and all(i["sized_from"] == "samples" for i in sized)  # the p95 path ran on this database
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        plan = session.exec(select(Plan)).one()
        items = session.exec(select(PlanItem)).all()
        waves = session.exec(select(PlanWave)).all()
        audit = session.exec(select(AuditLog).where(AuditLog.entity == "plan")).one()
    engine.dispose()
    assert (plan.name, plan.version, len(items), len(waves)) == ("P", 1, 20, len(document["waves"]))
    assert audit.entity_id == "P@1" and audit.after is not None and audit.after["systems"] == 20


def test_replanning_keeps_started_waves_and_says_what_moved(db_url: str, tiny_estate: Path, tmp_path: Path) -> None:
    _imported(db_url, tiny_estate)
    first = _create(db_url)
    wave_one = sorted(i["system"] for i in first["waves"][0]["items"])
    later = first["waves"][-1]["items"][0]["system"]
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        session.execute(sa.update(PlanWave).where(PlanWave.index == 1).values(status="started"))  # type: ignore[arg-type]
        system = session.exec(select(BusinessSystem).where(BusinessSystem.code == later)).one()
        system.classified = True  # the inventory changed: this system turned out to be classified
        session.add(system)
        session.commit()
    engine.dispose()
    result = run_cli("plan", "create", "--name", "P", "--start", "2027-01-04", "--max-systems-per-wave", "4",
                     db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "re-planned P@1 → @2; kept 1 started wave(s)" in result.stdout
    second = json.loads(run_cli("plan", "export", "P", db_url=db_url).stdout)
    assert second["version"] == 2 and sorted(i["system"] for i in second["waves"][0]["items"]) == wave_one
    moved = [i for w in second["waves"] for i in w["items"] if i["system"] == later]
    # the sample declares an intranet platform approved for 机密 (the level assumed when none is given)
    assert [(i["strategy"], i["target"]) for i in moved] == [("intranet", None)]
    diff = run_cli("plan", "diff", "P@1", "P@2", db_url=db_url)
    assert later in diff.stdout and "strategy" in diff.stdout
    listed = run_cli("plan", "list", db_url=db_url).stdout
    assert "P@2" in listed and "P@1" in listed and "superseded" in listed


def test_exports_and_savings_workbook(db_url: str, tiny_estate: Path, tmp_path: Path) -> None:
    _imported(db_url, tiny_estate)
    document = _create(db_url)
    as_yaml = yaml.safe_load(run_cli("plan", "export", "P", "--format", "yaml", db_url=db_url).stdout)
    assert as_yaml["waves"] == document["waves"]
    assert run_cli("plan", "export", "P", "--format", "xlsx", "--out", str(tmp_path / "p.xlsx"),
                   db_url=db_url).returncode == 0
    items = list(openpyxl.load_workbook(tmp_path / "p.xlsx").active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(items) - 1 == sum(len(w["items"]) for w in document["waves"])
    savings = run_cli("plan", "savings", "P", "--xlsx", str(tmp_path / "s.xlsx"), db_url=db_url)
    assert savings.returncode == 0 and "rooms closing per wave" in savings.stdout and "万元" in savings.stdout
    rows = list(openpyxl.load_workbook(tmp_path / "s.xlsx")["fiscal years 年度"].iter_rows(values_only=True))
    years = {r[0]: r[7] for r in rows if isinstance(r[0], int)}
    assert years == {y["year"]: y["net_saving_wan"] for y in document["finance"]["years"]}
    # FORMATS.md §4's run-rate timeline: room cost stopped never falls
    stopped = [w["cumulative_annual_cny"] for w in document["savings"]["by_wave"]]
    assert stopped == sorted(stopped) and stopped[-1] == document["savings"]["annual_cny_after_plan"]


def test_plan_errors_are_clear(db_url: str, tmp_path: Path) -> None:
    empty = run_cli("plan", "create", "--name", "P", "--start", "2027-01-04", db_url=db_url)
    assert empty.returncode == 2 and "no business systems" in empty.stderr
    bad_date = run_cli("plan", "create", "--name", "P", "--start", "2027-13-01", db_url=db_url)
    assert bad_date.returncode == 2 and "is not a date" in bad_date.stderr
    missing = run_cli("plan", "show", "nope", db_url=db_url)
    assert missing.returncode == 2 and "no plan 'nope'" in missing.stderr
