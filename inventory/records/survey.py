"""A parsed survey as the writer sees it: rows with the fields of their sheet, streamed samples, every
error and warning (``collectors.survey.parse`` produces it)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from inventory.records.sheets import SheetKind


@dataclass(frozen=True)
class RowError:
    """One problem in the input: where it is, what was there and why it is wrong."""

    sheet: str
    row: int | None
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.sheet}" + (f" row {self.row}" if self.row is not None else "")
        column = f", column {self.column!r}" if self.column else ""
        value = f", value {self.value!r}" if self.value else ""
        return f"{where}{column}{value}: {self.reason}"


@dataclass
class SurveyRow:
    """One parsed row: the fields of the columns present, and where it came from."""

    sheet: str
    row: int
    values: dict[str, Any]
    headers: dict[str, str]

    def header(self, field_: str) -> str:
        return self.headers.get(field_, field_)


class SampleRow(NamedTuple):
    hostname: str
    at: Any  # aware UTC datetime
    cpu_util: float
    memory_util: float
    disk_used_gb: float | None
    row: int


class ParsedSurvey(Protocol):
    """What the survey writer reads of a parsed survey."""

    path: Path
    rows: dict[SheetKind, list[SurveyRow]]
    errors: list[RowError]
    warnings: list[str]

    @property
    def has_samples(self) -> bool: ...

    @property
    def samples_total_rows(self) -> int | None: ...

    def samples_location(self, field_: str) -> tuple[str, str]: ...

    def iter_samples(self, batch_size: int = 20000) -> Iterator[list[SampleRow]]: ...
