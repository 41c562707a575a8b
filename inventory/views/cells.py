"""Spreadsheet cells that cannot run: a value a user typed (a department called ``=HYPERLINK(…)``) must
reach Excel or WPS as text, never as a formula (CSV/formula injection, OWASP).

- In ``.xlsx`` files a string is written as a string cell, even when it starts with ``=``; openpyxl
  would otherwise store it as a formula. The text is kept exactly, so re-importing changes nothing.
- In ``.csv`` files, which carry no types, a text starting with ``= + - @``, a tab or a carriage return
  gets a leading apostrophe, which spreadsheets show as text. ``csv_text`` removes exactly one, so a
  value that itself begins with apostrophes comes back unchanged too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.workbook import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(text: str) -> bool:
    return text.lstrip("'").startswith(FORMULA_TRIGGERS)


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV export writes it (see the module docstring)."""
    return "'" + value if isinstance(value, str) and _needs_quote(value) else value


def csv_text(value: str) -> str:
    """A CSV cell as it was before ``csv_cell``."""
    return value[1:] if value.startswith("'") and _needs_quote(value[1:]) else value


def as_text_cells(workbook: Workbook) -> Workbook:
    """Turn every cell openpyxl took for a formula back into the text it was given; before saving."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    return workbook


def text_row(sheet: WriteOnlyWorksheet, values: Iterable[Any]) -> list[Any]:
    """A row for a write-only sheet, with any text that looks like a formula as a string cell."""
    row: list[Any] = []
    for value in values:
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            row.append(cell)
        else:
            row.append(value)
    return row


def write_rows_workbook(path: Any, title: str, header: list[str], rows: Iterable[Iterable[Any]]) -> None:
    """One sheet ``title`` of ``header`` and ``rows`` at ``path``, every text a string cell."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append(text_row(sheet, row))
    workbook.save(path)
