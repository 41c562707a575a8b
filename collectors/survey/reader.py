"""Raw access to a survey: the sheets of an ``.xlsx`` workbook, a folder of ``.csv`` files, or one ``.csv``.

CSV files may be UTF-8 (with or without BOM) or GBK/GB18030, as Chinese Excel saves them; the
encoding is detected from the bytes. Rows are yielded lazily with spreadsheet row numbers (row 1 is
the first line), so a million-row samples file is never held in memory.

Limits (settings): rows per sheet (the streamed samples sheet has its own, larger limit), and for a
workbook its member count and unzipped size, checked before anything is unpacked. A workbook's
declared dimension (``A1:XFD1048576``, or one that understates its rows) is ignored: every row present
is read, and nothing past the last one.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from inventory.errors import InvalidInputError
from inventory.settings import get_settings
from inventory.views.cells import csv_text


class SurveyFileError(InvalidInputError):
    """The survey file itself cannot be read (missing, wrong type, undecodable)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass
class RawSheet:
    """One sheet's rows, read lazily; more than ``limit`` rows is an error when the row past it is read
    (the parser raises ``limit`` to ``SHANGYUN_MAX_SAMPLE_ROWS`` once it knows a sheet is the streamed
    samples sheet)."""

    name: str
    source: Iterator[tuple[int, list[Any]]]
    total_rows: int | None
    limit: int = field(default_factory=lambda: get_settings().max_sheet_rows)
    limit_setting: str = "SHANGYUN_MAX_SHEET_ROWS"
    file_name: str | None = None  # a CSV file's name, for messages

    def __post_init__(self) -> None:
        self.rows = self._limited()

    def _limited(self) -> Iterator[tuple[int, list[Any]]]:
        for number, cells in self.source:
            if number > self.limit:
                raise SurveyFileError(f"{self.file_name or self.name}: more than {self.limit:,} rows "
                                      f"({self.limit_setting}); split the file")
            yield number, cells


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` for a BOM, ``utf-8`` when the first MiB decodes as UTF-8, else ``gb18030``."""
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            count += chunk.count(b"\n")
    return count


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list[Any]]]:
    with path.open(encoding=encoding, newline="") as handle:
        try:
            for number, row in enumerate(csv.reader(handle), start=1):
                if any("\x00" in cell for cell in row):
                    raise SurveyFileError(f"{path.name}: row {number} holds a NUL byte; save the file as text again")
                yield number, [csv_text(cell) for cell in row]  # an export's '=… is the text =…
        except UnicodeDecodeError as exc:
            raise SurveyFileError(f"{path.name}: not valid {encoding} text ({exc.reason})") from None
        except csv.Error as exc:
            raise SurveyFileError(f"{path.name}: malformed CSV ({exc})") from None


def _csv_sheet(path: Path) -> RawSheet:
    encoding = detect_encoding(path)
    total = _count_lines(path) if path.stat().st_size > (1 << 20) else None
    return RawSheet(path.stem, _csv_rows(path, encoding), total, file_name=path.name)


def _xlsx_rows(worksheet: Any) -> Iterator[tuple[int, list[Any]]]:
    for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
        yield number, list(row)


def _check_archive(path: Path) -> None:
    """Refuse a zip bomb before openpyxl unpacks anything: too many members, or too large unpacked."""
    settings = get_settings()
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise SurveyFileError(f"{path.name}: not a readable .xlsx workbook ({exc})") from None
    if len(members) > settings.max_workbook_members:
        raise SurveyFileError(f"{path.name}: {len(members):,} files inside the workbook, more than "
                              f"{settings.max_workbook_members:,} (SHANGYUN_MAX_WORKBOOK_MEMBERS)")
    unpacked = sum(m.file_size for m in members) / (1 << 20)
    if unpacked > settings.max_workbook_unpacked_mb:
        raise SurveyFileError(f"{path.name}: {unpacked:,.0f} MB once unzipped, more than "
                              f"{settings.max_workbook_unpacked_mb:,.0f} MB (SHANGYUN_MAX_WORKBOOK_UNPACKED_MB)")


def _xlsx_sheet(worksheet: Any) -> RawSheet:
    declared = worksheet.max_row  # the file's own claim: a progress hint only
    worksheet.reset_dimensions()  # read every row there is, no more and no fewer than the claim
    return RawSheet(worksheet.title, _xlsx_rows(worksheet), declared)


def open_survey(path: Path, stack: ExitStack) -> list[RawSheet]:
    """The raw sheets of the survey at ``path``; files stay open until ``stack`` closes."""
    if not path.exists():
        raise SurveyFileError(f"{path}: no such file or folder")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
        if not files:
            raise SurveyFileError(f"{path}: the folder holds no .csv file")
        return [_csv_sheet(p) for p in files]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [_csv_sheet(path)]
    if suffix in (".xlsx", ".xlsm"):
        _check_archive(path)
        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise SurveyFileError(f"{path.name}: not a readable .xlsx workbook ({exc})") from None
        stack.callback(workbook.close)
        return [_xlsx_sheet(ws) for ws in workbook.worksheets]
    raise SurveyFileError(f"{path.name}: expected an .xlsx workbook, a .csv file or a folder of .csv files")
