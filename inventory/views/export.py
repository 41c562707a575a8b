"""``shangyun export``: the inventory written back as a survey (FORMATS.md §1).

English sheet and column names, plain values in fixed units: sizes in GB, power in W, area in m²,
load in kW, money in CNY per year (flavor prices per month), dates ``YYYY-MM-DD``, yes/no as
``true``/``false``, MLPS as an integer, lists joined by ``,``. The target is an ``.xlsx`` workbook, or a
folder that receives one UTF-8 ``.csv`` per sheet. Re-importing an export changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import sqlalchemy as sa
from sqlmodel import Session

from inventory.errors import InvalidInputError
from inventory.models import UtilizationSample
from inventory.records.sheets import SHEETS_BY_KIND, SheetKind
from inventory.views.cells import csv_cell, text_row
from inventory.views.public import FIELDS, declared_only, load_public, sample_rows, table_of

XLSX_MAX_ROWS = 1_048_576
SAMPLE_FIELDS = ("hostname", "at", "cpu_util", "memory_util", "disk_used_gb")


class ExportError(InvalidInputError):
    """The export cannot be written as asked."""


def plain(value: Any) -> Any:
    """A cell value in the export's fixed form."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _headers(kind: SheetKind, fields: Iterable[str]) -> list[str]:
    spec = {c.field: c.en for c in SHEETS_BY_KIND[kind].columns}
    return [spec[f] for f in fields]


def _sheet_rows(session: Session, kind: SheetKind) -> Iterator[list[Any]]:
    rows = load_public(session, kind)
    if kind is SheetKind.DEPENDENCIES:
        rows = declared_only(rows)
    for _ident, public in rows.values():
        yield [plain(public[f]) for f in FIELDS[kind]]


def _samples(session: Session) -> Iterator[list[Any]]:
    for row in sample_rows(session):
        yield [plain(v) for v in row]


def export_inventory(session: Session, target: Path, *, with_samples: bool = False) -> dict[str, int]:
    """Write every sheet to ``target`` (``.xlsx`` or a folder); return rows written per sheet."""
    sheets: list[tuple[SheetKind, list[str], Iterable[list[Any]]]] = [
        (kind, _headers(kind, FIELDS[kind]), _sheet_rows(session, kind)) for kind in FIELDS]
    if with_samples:
        count = session.execute(sa.select(sa.func.count()).select_from(table_of(UtilizationSample))).scalar_one()
        if target.suffix.lower() == ".xlsx" and count >= XLSX_MAX_ROWS:
            raise ExportError(f"{count} samples exceed an .xlsx sheet's {XLSX_MAX_ROWS - 1} rows; "
                              "export to a folder (CSV) instead")
        sheets.append((SheetKind.SAMPLES, _headers(SheetKind.SAMPLES, SAMPLE_FIELDS), _samples(session)))
    written: dict[str, int] = {}
    if target.suffix.lower() == ".xlsx":
        workbook = openpyxl.Workbook(write_only=True)
        for kind, headers, rows in sheets:
            sheet = workbook.create_sheet(kind.value)
            sheet.append(headers)
            written[kind.value] = 0
            for row in rows:
                sheet.append(text_row(sheet, row))
                written[kind.value] += 1
        target.parent.mkdir(parents=True, exist_ok=True)
        workbook.save(target)
        return written
    if target.suffix:
        raise ExportError(f"{target.name}: export to an .xlsx file or to a folder")
    target.mkdir(parents=True, exist_ok=True)
    for kind, headers, rows in sheets:
        with (target / f"{kind.value}.csv").open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            written[kind.value] = 0
            for row in rows:
                writer.writerow([csv_cell(v) for v in row])
                written[kind.value] += 1
    return written
