"""The savings report for finance on the tiny sample estate with a plan: fiscal-year rule (a room closed
in year N is paid through N, not from N+1), totals that add up, cloud cost attributed to rooms without
loss, the workbook marks default-based cost parts; the CLI writes it."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session

from inventory.db import create_db_engine
from inventory.settings import get_cost_defaults
from migration_plans.export import finance_workbook
from migration_plans.finance import savings_report
from migration_plans.store import named_or_current
from tests.conftest import run_cli


@pytest.fixture
def planned_estate(db_url: str, tiny_estate: Path) -> str:
    for args in (("import", str(tiny_estate)), ("plan", "create", "--name", "f", "--start", "2026-12-07")):
        result = run_cli(*args, db_url=db_url)
        assert result.returncode == 0, result.stderr
    return db_url


def test_fiscal_years_follow_the_finance_rule(planned_estate: str, tmp_path: Path) -> None:
    engine = create_db_engine(planned_estate)
    with Session(engine) as session:
        document = named_or_current(session, None).document
        report = savings_report(session, document, get_cost_defaults())
    engine.dispose()
    annual = {r.code: r.annual_cost_cny for r in report.rooms}
    closing = [r for r in report.rooms if r.closes_on is not None]
    assert closing, "the tiny estate's plan closes rooms"
    years = {y.year: y for y in report.years}
    for y in report.years:
        assert y.saving_cny == pytest.approx(y.baseline_cny - y.room_cost_paid_cny - y.cloud_cost_cny, abs=0.05)
        assert y.baseline_cny == pytest.approx(sum(annual.values()), abs=0.05)
        if y.year + 1 in years:  # what stops costing next year is exactly what closed this year
            stopped = y.room_cost_paid_cny - years[y.year + 1].room_cost_paid_cny
            assert stopped == pytest.approx(sum(annual[c] for c in y.rooms_closed), abs=0.05)
    first_close = min(r.closes_on.year for r in closing if r.closes_on)
    assert years[first_close].room_cost_paid_cny == pytest.approx(sum(annual.values()), abs=0.05)
    moved = sum(float(i["target"]["monthly_cny"]) * 12 for w in document["waves"] for i in w["items"]
                if i["strategy"] in ("rehost", "replatform") and (i.get("target") or {}).get("monthly_cny"))
    assert sum(r.cloud_cost_cny for r in report.rooms) == pytest.approx(moved, rel=1e-4)
    for r in closing:
        assert r.net_saving_cny == pytest.approx(r.annual_cost_cny - r.cloud_cost_cny, abs=0.05)

    path = tmp_path / "savings.xlsx"
    finance_workbook(report, path)
    workbook = openpyxl.load_workbook(path)
    rooms = workbook["rooms 机房"]
    assert rooms.max_row == len(report.rooms) + 1
    header = [c.value for c in rooms[1]]
    basis_columns = [k for k, h in enumerate(header) if h and str(h).endswith("basis 依据")]
    defaults_marked = 0
    for row in rooms.iter_rows(min_row=2):
        for k in basis_columns:
            if row[k].value == "default":
                assert row[k - 1].font.i  # the amount next to a "default" basis is italic
                defaults_marked += 1
    assert defaults_marked > 0  # the sample estate leaves some figures to the defaults
    fiscal = workbook["fiscal years 年度"]
    assert [r[0].value for r in fiscal.iter_rows(min_row=2, max_row=len(report.years) + 1)] == list(years)


def test_report_command_and_missing_plan(planned_estate: str, tmp_path: Path, db_url: str) -> None:
    out = tmp_path / "r.xlsx"
    result = run_cli("report", "savings", "--xlsx", str(out), db_url=planned_estate)
    assert result.returncode == 0, result.stderr
    assert "savings by fiscal year" in result.stdout and out.stat().st_size > 0
    missing = run_cli("report", "savings", "--plan", "nope", db_url=planned_estate)
    assert missing.returncode == 2 and "no plan 'nope'" in missing.stderr
