"""Capacity expansions and shortfalls (issue 16 §4): platforms declare expansions (the survey's 扩容计划 sheet
or ``shangyun platform expand``); the planner counts each from the first wave that starts on or after its
day; systems that still do not fit are named with the expansion that lets the programme finish, which a
re-plan with that expansion assumed then confirms; the forecast raises capacity on the day."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import random
import shutil
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.expansions import ExpansionSpec
from inventory.models import AuditLog, PlatformExpansion
from migration_plans.load import with_assumed
from migration_plans.planning import model as m
from migration_plans.planning.planner import plan
from migration_plans.planning.waves import Unit, pack
from scheduler.forecast import PlannedAddition, forecast
from tests.conftest import run_cli, run_cli_here

START = dt.date(2026, 12, 7)  # a Monday; waves of 14 days


def _platform(name: str, free: tuple[float, float, float], expansions: tuple[m.Expansion, ...] = (),
              ratio: float = 1.0) -> m.Platform:
    flavors = (m.Flavor("g.4c8g", 4, 8.0, 100.0, 300.0), m.Flavor("g.8c16g", 8, 16.0, 100.0, 600.0))
    return m.Platform(name, "openstack", 3, *free, flavors, 40.0, 15.0, 0.5, cpu_ratio=ratio, expansions=expansions)


def _unit(ident: int, need: dict[str, tuple[float, float, float]]) -> Unit:
    return Unit(ident, [f"S{ident}"], frozenset({f"R{ident}"}), "D1", 1, sum(v for v, _, _ in need.values()), need,
                simple=True)


def _params(**kw: object) -> m.PlanParams:
    return m.PlanParams(name="t", start=START, **kw)  # type: ignore[arg-type]


def _replay(units: list[Unit], wave_of: dict[int, int], platforms: list[m.Platform], params: m.PlanParams) -> None:
    """An independent check of a packing: in every wave, what the units placed so far take fits in what is
    free plus the expansions in service by the wave's first day."""
    last = max(wave_of.values(), default=0)
    for wave in range(1, last + 1):
        first_day = params.start + dt.timedelta(days=(wave - 1) * params.wave_days)
        for p in platforms:
            room = [p.free_vcpus, p.free_memory_gb, p.free_storage_gb]
            for e in p.expansions:
                if e.ready_on <= first_day:
                    room = [room[0] + e.vcpus, room[1] + e.memory_gb, room[2] + e.storage_gb]
            taken = [sum(u.platform_need.get(p.name, (0, 0, 0))[i] for u in units if wave_of.get(u.id, 10**9) <= wave)
                     for i in range(3)]
            assert all(t <= r + 1e-6 for t, r in zip(taken, room, strict=True)), (wave, p.name, taken, room)


def test_a_system_too_big_for_today_waits_for_the_wave_its_expansion_lands_in() -> None:
    # the expansion is in service on day 30: wave 3 starts on day 28 (too early), wave 4 on day 42
    platform = _platform("P", (10, 100, 1000), (m.Expansion(START + dt.timedelta(days=30), 20, 0, 0),))
    units = [_unit(1, {"P": (8, 8, 100)}), _unit(2, {"P": (8, 8, 100)}), _unit(3, {"P": (30, 8, 100)})]
    packing = pack(units, _params(), [platform])
    assert packing.wave_of == {1: 1, 2: 4}
    assert packing.short == {3} and "with planned expansions" in packing.rejected[3][0]
    # without the expansion the second one waits too
    bare = pack(units, _params(), [dataclasses.replace(platform, expansions=())])
    assert bare.wave_of == {1: 1} and bare.short == {2, 3}


def test_packings_with_expansions_always_fit_and_only_true_shortfalls_wait() -> None:
    """Random estates, replayed wave by wave; a unit left waiting for capacity is one that no longer fits
    once every expansion is in and every placed unit is counted."""
    rng = random.Random(16)
    for _ in range(150):
        params = _params(wave_days=rng.choice((7, 14)), max_systems_per_wave=rng.choice((2, 3, 50)))
        platforms = [_platform(name, (rng.randint(0, 40), rng.randint(0, 160), rng.randint(0, 2000)), tuple(
            m.Expansion(START + dt.timedelta(days=rng.randint(-5, 120)), rng.randint(0, 30), rng.randint(0, 120),
                        rng.randint(0, 1500)) for _ in range(rng.randint(0, 3)))) for name in ("A", "B")]
        units = [_unit(i, {name: (rng.randint(1, 16), rng.randint(1, 64), rng.randint(10, 600))
                           for name in rng.sample(["A", "B"], rng.choice((1, 1, 2)))})
                 for i in range(rng.randint(1, 14))]
        packing = pack(units, params, platforms)
        _replay(units, packing.wave_of, platforms, params)
        assert set(packing.wave_of) | packing.short == {u.id for u in units}
        for unit in units:
            if unit.id not in packing.short:
                continue
            short_somewhere = False
            for p in platforms:
                if p.name not in unit.platform_need:
                    continue
                total = [p.free_vcpus + sum(e.vcpus for e in p.expansions),
                         p.free_memory_gb + sum(e.memory_gb for e in p.expansions),
                         p.free_storage_gb + sum(e.storage_gb for e in p.expansions)]
                placed = [sum(u.platform_need.get(p.name, (0, 0, 0))[i] for u in units if u.id in packing.wave_of)
                          for i in range(3)]
                short_somewhere |= any(n > t - c + 1e-6 for n, t, c in zip(unit.platform_need[p.name], total, placed,
                                                                             strict=True))
            assert short_somewhere, unit


