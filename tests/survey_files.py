"""Small hand-made surveys for the importer tests, written as CSV folders or xlsx workbooks."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import openpyxl
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from inventory.records.sheets import SheetKind
from inventory.views.public import load_public

Sheets = dict[str, list[list[Any]]]


def base_survey() -> Sheets:
    """A valid survey: 2 departments, 1 room, 2 servers, 2 systems (one classified), 1 dependency."""
    return {
        "部门": [["部门编码", "部门名称", "上级部门"], ["D1", "市教育局", ""], ["D2", "市教育局信息中心", "D1"]],
        "机房": [["机房编码", "机房名称", "所属部门", "PUE", "面积"], ["R1", "教育局机房", "市教育局", "2.0", "40"]],
        "服务器": [["主机名", "所在机房", "CPU核数", "内存", "存储", "购置日期"],
                   ["web-01", "R1", "8", "16G", "500G", "2019-03-01"],
                   ["db-01", "R1", "16", "64G", "2T", "2018/5/1"]],
        "信息系统": [["系统编码", "系统名称", "所属部门", "是否涉密", "等保级别", "部署服务器"],
                     ["S1", "学籍管理系统", "D1", "否", "二级", "web-01、db-01"],
                     ["S2", "涉密办公系统", "D1", "是", "第三级", "db-01"]],
        "依赖关系": [["系统编码", "依赖系统编码", "紧耦合"], ["S1", "S2", "否"]],
    }


def write_csv_folder(folder: Path, sheets: Sheets, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in sheets.items():
        with (folder / f"{name}.csv").open("w", encoding=encoding, newline="") as handle:
            csv.writer(handle).writerows(rows)
    return folder


def write_workbook(path: Path, sheets: Sheets) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def snapshot(engine: Engine) -> dict[str, Any]:
    """Row counts of every table and the survey view of each entity: equal snapshots = unchanged DB."""
    with Session(engine) as session:
        state: dict[str, Any] = {
            table.name: session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }
        for kind in (SheetKind.DEPARTMENTS, SheetKind.ROOMS, SheetKind.SERVERS, SheetKind.SYSTEMS,
                     SheetKind.DEPENDENCIES, SheetKind.PLATFORMS, SheetKind.FLAVORS):
            state[kind.value + "_view"] = {str(k): v[1] for k, v in load_public(session, kind).items()}
    return state
