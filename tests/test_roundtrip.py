"""import → export → import is lossless, for the xlsx workbook and for a CSV folder with samples."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.db import create_db_engine
from inventory.models import UtilizationDaily, UtilizationSample
from inventory.views.export import ExportError, export_inventory
from tests.survey_files import snapshot

ACTOR = Actor("test:roundtrip")


def _views(state: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in state.items() if k.endswith("_view")}


def _fresh_sqlite(template: Path, target: Path) -> Engine:
    shutil.copy(template, target)
    return create_db_engine(f"sqlite:///{target}")


def test_xlsx_export_reimports_losslessly(engine: Engine, tiny_estate: Path, tmp_path: Path,
                                          sqlite_template: Path) -> None:
    assert import_survey(tiny_estate, engine=engine, actor=ACTOR).written
    with Session(engine) as session:
        written = export_inventory(session, tmp_path / "estate.xlsx")
    assert written["servers"] == 60 and written["systems"] == 20
    workbook = openpyxl.load_workbook(tmp_path / "estate.xlsx", read_only=True)
    assert workbook.sheetnames == ["departments", "rooms", "servers", "systems", "dependencies", "assessments",
                                   "platforms", "flavors", "expansions"]
    header = next(workbook["servers"].iter_rows(values_only=True))
    assert header[:6] == ("hostname", "room", "department", "model", "cpu_cores", "memory")
    before = snapshot(engine)
    again = import_survey(tmp_path / "estate.xlsx", engine=engine, actor=ACTOR)
    assert not again.report.changed and not again.report.errors
    assert snapshot(engine) == before
    other = _fresh_sqlite(sqlite_template, tmp_path / "other.db")
    assert import_survey(tmp_path / "estate.xlsx", engine=other, actor=ACTOR).written
    assert _views(snapshot(other)) == _views(before)
    with Session(other) as session:
        export_inventory(session, tmp_path / "second.xlsx")
    first_rows = {ws.title: list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets}
    second = openpyxl.load_workbook(tmp_path / "second.xlsx", read_only=True)
    assert {ws.title: list(ws.iter_rows(values_only=True)) for ws in second.worksheets} == first_rows
    other.dispose()


def test_csv_export_with_samples_rebuilds_identical_rollups(engine: Engine, tiny_estate: Path, tmp_path: Path,
                                                            sqlite_template: Path) -> None:
    import_survey(tiny_estate, engine=engine, actor=ACTOR)
    with Session(engine) as session:
        written = export_inventory(session, tmp_path / "out", with_samples=True)
        daily = sorted(tuple(r) for r in session.execute(sa.select(UtilizationDaily.__table__)))  # type: ignore[attr-defined]
    assert written["samples"] == 60 * (7 * 24 + (90 - 7) * 4)  # 90 days: the last 7 hourly, the rest 6-hourly
    other = _fresh_sqlite(sqlite_template, tmp_path / "other.db")
    outcome = import_survey(tmp_path / "out", engine=other, actor=ACTOR)
    assert outcome.written and outcome.report.samples_inserted == written["samples"]
    with Session(other) as session:
        rebuilt = sorted(tuple(r) for r in session.execute(sa.select(UtilizationDaily.__table__)))  # type: ignore[attr-defined]
        count = session.execute(sa.select(sa.func.count()).select_from(UtilizationSample)).scalar_one()
    assert count == written["samples"]
    assert len(rebuilt) == len(daily) == 60 * 90
    for mine, theirs in zip(daily, rebuilt, strict=True):
        assert mine[2:] == pytest.approx(theirs[2:])
    other.dispose()


def test_xlsx_refuses_more_samples_than_a_sheet_holds(engine: Engine, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import inventory.views.export as export

    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 0)
    with Session(engine) as session, pytest.raises(ExportError, match="export to a folder"):
        export_inventory(session, tmp_path / "x.xlsx", with_samples=True)