def _system(code: str, room: str, cores: int) -> m.SystemFacts:
    server = m.ServerUse(f"{code.lower()}-srv", room, cores, cores * 2.0, 200.0, cpu_p95=0.6, memory_p95=0.5,
                         cpu_avg=0.3, memory_avg=0.4, days=30, sizing_days=30)
    return m.SystemFacts(code, code, "D1", False, 2, "running", 100, False, False, None, (server,))


def _estate(platform: m.Platform) -> m.Estate:
    systems = [_system(f"S{i:02d}", f"R{i % 4}", 8) for i in range(12)]
    return m.Estate(systems, [], {f"R{i}": m.RoomCost(f"R{i}", 100_000.0 * (i + 1)) for i in range(4)}, [platform])


def _waiting(result: m.MigrationPlan) -> set[str]:
    return {c for c, d in result.decisions.items()
            if any(f.startswith("not placed: no free capacity") for f in d.flags)}


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_the_named_expansion_lets_the_programme_finish_by_its_wave_and_no_later_day_does(ratio: float) -> None:
    params = _params(max_systems_per_wave=2)
    small = _platform("云", (40 * ratio, 80, 100_000), ratio=ratio)
    result = plan(_estate(small), params)
    waiting = _waiting(result)
    assert waiting, "the cloud is meant to be too small"
    (short,) = result.shortfalls
    assert set(short.systems) == waiting and short.ready_by is not None and short.finish_wave is not None
    assert any(w.startswith(f"capacity: {len(waiting)} system(s) wait for 云") for w in result.warnings)

    def replanned(wave: int) -> m.MigrationPlan:
        day = START + dt.timedelta(days=(wave - 1) * params.wave_days)
        spec = ExpansionSpec("云", day, short.vcpus, short.memory_gb, short.storage_gb / 1024)
        return plan(with_assumed(_estate(small), [spec]), params)

    fixed = replanned(short.ready_wave or 0)  # as `plan create --assume-expansion` would run it
    assert not _waiting(fixed) and not fixed.shortfalls
    assert len(fixed.waves) == short.finish_wave and fixed.waves[-1].end == short.finish_on
    later = replanned((short.ready_wave or 0) + 1)
    assert _waiting(later) or len(later.waves) > short.finish_wave
    assert short.vcpus * ratio >= 1  # physical vCPUs: the allocatable shortfall ÷ the overcommit
    smaller = dataclasses.replace(short, vcpus=short.vcpus - 1)
    spec = ExpansionSpec("云", short.ready_by, smaller.vcpus, short.memory_gb, short.storage_gb / 1024)
    if short.vcpus > 0:  # one vCPU less, and someone still waits: the figure is not padded
        assert _waiting(plan(with_assumed(_estate(small), [spec]), params))


def test_forecast_capacity_rises_on_the_expansion_day() -> None:
    """By hand: 70 of 100 allocated, +10 planned on day 20, +100 capacity on day 10. Without the expansion
    80% on day 20 crosses 75%; with it the share is 80/200 = 40% and never crosses."""
    today = dt.date(2026, 11, 30)
    planned = [PlannedAddition(today + dt.timedelta(days=20), {"vcpus": 10.0})]
    plain = forecast("P", {"vcpus": 100.0}, {"vcpus": 70.0}, [], planned, {}, today, 60)
    grown = forecast("P", {"vcpus": 100.0}, {"vcpus": 70.0}, [], planned, {}, today, 60, [
        PlannedAddition(today + dt.timedelta(days=10), {"vcpus": 100.0}),
        PlannedAddition(today + dt.timedelta(days=90), {"vcpus": 999.0})])
    (before,), (after,) = [[r for r in f.resources if r.resource == "vcpus"] for f in (plain, grown)]
    assert before.crossing["75%"] == today + dt.timedelta(days=20) and before.share_at_horizon == 0.8
    assert after.crossing["75%"] is None and after.share_at_horizon == 0.4 and after.capacity_at_horizon == 200
    assert [e.day for e in grown.expansions] == [today + dt.timedelta(days=10)]  # day 90 is past the horizon
    assert "1 planned expansion(s)" in grown.model


