"""The savings report for finance on the tiny sample estate with a plan (both databases): the
fiscal-year rule (a room closed in year N is paid through N, stops from N+1), rows that add up, cloud
cost recomputed from the plan's own items and wave dates, figures frozen with the plan (a later change
of a room's costs does not move them), defaults marked in the workbook; the CLI writes it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, select

from inventory.db import create_db_engine
from inventory.models import Room
from migration_plans.export import finance_workbook
from migration_plans.finance import savings_report
from migration_plans.store import named_or_current
from tests.conftest import run_cli, run_cli_here


@pytest.fixture
def planned_estate(db_url: str, tiny_estate: Path) -> str:
    for args in (("import", str(tiny_estate)), ("zombies",), ("plan", "create", "--name", "f", "--start",
                                                               "2026-12-07")):
        result = run_cli_here(*args, db_url=db_url)
        assert result.returncode == 0, result.stderr
    return db_url


def _months_billed(wave_end: dt.date, year: int) -> int:
    first_month = dt.date(wave_end.year + wave_end.month // 12, wave_end.month % 12 + 1, 1)
    return 0 if first_month.year > year else 12 if first_month.year < year else 13 - first_month.month


def test_fiscal_years_follow_the_finance_rule(planned_estate: str, tmp_path: Path) -> None:
    engine = create_db_engine(planned_estate)
    with Session(engine) as session:
        plan = named_or_current(session, None)
        document = plan.document
        report = savings_report(session, plan)
        room = session.exec(select(Room).where(Room.code == report.model.rooms[0].room)).one()
        room.rent_cny = (room.rent_cny or 0) + 5_000_000  # a later survey changes a room's cost …
        session.add(room)
        session.commit()
        again = savings_report(session, named_or_current(session, None))
    engine.dispose()
    model = report.model
    assert again.model == model  # … the plan's figures stay as they were signed
    closing = [r for r in model.rooms if r.closes_on is not None]
    assert closing, "the tiny estate's plan closes rooms"
    for r in closing:
        assert r.stops_costing_from == r.closes_on.year + 1  # type: ignore[union-attr]
        closing_year = r.closes_on.year  # type: ignore[union-attr]
        assert r.room in next(y.rooms_closed for y in model.years if y.year == closing_year)
    rooms_total = sum(r.annual_cost_wan for r in model.rooms)
    first = model.years[0]
    assert first.room_cost_paid_wan == pytest.approx(rooms_total, abs=0.05)  # nothing stops in the first year
    for y in model.years:
        assert y.net_saving_wan == pytest.approx(y.baseline_wan - y.room_cost_paid_wan - y.refresh_due_wan
                                                 - y.cloud_cost_wan - y.hosting_cost_wan, abs=0.011)
        stopped = sum(r.annual_cost_wan for r in closing if r.closes_on and r.closes_on.year < y.year)
        assert y.room_cost_paid_wan <= rooms_total - stopped + y.lines_carried_wan + 0.05
    ends = {w["index"]: dt.date.fromisoformat(w["end"]) for w in document["waves"]}
    for y in model.years:  # cloud: each item's price from the month after its wave, from the plan itself
        expected = sum(float(i["target"]["monthly_cny"]) * _months_billed(ends[w["index"]], y.year)
                       for w in document["waves"] for i in w["items"] if i.get("target"))
        assert y.cloud_cost_wan == pytest.approx(expected / 1e4, abs=0.011)

    path = tmp_path / "savings.xlsx"
    finance_workbook(model, report.status, path)
    workbook = openpyxl.load_workbook(path)
    rooms = workbook["rooms 机房"]
    assert rooms.max_row == len(model.rooms) + 1
    header = [str(c.value) for c in rooms[1]]
    money = [h for h in header if h.startswith(("energy (", "rent (", "maintenance (", "staff (", "lines (",
                                                 "annual cost", "cloud cost"))]
    assert len(money) == 7 and all("万元" in h for h in money)  # every money header names its unit
    basis_columns = [k for k, h in enumerate(header) if h and str(h).endswith("basis 依据")]
    defaults_marked = 0
    for row in rooms.iter_rows(min_row=2):
        for k in basis_columns:
            if row[k].value == "default":
                assert row[k - 1].font.i  # the amount next to a "default" basis is italic
                defaults_marked += 1
    assert defaults_marked > 0  # the sample estate leaves some figures to the defaults
    assert any("default" in str(c.value) for c in workbook["assumptions 假设"]["A"])


def test_report_command_and_missing_plan(planned_estate: str, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    result = run_cli("report", "savings", "--xlsx", str(out), db_url=planned_estate)
    assert result.returncode == 0, result.stderr
    assert "savings by fiscal year" in result.stdout and "万元" in result.stdout and out.stat().st_size > 0
    missing = run_cli("report", "savings", "--plan", "nope", db_url=planned_estate)
    assert missing.returncode == 2 and "no plan 'nope'" in missing.stderr
