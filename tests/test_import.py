"""The survey importer on SQLite and PostgreSQL: values land in fixed units, upserts are idempotent,
bad input is reported row by row and leaves the database exactly as it was."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from collectors.survey.importer import ImportOutcome, import_survey
from inventory.audit import Actor
from inventory.models import (
    AuditLog,
    BusinessSystem,
    Department,
    Room,
    Server,
    SystemServer,
    UtilizationDaily,
    UtilizationSample,
)
from inventory.models.enums import SystemStatus
from tests.survey_files import Sheets, base_survey, snapshot, write_csv_folder, write_workbook

ACTOR = Actor("test:importer")


def run_import(engine: Engine, path: Path, *, dry_run: bool = False, skip_bad_rows: bool = False) -> ImportOutcome:
    return import_survey(path, engine=engine, actor=ACTOR, dry_run=dry_run, skip_bad_rows=skip_bad_rows)


def test_base_survey_lands_in_fixed_units(engine: Engine, tmp_path: Path) -> None:
    outcome = run_import(engine, write_csv_folder(tmp_path / "s", base_survey()))
    assert outcome.written and not outcome.report.errors
    with Session(engine) as session:
        db = session.exec(select(Server).where(Server.hostname == "db-01")).one()
        assert (db.cpu_cores, db.memory_gb, db.storage_gb, db.purchase_date) == (16, 64.0, 2048.0, dt.date(2018, 5, 1))
        child = session.exec(select(Department).where(Department.code == "D2")).one()
        parent = session.exec(select(Department).where(Department.code == "D1")).one()
        assert child.parent_id == parent.id
        room = session.exec(select(Room)).one()
        assert (room.pue, room.area_m2, room.department_id, room.status) == (2.0, 40.0, parent.id, "active")
        s2 = session.exec(select(BusinessSystem).where(BusinessSystem.code == "S2")).one()
        assert (s2.classified, s2.mlps_level, s2.status) == (True, 3, "running")
        placements = session.exec(select(SystemServer)).all()
        assert len(placements) == 3


def test_reimport_changes_nothing_and_writes_no_audit(engine: Engine, tmp_path: Path) -> None:
    folder = write_csv_folder(tmp_path / "s", base_survey())
    first = run_import(engine, folder)
    assert first.report.changed
    before = snapshot(engine)
    with Session(engine) as session:
        audit_rows = session.execute(sa.select(sa.func.count()).select_from(AuditLog)).scalar_one()
        created = session.exec(select(AuditLog).where(AuditLog.action == "create")).all()
    assert {(a.entity, a.entity_id) for a in created} >= {("server", "web-01"), ("room", "R1"), ("system", "S2"),
                                                          ("department", "D2"), ("dependency", "S1->S2")}
    second = run_import(engine, folder)
    assert not second.report.changed
    assert all(c.created == c.updated == 0 for c in second.report.counts.values())
    assert snapshot(engine) == before
    with Session(engine) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(AuditLog)).scalar_one() == audit_rows


def test_changed_value_updates_one_record_with_before_and_after(engine: Engine, tmp_path: Path) -> None:
    run_import(engine, write_csv_folder(tmp_path / "a", base_survey()))
    sheets = base_survey()
    sheets["服务器"][2][3] = "128G"  # db-01 memory measured larger
    outcome = run_import(engine, write_csv_folder(tmp_path / "b", sheets))
    counts = outcome.report.counts
    assert (counts["server"].updated, counts["server"].unchanged) == (1, 1)
    with Session(engine) as session:
        change = session.exec(select(AuditLog).where(AuditLog.entity == "server", AuditLog.action == "update")).one()
    assert (change.entity_id, change.before, change.after, change.actor) == (
        "db-01", {"memory_gb": 64.0}, {"memory_gb": 128.0}, "test:importer")


def test_blank_cell_keeps_the_stored_value(engine: Engine, tmp_path: Path) -> None:
    run_import(engine, write_csv_folder(tmp_path / "a", base_survey()))
    sheets = base_survey()
    sheets["服务器"][1][4] = ""  # web-01 storage left blank in a later survey
    outcome = run_import(engine, write_csv_folder(tmp_path / "b", sheets))
    assert not outcome.report.changed
    with Session(engine) as session:
        assert session.exec(select(Server.storage_gb).where(Server.hostname == "web-01")).one() == 500.0


def test_a_survey_saying_running_does_not_undo_a_zombie_finding(engine: Engine, tmp_path: Path) -> None:
    sheets = base_survey()
    sheets["信息系统"][0].append("运行状态")
    for row in sheets["信息系统"][1:]:
        row.append("运行")
    folder = write_csv_folder(tmp_path / "s", sheets)
    run_import(engine, folder)
    with Session(engine) as session:
        s1 = session.exec(select(BusinessSystem).where(BusinessSystem.code == "S1")).one()
        s1.status = SystemStatus.ZOMBIE
        session.add(s1)
        session.commit()
    again = run_import(engine, folder)
    assert not again.report.changed
    assert any("S1 is zombie" in w for w in again.report.warnings)
    sheets["信息系统"][1][-1] = "停用"  # a department switching its system off is applied
    assert run_import(engine, write_csv_folder(tmp_path / "t", sheets)).report.counts["system"].updated == 1
    with Session(engine) as session:
        assert session.exec(select(BusinessSystem.status).where(BusinessSystem.code == "S1")).one() == "retired"


def test_placement_follows_the_servers_column(engine: Engine, tmp_path: Path) -> None:
    run_import(engine, write_csv_folder(tmp_path / "a", base_survey()))
    sheets = base_survey()
    sheets["信息系统"][1][5] = "web-01"  # S1 no longer on db-01
    outcome = run_import(engine, write_csv_folder(tmp_path / "b", sheets))
    assert outcome.report.counts["system"].updated == 1
    with Session(engine) as session:
        s1 = session.exec(select(BusinessSystem).where(BusinessSystem.code == "S1")).one()
        hosts = session.exec(select(Server.hostname).join(SystemServer, col(SystemServer.server_id) == Server.id)
                             .where(SystemServer.system_id == s1.id)).all()
        change = session.exec(select(AuditLog).where(AuditLog.entity == "system", AuditLog.action == "update")).one()
    assert hosts == ["web-01"]
    assert change.before == {"servers": ["db-01", "web-01"]} and change.after == {"servers": ["web-01"]}


def _corrupt(sheets: Sheets, sheet: str, row: int, column: int, value: str) -> Sheets:
    sheets[sheet][row][column] = value
    return sheets


def _missing_memory_column() -> Sheets:
    sheets = base_survey()
    sheets["服务器"] = [[c for i, c in enumerate(r) if i != 3] for r in sheets["服务器"]]
    return sheets


def _wrong_sheet_name() -> Sheets:
    sheets = base_survey()
    sheets["服务器清单"] = sheets.pop("服务器")
    return sheets


def _duplicate_hostname() -> Sheets:
    sheets = base_survey()
    sheets["服务器"].append(["web-01", "R1", "4", "8G", "", ""])
    return sheets


BAD_INPUTS = {
    "missing required column": (_missing_memory_column, ("服务器", 1, "内存/memory"), "required column missing"),
    "wrong sheet name": (_wrong_sheet_name, ("服务器清单", None, ""), "unknown sheet"),
    "size 16Q": (lambda: _corrupt(base_survey(), "服务器", 1, 3, "16Q"), ("服务器", 2, "内存"), "not a size"),
    "duplicate hostname": (_duplicate_hostname, ("服务器", 4, "主机名"), "duplicate of row 2"),
    "system on unknown server": (lambda: _corrupt(base_survey(), "信息系统", 2, 5, "db-99"),
                                 ("信息系统", 3, "部署服务器"), "unknown server"),
    "non-numeric PUE": (lambda: _corrupt(base_survey(), "机房", 1, 3, "约2"), ("机房", 2, "PUE"), "not a number"),
    "impossible date": (lambda: _corrupt(base_survey(), "服务器", 2, 5, "2019-13-45"), ("服务器", 3, "购置日期"),
                        "not a valid date"),
    "unknown department": (lambda: _corrupt(base_survey(), "机房", 1, 2, "市不存在局"), ("机房", 2, "所属部门"),
                           "unknown department"),
    "bad classified flag": (lambda: _corrupt(base_survey(), "信息系统", 1, 3, "不知道"), ("信息系统", 2, "是否涉密"),
                            "yes/no"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_reported_precisely_and_nothing_is_written(engine: Engine, tmp_path: Path, case: str) -> None:
    run_import(engine, write_csv_folder(tmp_path / "good", base_survey()))
    before = snapshot(engine)
    make, (sheet, row, column), reason = BAD_INPUTS[case]
    sheets = make()
    # The bad survey also carries a legitimate change, to prove the transaction rolls it back.
    if "部门" in sheets:
        sheets["部门"][1][1] = "市教育局（改名）"
    outcome = run_import(engine, write_csv_folder(tmp_path / "bad", sheets))
    assert not outcome.written
    matching = [e for e in outcome.report.errors if e.sheet == sheet and e.row == row and e.column == column]
    assert matching, f"no error at {sheet}/{row}/{column}: {[str(e) for e in outcome.report.errors]}"
    assert reason in matching[0].reason
    assert snapshot(engine) == before


def test_every_bad_row_is_reported_not_only_the_first(engine: Engine, tmp_path: Path) -> None:
    sheets = _corrupt(_corrupt(base_survey(), "服务器", 1, 3, "16Q"), "服务器", 2, 5, "2019-13-45")
    sheets["信息系统"][2][5] = "nosuch-01"
    outcome = run_import(engine, write_csv_folder(tmp_path / "bad", sheets))
    where = {(e.sheet, e.row, e.column) for e in outcome.report.errors}
    assert {("服务器", 2, "内存"), ("服务器", 3, "购置日期"), ("信息系统", 3, "部署服务器")} <= where


def test_skip_bad_rows_writes_the_good_rows(engine: Engine, tmp_path: Path) -> None:
    sheets = _corrupt(base_survey(), "服务器", 1, 3, "16Q")  # web-01 bad → S1 (on web-01) bad too
    outcome = run_import(engine, write_csv_folder(tmp_path / "s", sheets), skip_bad_rows=True)
    assert outcome.written
    assert {(e.sheet, e.row) for e in outcome.report.errors} == {("服务器", 2), ("信息系统", 2), ("依赖关系", 2)}
    with Session(engine) as session:
        assert session.exec(select(Server.hostname)).all() == ["db-01"]
        assert session.exec(select(BusinessSystem.code)).all() == ["S2"]


def test_dry_run_reports_and_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    before = snapshot(engine)
    outcome = run_import(engine, write_csv_folder(tmp_path / "s", base_survey()), dry_run=True)
    assert not outcome.written and outcome.report.counts["server"].created == 2
    assert snapshot(engine) == before


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_encodings_simply_work(engine: Engine, tmp_path: Path, encoding: str) -> None:
    outcome = run_import(engine, write_csv_folder(tmp_path / "s", base_survey(), encoding))
    assert outcome.written and not outcome.report.errors
    with Session(engine) as session:
        assert set(session.exec(select(Department.name)).all()) == {"市教育局", "市教育局信息中心"}


def test_xlsx_with_title_row_english_names_and_typed_cells(engine: Engine, tmp_path: Path) -> None:
    sheets: Sheets = {
        "Departments": [["Code", "Name"], ["D1", "市财政局"]],
        "机房": [["2026年机房调查表（财政局）"], [], ["机房编码", "机房名称", "所属部门", "年租金(万元)", "IT负载(kW)"],
                 ["R1", "财政局机房", "D1", 12.5, 8]],
        "SERVERS": [["hostname", "room", "cpu_cores", "memory (MB)", "purchase_date", "hypervisor", "备注"],
                    ["fin-01", "R1", 24, 131072, dt.datetime(2017, 6, 1), True, "老旧"]],
        "信息系统": [["系统编码", "系统名称", "所属部门", "是否涉密", "等保级别", "审批时间"],
                     ["S1", "预算一体化系统", "市财政局", 0, 3, dt.datetime(2016, 4, 1)]],
    }
    outcome = run_import(engine, write_workbook(tmp_path / "survey.xlsx", sheets))
    assert outcome.written, [str(e) for e in outcome.report.errors]
    assert any("备注" in w for w in outcome.report.warnings)
    with Session(engine) as session:
        server = session.exec(select(Server)).one()
        room = session.exec(select(Room)).one()
        system = session.exec(select(BusinessSystem)).one()
    assert (server.memory_gb, server.purchase_date, server.hypervisor) == (128.0, dt.date(2017, 6, 1), True)
    assert (room.rent_cny, room.it_load_kw) == (125000.0, 8.0)
    assert (system.classified, system.mlps_level, system.approved_at) == (False, 3, dt.date(2016, 4, 1))


def test_empty_spare_sheets_are_ignored_but_unknown_sheets_with_data_are_errors(engine: Engine, tmp_path: Path) -> None:
    sheets = base_survey() | {"Sheet2": [], "Sheet3": [[None, None], ["", ""]]}
    outcome = run_import(engine, write_workbook(tmp_path / "ok.xlsx", sheets))
    assert outcome.written and any("Sheet2: empty sheet ignored" in w for w in outcome.report.warnings)
    bad = run_import(engine, write_workbook(tmp_path / "bad.xlsx", base_survey() | {"Sheet1": [["x"], ["1"]]}))
    assert not bad.written and [e.sheet for e in bad.report.errors] == ["Sheet1"]


def test_a_single_csv_file_imports_as_its_sheet(engine: Engine, tmp_path: Path) -> None:
    folder = write_csv_folder(tmp_path / "s", {"departments": [["code", "name"], ["D5", "市水利局"]]})
    outcome = run_import(engine, folder / "departments.csv")
    assert outcome.written and outcome.report.counts["department"].created == 1


def test_samples_roll_up_per_local_day_across_imports(engine: Engine, tmp_path: Path) -> None:
    run_import(engine, write_csv_folder(tmp_path / "base", base_survey()))
    header = ["主机名", "时间", "CPU利用率(%)", "内存利用率"]
    hours = [["web-01", f"2026-11-02T{h:02d}:00:00", str(h * 4), "50%"] for h in range(24)]
    run_import(engine, write_csv_folder(tmp_path / "a", {"利用率": [header, *hours[:10]]}))
    second = run_import(engine, write_csv_folder(tmp_path / "b", {"samples": [header, *hours]}))
    assert (second.report.samples_inserted, second.report.samples_existing) == (14, 10)
    with Session(engine) as session:
        day = session.exec(select(UtilizationDaily)).one()
        assert session.execute(sa.select(sa.func.count()).select_from(UtilizationSample)).scalar_one() == 24
    cpu = sorted(h * 0.04 for h in range(24))
    assert day.day == dt.date(2026, 11, 2) and day.samples == 24
    assert day.cpu_avg == pytest.approx(sum(cpu) / 24)
    assert day.cpu_p50 == pytest.approx((cpu[11] + cpu[12]) / 2)
    assert day.cpu_p95 == pytest.approx(cpu[21] + (cpu[22] - cpu[21]) * 0.85)
    assert day.cpu_max == pytest.approx(0.92) and day.memory_p95 == pytest.approx(0.5)


def test_sample_for_unknown_host_is_a_row_error(engine: Engine, tmp_path: Path) -> None:
    run_import(engine, write_csv_folder(tmp_path / "base", base_survey()))
    sheets = {"samples": [["hostname", "at", "cpu_util", "memory_util"],
                          ["web-01", "2026-11-02T01:00:00", "0.1", "0.2"],
                          ["ghost-01", "2026-11-02T01:00:00", "0.1", "0.2"],
                          ["web-01", "2026-11-02T02:00", "1.5", "0.2"]]}
    outcome = run_import(engine, write_csv_folder(tmp_path / "s", sheets))
    assert not outcome.written
    assert {(e.row, e.column) for e in outcome.report.errors} == {(3, "hostname"), (4, "cpu_util")}
    with Session(engine) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(UtilizationSample)).scalar_one() == 0