def test_platform_expand_is_checked_audited_and_counted_by_plans(db_url: str, tiny_estate: Path) -> None:
    assert run_cli_here("import", str(tiny_estate), db_url=db_url).returncode == 0
    platform = "政务云-OpenStack互联网区"
    ok = run_cli("platform", "expand", platform, "--on", "2027-02-01", "--vcpus", "64", "--memory-gb", "512",
                 "--storage-tb", "20", "--note", "二期", db_url=db_url)
    assert ok.returncode == 0, ok.stderr
    for args, wanted in [
        (("--on", "2027-02-01", "--vcpus", "8"), "already has an expansion on 2027-02-01"),
        (("--on", "2026-11-30", "--vcpus", "8"), "not after today (2026-11-30)"),
        (("--on", "2027-03-01"), "all three are 0"),
        (("--on", "2027-02-30", "--vcpus", "8"), "--on '2027-02-30' is not a date"),
        (("--on", "2027-03-01", "--vcpus", "2000000"), "in one expansion"),
    ]:
        bad = run_cli_here("platform", "expand", platform, *args, db_url=db_url)
        assert bad.returncode == 2 and wanted in bad.stderr, (args, bad.stderr)
    unknown = run_cli_here("platform", "expand", "no-such", "--on", "2027-03-01", "--vcpus", "8", db_url=db_url)
    assert unknown.returncode == 2 and "no cloud platform 'no-such'" in unknown.stderr
    listed = json.loads(run_cli_here("platform", "expansions", platform, "--json", db_url=db_url).stdout)
    assert listed == [{"platform": platform, "ready_on": "2027-02-01", "vcpus": 64, "memory_gb": 512.0,
                       "storage_tb": 20.0, "note": "二期"}]
    from inventory.db import create_db_engine

    engine = create_db_engine(db_url)
    with Session(engine) as session:
        audit = session.exec(select(AuditLog).where(AuditLog.entity == "platform_expansion")).all()
        (declared,) = [a for a in audit if a.entity_id == f"{platform}@2027-02-01"]  # the refusals wrote nothing
        assert declared.actor.startswith("cli:") and declared.after == {
            "vcpus": 64, "memory_gb": 512.0, "storage_gb": 20480.0, "note": "二期"}
        assert len(session.exec(select(PlatformExpansion)).all()) == 2  # the sample's own, and this one
    engine.dispose()

    bad = run_cli_here("plan", "create", "--name", "w", "--start", "2026-12-07", "--assume-expansion", "云:soon:+1",
                       db_url=db_url)
    assert bad.returncode == 2 and "--assume-expansion '云:soon:+1' is not PLATFORM:YYYY-MM-DD" in bad.stderr
    made = run_cli_here("plan", "create", "--name", "w", "--start", "2026-12-07", "--json", "--assume-expansion",
                        f"{platform}:2027-06-01:+32,+256,+1.5", db_url=db_url)
    assert made.returncode == 0, made.stderr
    expansions = json.loads(made.stdout)["capacity"]["expansions"]
    assert {"platform": platform, "ready_on": "2027-06-01", "vcpus": 32.0, "memory_gb": 256.0,
            "storage_gb": 1536.0, "assumed": True} in expansions
    assert {"platform": platform, "ready_on": "2027-02-01", "vcpus": 64.0, "memory_gb": 512.0,
            "storage_gb": 20480.0, "assumed": False} in expansions
    shown = run_cli_here("platform", "expansions", "--json", db_url=db_url)
    assert "2027-06-01" not in shown.stdout  # a what-if is never stored


def test_the_survey_expansions_sheet_names_a_bad_row(engine: Engine, tiny_estate: Path, tmp_path: Path) -> None:
    survey = tmp_path / "estate"
    shutil.copytree(tiny_estate, survey)
    path = survey / "expansions.csv"
    with path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    rows.append(["没有这个平台", "2027-05-01", "16", "64G", "1T", ""])
    rows.append([rows[1][0], "2027-06-01", "", "", "", "空的"])
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    outcome = import_survey(survey, engine=engine, actor=Actor("test"))
    assert not outcome.written
    assert [(e.sheet, e.row, e.column, e.value) for e in outcome.report.errors] == [
        ("expansions", 3, "平台名称", "没有这个平台"), ("expansions", 4, "新增vCPU", "None")]
