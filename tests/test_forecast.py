"""Capacity forecast: the trend and plan model gives the crossing days one can work out by hand;
history is recorded by imports; the command forecasts the sample platforms with the plan's waves."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlmodel import Session, select

from inventory.db import create_db_engine
from inventory.models import PlatformDaily
from scheduler.forecast import DayFigures, PlannedAddition, forecast, trend
from tests.conftest import run_cli

TODAY = dt.date(2026, 11, 23)


def _history(start: float, per_day: float, days: int) -> list[DayFigures]:
    return [DayFigures(TODAY - dt.timedelta(days=days - k), {"vcpus": start + per_day * k, "memory_gb": 100.0,
                                                            "storage_gb": 0.0}) for k in range(days + 1)]


def test_linear_trend_gives_the_crossing_day() -> None:
    history = _history(400.0, 2.0, 30)  # 400 → 460 vCPUs over 30 days: +2 a day
    assert trend(history, "vcpus") == 2.0 and trend(history, "memory_gb") == 0.0
    result = forecast("p", {"vcpus": 1000.0, "memory_gb": 1000.0}, {"vcpus": 460.0, "memory_gb": 100.0},
                      history, [], {"vcpus": 100.0, "memory_gb": 512.0}, TODAY, horizon_days=365)
    cpu = next(r for r in result.resources if r.resource == "vcpus")
    assert cpu.days_until == {"75%": 145, "90%": 220}  # (750 − 460) / 2 and (900 − 460) / 2
    assert cpu.crossing["75%"] == TODAY + dt.timedelta(days=145)
    assert "trend over 30 day(s) of history" in result.model
    # At +365 days: 460 + 730 = 1190 vCPUs; under 75% needs 1587 → 6 hosts of 100.
    assert result.expansion_hosts == 6


def test_planned_waves_add_on_their_last_day_and_short_history_has_no_trend() -> None:
    planned = [PlannedAddition(TODAY + dt.timedelta(days=10), {"vcpus": 200.0}),
               PlannedAddition(TODAY + dt.timedelta(days=40), {"vcpus": 200.0})]
    result = forecast("p", {"vcpus": 1000.0}, {"vcpus": 500.0}, _history(400.0, 50.0, 3), planned,
                      {"vcpus": 100.0}, TODAY, horizon_days=100)
    cpu = result.resources[0]
    assert cpu.trend_per_day == 0.0 and "no trend" in result.model and "2 planned item(s)" in result.model
    assert cpu.days_until == {"75%": 40, "90%": 40} and cpu.share_at_horizon == 0.9
    assert result.expansion_hosts == 2  # 900 / 0.75 = 1200 vCPUs needed: 200 more, two hosts of 100


def test_imports_record_history_and_the_command_uses_the_plan(db_url: str, tiny_estate: Path) -> None:
    for args in (("import", str(tiny_estate)), ("plan", "create", "--name", "f", "--start", "2026-12-07")):
        assert run_cli(*args, db_url=db_url).returncode == 0
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        rows = session.exec(select(PlatformDaily)).all()
    engine.dispose()
    assert rows and all(r.allocated_vcpus is not None for r in rows)
    result = run_cli("schedule", "forecast", "--json", db_url=db_url)
    assert result.returncode == 0, result.stderr
    forecasts = json.loads(result.stdout)
    assert len(forecasts) == len({r.platform_id for r in rows})
    planned = [f for f in forecasts if "planned item(s)" in f["model"]]
    assert planned, "the plan's rehost items add to their OpenStack platform"
    for f in planned:
        for r in f["resources"]:  # what is allocated grows; the share may fall where an expansion lands
            assert r["share_at_horizon"] * r["capacity_at_horizon"] >= r["share_now"] * r["capacity"] - 1e-6
            assert r["capacity_at_horizon"] >= r["capacity"]
    table = run_cli("schedule", "forecast", "--platform", forecasts[0]["platform"], db_url=db_url)
    assert table.returncode == 0 and "reaches 75%" in table.stdout
    missing = run_cli("schedule", "forecast", "--platform", "nope", db_url=db_url)
    assert missing.returncode == 2 and "no cloud platform 'nope'" in missing.stderr


def test_measured_use_has_its_own_trend_and_the_plan_adds_use_in_proportion() -> None:
    """Busy cores grow 1 a day against 200 physical cores; a planned 100 vCPUs adds 100 × 0.25 busy cores
    (the platform uses a quarter of what it allocates today)."""
    history = [DayFigures(TODAY - dt.timedelta(days=20 - k), {"vcpus": 400.0, "vcpus_used": 80.0 + k})
               for k in range(21)]
    planned = [PlannedAddition(TODAY + dt.timedelta(days=5), {"vcpus": 100.0})]
    result = forecast("p", {"vcpus": 800.0, "vcpus_used": 200.0}, {"vcpus": 400.0, "vcpus_used": 100.0},
                      history, planned, {"vcpus": 128.0, "vcpus_used": 64.0}, TODAY, horizon_days=100)
    used = next(r for r in result.resources if r.resource == "vcpus_used")
    assert used.measure == "usage" and used.trend_per_day == 1.0
    # 100 now + 25 from the plan on day 5: 75% (150) on day 25, 90% (180) on day 55.
    assert used.days_until == {"75%": 25, "90%": 55}
    # At +100: 100 + 100 + 25 = 225 busy cores; under 75% needs 300 → 100 more, two hosts of 64 cores.
    assert result.expansion_hosts == 2
    allocation = next(r for r in result.resources if r.resource == "vcpus")
    assert allocation.measure == "allocation" and allocation.days_until["75%"] is None  # 500 of 800


def test_usage_recorded_by_the_collector_reaches_the_command(db_url: str, tiny_estate: Path) -> None:
    assert run_cli("import", str(tiny_estate), db_url=db_url).returncode == 0
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        rows = session.exec(select(PlatformDaily)).all()
        for row in rows:  # what an OpenStack collection with measured servers records
            row.used_vcpus, row.used_memory_gb = 10.0, 20.0
            session.add(row)
        session.commit()
    engine.dispose()
    result = run_cli("schedule", "forecast", "--json", db_url=db_url)
    assert result.returncode == 0, result.stderr
    series = {(r["resource"], r["measure"]) for f in json.loads(result.stdout) for r in f["resources"]}
    assert {("vcpus", "allocation"), ("vcpus_used", "usage"), ("memory_gb_used", "usage")} <= series
    assert ("storage_gb_used", "usage") not in series  # never measured: not forecast
