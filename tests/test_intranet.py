"""Classified (涉密) systems move to the government intranet (issue 16 §1): the survey declares intranet
platforms with their protection approval (分级保护 秘密/机密), the planner sends each classified system to one
approved for its level or keeps it with a reason naming what to declare, and the executor carries it out
gate by gate without ever calling a driver, refusing any cloud target."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.db import create_db_engine
from inventory.models import AuditLog, BusinessSystem, CloudPlatform, ItemState, PlanItem, RunItem
from inventory.models.enums import SecrecyLevel, Strategy
from migration_plans.execution.runbooks import INTRANET
from migration_plans.planning import model as m
from migration_plans.planning.planner import plan
from tests.conftest import run_cli, run_cli_here
from tests.test_executor import _events, _items, _site, _wave_of

START = "2026-12-07"


def _server(host: str, room: str) -> m.ServerUse:
    return m.ServerUse(host, room, 8, 16.0, 200.0, cpu_p95=0.3, memory_p95=0.5, cpu_avg=0.2, memory_avg=0.4,
                       days=30, sizing_days=30)


def _system(code: str, room: str, classified: bool, secrecy: str | None = None) -> m.SystemFacts:
    return m.SystemFacts(code, code, "D1", classified, 2, "running", 100, False, False, None,
                         (_server(f"{code.lower()}-srv", room),), secrecy_level=secrecy)


def _platform(name: str, kind: str, secrecy: str | None = None) -> m.Platform:
    flavors = (m.Flavor("g.8c16g", 8, 16.0, 100.0, 500.0),) if kind == "openstack" else ()
    return m.Platform(name, kind, 3, 1000.0, 4000.0, 100000.0, flavors, 40.0, 15.0, 0.5, secrecy)


def _estate(platforms: list[m.Platform]) -> m.Estate:
    systems = [_system("S1", "R1", False), _system("S2", "R1", True, "secret"), _system("S3", "R2", True),
               _system("S4", "R3", True, "confidential")]
    rooms = {code: m.RoomCost(code, 100_000.0) for code in ("R1", "R2", "R3")}
    return m.Estate(systems, [], rooms, platforms)


def _params() -> m.PlanParams:
    import datetime as dt

    return m.PlanParams(name="t", start=dt.date.fromisoformat(START))


@pytest.mark.parametrize(("intranets", "expected"), [
    # no intranet platform: every classified system stays, and so do the rooms they are in
    ([], {"S2": None, "S3": None, "S4": None}),
    # approved for 秘密 only: the 秘密 system moves; 机密 (S2) and unknown, assumed 机密 (S3), stay
    ([("内网A", "confidential")], {"S2": None, "S3": None, "S4": "内网A"}),
    # approved for 机密 too: everyone goes, each to the least-privileged platform that is approved
    ([("内网A", "confidential"), ("内网B", "secret")], {"S2": "内网B", "S3": "内网B", "S4": "内网A"}),
])
def test_classified_systems_go_to_an_approved_intranet_platform_or_stay(
        intranets: list[tuple[str, str]], expected: dict[str, str | None]) -> None:
    platforms = [_platform("云", "openstack"), *(_platform(name, "intranet", level) for name, level in intranets)]
    result = plan(_estate(platforms), _params())
    for code, destination in expected.items():
        decision = result.decisions[code]
        assert decision.target is None  # never a cloud target, whatever happens
        assert decision.destination == destination
        assert decision.strategy is (Strategy.INTRANET if destination else Strategy.RETAIN)
        if destination is None:
            wanted = "declare one that is" if intranets else "declare the intranet platform"
            assert wanted in decision.reason_en, decision.reason_en
    assert result.decisions["S1"].strategy is Strategy.REHOST and result.decisions["S1"].target is not None
    assert ("secrecy level (密级) unknown, assumed 机密" in result.decisions["S3"].flags) == bool(expected["S3"])
    # a room closes exactly when none of its systems stays (worked out from the table above)
    closing = {r.room for r in result.rooms if r.closes_after_wave is not None}
    stays = {"R1": expected["S2"] is None, "R2": expected["S3"] is None, "R3": expected["S4"] is None}
    assert closing == {room for room, stay in stays.items() if not stay}


def test_the_intranet_is_never_a_cloud_target_for_anyone() -> None:
    """A non-classified system never lands on an intranet platform, even when it is the only one with room."""
    result = plan(_estate([_platform("内网B", "intranet", "secret")]), _params())
    assert result.decisions["S1"].strategy is Strategy.RELOCATE and result.decisions["S1"].destination is None


def test_the_survey_declares_intranet_platforms_and_secrecy_levels(engine: Engine, tiny_estate: Path) -> None:
    outcome = import_survey(tiny_estate, engine=engine, actor=Actor("test"))
    assert outcome.written and not outcome.report.errors
    with (tiny_estate / "systems.csv").open(encoding="utf-8-sig") as handle:
        declared = {r["系统编码"]: r["密级"] for r in csv.DictReader(handle) if r["密级"]}
    names = {"秘密": SecrecyLevel.CONFIDENTIAL, "机密": SecrecyLevel.SECRET}
    with Session(engine) as session:
        intranet = session.exec(select(CloudPlatform).where(CloudPlatform.kind == "intranet")).one()
        stored = dict(session.exec(select(BusinessSystem.code, BusinessSystem.secrecy_level)
                                   .where(col(BusinessSystem.secrecy_level).is_not(None))).all())
    assert intranet.secrecy_level == SecrecyLevel.SECRET and intranet.network_zone == "intranet"
    assert declared and stored == {code: names[level] for code, level in declared.items()}


def test_a_secrecy_level_that_is_not_one_is_a_named_error(engine: Engine, tiny_estate: Path, tmp_path: Path) -> None:
    survey = tmp_path / "survey"
    shutil.copytree(tiny_estate, survey)
    lines = (survey / "platforms.csv").read_text(encoding="utf-8-sig").splitlines()
    column = lines[0].split(",").index("分级保护等级")
    cells = lines[-1].split(",")
    cells[column] = "很机密"
    lines[-1] = ",".join(cells)
    (survey / "platforms.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = import_survey(survey, engine=engine, actor=Actor("test"))
    assert not outcome.written
    assert [(e.sheet, e.column, e.value) for e in outcome.report.errors] == [("platforms", "分级保护等级", "很机密")]


def test_a_classified_move_runs_gate_by_gate_and_a_cloud_target_is_refused(planned: str, tmp_path: Path) -> None:
    """Every step of the intranet runbook waits for a person; nothing runs a driver or Ansible. A plan row
    forged to give a classified system a cloud target is refused before any step, and audited."""
    db_url = planned
    wave, codes = _wave_of(db_url, "intranet", at_least=2)
    site = _site(tmp_path, db_url)
    moving, forged = codes[0], codes[1]
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        row = session.exec(select(PlanItem).join(BusinessSystem, col(BusinessSystem.id) == PlanItem.system_id)
                           .where(BusinessSystem.code == forged, col(PlanItem.wave_id).is_not(None))).one()
        row.target = {"platform": "openstack", "flavor": "g.4c8g", "vcpus": 4, "memory_gb": 8, "disk_gb": 100}
        session.add(row)
        session.commit()
    engine.dispose()
    assert run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site),
                   "--system", moving, "--system", forged, db_url=db_url).returncode == 0
    for step in INTRANET:
        item = _items(db_url)[moving]
        if step.gate:
            assert item.state == ItemState.WAITING and step.name in (item.error or ""), (step.name, item.error)
            assert run_cli_here("migrate", "approve", str(item.id), step.name, db_url=db_url).returncode == 0
            assert run_cli_here("migrate", "resume", db_url=db_url).returncode == 0
    item = _items(db_url)[moving]
    assert item.state == ItemState.COMPLETED
    done = [e.step for e in _events(db_url, item.id or 0) if e.phase == "after" and e.status == "ok"]
    assert done == [s.name for s in INTRANET]
    assert not (tmp_path / "runs" / f"run-{item.run_id}" / f"item-{item.id}").exists()  # no Ansible, no driver
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        system = session.exec(select(BusinessSystem).where(BusinessSystem.code == moving)).one()
        assert system.status == "migrated"
        refused = _items(db_url)[forged]
        assert refused.state == ItemState.REFUSED and "never to a cloud target" in (refused.error or "")
        audit = session.exec(select(AuditLog).where(AuditLog.entity == "run_item",
                                                    AuditLog.entity_id == str(refused.id))).one()
        assert audit.after is not None and audit.after["state"] == "refused"
        assert session.exec(select(RunItem).where(RunItem.state == ItemState.FAILED)).first() is None
    engine.dispose()
