"""Parse a survey into plain records and a complete list of row errors; no database access.

The header row is the first of a sheet's first ten rows that names at least two of its columns, so
a title row above the table (common in government templates) is allowed. Unknown columns are a
warning (real sheets carry 备注 and the like); unknown sheets, missing required columns, unknown unit
suffixes and every bad value are errors naming sheet, row, column and value. Entity sheets are read
whole (they are small); the samples sheet is streamed in batches by ``iter_samples``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from collectors.survey import values as v
from collectors.survey.reader import RawSheet, open_survey
from inventory.records.sheets import (
    SHEETS,
    ColumnSpec,
    SheetKind,
    SheetSpec,
    ValueKind,
    column_index,
    match_sheet,
    split_header,
)
from inventory.records.survey import RowError, SampleRow, SurveyRow
from inventory.settings import get_settings

HEADER_SEARCH_ROWS = 10

# Fields that identify a row within its sheet; a second row with the same key is an error (except on the
# dependencies sheet, where rows of one pair merge: see ``_merge_dependency``).
SHEET_KEYS: dict[SheetKind, tuple[str, ...]] = {
    SheetKind.DEPARTMENTS: ("code",),
    SheetKind.ROOMS: ("code",),
    SheetKind.SERVERS: ("hostname",),
    SheetKind.SYSTEMS: ("code",),
    SheetKind.DEPENDENCIES: ("system", "depends_on"),
    SheetKind.PLATFORMS: ("name",),
    SheetKind.FLAVORS: ("platform", "name"),
    SheetKind.ASSESSMENTS: ("system", "assessed_on"),
    SheetKind.EXPANSIONS: ("platform", "ready_on"),
}

_SYSTEM_STATUS = v.choice_parser(
    {
        "running": "running", "运行": "running", "运行中": "running", "在用": "running", "在运行": "running",
        "zombie": "zombie", "僵尸": "zombie", "僵尸系统": "zombie",
        "migrating": "migrating", "迁移中": "migrating",
        "migrated": "migrated", "已迁移": "migrated", "已上云": "migrated",
        "retired": "retired", "停用": "retired", "已停用": "retired", "下线": "retired", "已下线": "retired",
    },
    "system status",
)
_PLATFORM_KIND = v.choice_parser(
    {"openstack": "openstack", "kubernetes": "kubernetes", "k8s": "kubernetes",
     "intranet": "intranet", "政务内网": "intranet", "内网": "intranet"}, "platform kind"
)
_NETWORK_ZONE = v.choice_parser(
    {"internet": "internet", "互联网": "internet", "互联网区": "internet", "extranet": "extranet",
     "政务外网": "extranet", "外网": "extranet", "政务外网区": "extranet", "intranet": "intranet",
     "政务内网": "intranet", "内网": "intranet"}, "network zone (互联网区/政务外网/政务内网)"
)
_SECRECY = v.choice_parser(
    {"confidential": "confidential", "秘密": "confidential", "secret": "secret", "机密": "secret",
     "top_secret": "top_secret", "top secret": "top_secret", "绝密": "top_secret"}, "secrecy level (秘密/机密/绝密)"
)








Converter = Callable[[Any], Any]


def make_converter(col: ColumnSpec, factor: float, tz: ZoneInfo) -> Converter:
    """The parser for one column, with the header's unit factor bound in.

    Parsers are pure, so all but free text are memoised: a samples sheet repeats the same few
    hundred timestamps and utilization values a million times.
    """
    convert = _converter(col, factor, tz)
    if col.kind in (ValueKind.TEXT, ValueKind.LIST):
        return convert
    cached = lru_cache(maxsize=1 << 16)(convert)

    def memo(value: Any) -> Any:
        try:
            return cached(value)
        except TypeError:  # an unhashable cell value
            return convert(value)

    return memo


def _converter(col: ColumnSpec, factor: float, tz: ZoneInfo) -> Converter:
    match col.kind:
        case ValueKind.TEXT:
            return v.clean_text
        case ValueKind.INT:
            return lambda x: v.parse_int(x, factor)
        case ValueKind.FLOAT:
            return lambda x: v.parse_float(x, factor)
        case ValueKind.SIZE:
            return lambda x: v.parse_size(x, factor)
        case ValueKind.BOOL:
            return v.parse_bool
        case ValueKind.MLPS:
            return v.parse_mlps
        case ValueKind.DATE:
            return v.parse_date
        case ValueKind.DATETIME:
            return lambda x: v.parse_datetime(x, tz)
        case ValueKind.LIST:
            return v.parse_list
        case ValueKind.FRACTION:
            percent = factor == 100.0
            return lambda x: v.parse_fraction(x, percent)
        case ValueKind.SYSTEM_STATUS:
            return _SYSTEM_STATUS
        case ValueKind.PLATFORM_KIND:
            return _PLATFORM_KIND
        case ValueKind.SECRECY:
            return _SECRECY
        case ValueKind.NETWORK_ZONE:
            return _NETWORK_ZONE
    raise AssertionError(col.kind)


@dataclass
class BoundColumn:
    spec: ColumnSpec
    index: int
    header: str
    convert: Converter


@dataclass
class SheetLayout:
    spec: SheetSpec
    name: str
    header_row: int
    columns: list[BoundColumn]


def _display(value: Any) -> str:
    return "" if value is None else str(value)[:200]


def _find_header(raw: RawSheet, spec: SheetSpec) -> tuple[int, list[Any]] | None:
    index = column_index(spec)
    for number, cells in raw.rows:
        names = {split_header(str(c))[0] for c in cells if c is not None}
        if len(names & index.keys()) >= min(2, len(spec.columns)):
            return number, cells
        if number >= HEADER_SEARCH_ROWS:
            return None
    return None


def bind_layout(raw: RawSheet, spec: SheetSpec, tz: ZoneInfo, errors: list[RowError],
                warnings: list[str]) -> SheetLayout | None:
    """Locate the header row and bind each known column to its parser; report header problems."""
    found = _find_header(raw, spec)
    if found is None:
        expected = ", ".join(f"{c.zh}/{c.en}" for c in spec.columns if c.required)
        errors.append(RowError(raw.name, None, "", "", f"no header row found; expected columns {expected}"))
        return None
    header_row, cells = found
    index = column_index(spec)
    bound: dict[str, BoundColumn] = {}
    for position, cell in enumerate(cells):
        if cell is None or str(cell).strip() == "":
            continue
        header = str(cell).strip()
        name, unit = split_header(header)
        col = index.get(name)
        if col is None:
            warnings.append(f"{raw.name}: column {header!r} is not part of the survey and was ignored")
            continue
        if col.field in bound:
            errors.append(RowError(raw.name, header_row, header, "", "column appears twice"))
            continue
        if unit not in col.units:
            allowed = ", ".join(u for u in col.units if u) or "none"
            errors.append(RowError(raw.name, header_row, header, "", f"unknown unit {unit!r}; allowed: {allowed}"))
            continue
        bound[col.field] = BoundColumn(col, position, header, make_converter(col, col.units[unit], tz))
    missing = [col for col in spec.columns if col.required and col.field not in bound]
    for col in missing:
        errors.append(RowError(raw.name, header_row, f"{col.zh}/{col.en}", "", "required column missing"))
    if missing:  # no row of it can be used; the errors say which columns to add
        return None
    return SheetLayout(spec, raw.name, header_row, list(bound.values()))


def convert_row(layout: SheetLayout, number: int, cells: list[Any],
                errors: list[RowError]) -> dict[str, Any] | None:
    """Parse one data row; ``None`` for a blank row or when any cell is bad (errors appended)."""
    size = len(cells)
    raw_cells = [cells[c.index] if c.index < size else None for c in layout.columns]
    # One pass decides blankness; CSV gives "" for empty cells, str.isspace covers U+3000.
    blanks = [raw is None or raw == "" or (type(raw) is str and raw.isspace()) for raw in raw_cells]
    if all(blanks):
        return None
    parsed: dict[str, Any] = {}
    ok = True
    for col, raw, blank in zip(layout.columns, raw_cells, blanks, strict=True):
        if blank:
            if col.spec.required:
                ok = False
                errors.append(RowError(layout.name, number, col.header, "", "required value missing"))
            parsed[col.spec.field] = None
            continue
        try:
            parsed[col.spec.field] = col.convert(raw)
        except ValueError as exc:
            ok = False
            errors.append(RowError(layout.name, number, col.header, _display(raw), str(exc)))
    return parsed if ok else None


@dataclass
class Survey:
    """A parsed survey: entity rows per sheet, the streamed samples, every error and warning."""

    path: Path
    rows: dict[SheetKind, list[SurveyRow]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _samples: tuple[SheetLayout, RawSheet] | None = None

    @property
    def has_samples(self) -> bool:
        return self._samples is not None

    def samples_location(self, field_: str) -> tuple[str, str]:
        """The samples sheet's name and the header of ``field_`` in it, for error messages."""
        if self._samples is None:
            return "samples", field_
        layout = self._samples[0]
        return layout.name, next((c.header for c in layout.columns if c.spec.field == field_), field_)

    @property
    def samples_total_rows(self) -> int | None:
        """Data rows of the samples sheet (lines after the header), when known, for progress bars."""
        if self._samples is None or self._samples[1].total_rows is None:
            return None
        return max(0, self._samples[1].total_rows - self._samples[0].header_row)

    def iter_samples(self, batch_size: int = 20000) -> Iterator[list[SampleRow]]:
        """Parsed samples in batches; bad rows go to ``errors`` and are left out."""
        if self._samples is None:
            return
        layout, raw = self._samples
        batch: list[SampleRow] = []
        for number, cells in raw.rows:
            values = convert_row(layout, number, cells, self.errors)
            if values is None:
                continue
            batch.append(SampleRow(values["hostname"], values["at"], values["cpu_util"],
                                   values["memory_util"], values.get("disk_used_gb"), number))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch


def _read_entity_sheet(layout: SheetLayout, raw: RawSheet, survey: Survey) -> list[SurveyRow]:
    headers = {c.spec.field: c.header for c in layout.columns}
    by_field = {c.spec.field: c for c in layout.columns}
    key_columns = [by_field[k] for k in SHEET_KEYS.get(layout.spec.kind, ()) if k in by_field]
    seen: dict[tuple[str, ...], int] = {}
    rows: list[SurveyRow] = []
    for number, cells in raw.rows:
        # Duplicates are judged on the raw key cells, so a bad first copy still exposes the second.
        key = tuple(v.clean_text(cells[c.index] if c.index < len(cells) else None) for c in key_columns)
        duplicate_of = seen.get(key) if key_columns and all(key) else None
        errors_before = len(survey.errors)
        values = convert_row(layout, number, cells, survey.errors)
        if duplicate_of is not None and layout.spec.kind is SheetKind.DEPENDENCIES:
            if len(survey.errors) == errors_before and values is not None:
                _merge_dependency(rows, duplicate_of, number, values, layout.name, headers, survey)
            continue
        if duplicate_of is not None:
            survey.errors.append(RowError(layout.name, number, key_columns[-1].header, " / ".join(key),
                                          f"duplicate of row {duplicate_of}"))
        elif key_columns and all(key):
            seen[key] = number
        if len(survey.errors) > errors_before:
            continue
        if values is not None:
            rows.append(SurveyRow(layout.name, number, values, headers))
    return rows


KIND_SEPARATOR = "、"


def _merge_dependency(rows: list[SurveyRow], first: int, number: int, values: dict[str, Any], sheet: str,
                      headers: dict[str, str], survey: Survey) -> None:
    """A second row for the same pair of systems (a database link and an interface, say) joins the first:
    the edge keeps every kind and is tight if any row is. A row adding nothing is a warning."""
    kept = next((r for r in rows if r.row == first), None)
    if kept is None:  # the first row was refused; this one stands in for the pair
        rows.append(SurveyRow(sheet, number, values, headers))
        return
    kinds = [k for k in str(kept.values.get("kind") or "").split(KIND_SEPARATOR) if k]
    added = [k for k in str(values.get("kind") or "").split(KIND_SEPARATOR) if k and k not in kinds]
    tight = bool(kept.values.get("tight")) or bool(values.get("tight"))
    if not added and tight == bool(kept.values.get("tight")):
        survey.warnings.append(f"{sheet} row {number}: repeats row {first} ({values['system']} → "
                               f"{values['depends_on']}); ignored")
        return
    joined = KIND_SEPARATOR.join(kinds + added)
    if len(joined) > 64:
        survey.errors.append(RowError(sheet, number, headers.get("kind", "kind"), joined,
                                      "the kinds of this pair of systems together exceed 64 characters"))
        return
    kept.values["kind"] = joined or None
    if "tight" in kept.values or "tight" in values:
        kept.values["tight"] = tight


def _is_empty(raw: RawSheet, look: int = 50) -> bool:
    """True when the sheet's first ``look`` rows hold no value (Excel's spare Sheet2, Sheet3 …)."""
    for number, cells in raw.rows:
        if any(not v.is_blank(c) for c in cells):
            return False
        if number >= look:
            return False
    return True


def parse_survey(path: Path, stack: ExitStack, tz: ZoneInfo) -> Survey:
    """Read and parse the survey at ``path``; the samples sheet stays open on ``stack`` for streaming."""
    survey = Survey(path)
    seen_kinds: dict[SheetKind, str] = {}
    for raw in open_survey(path, stack):
        spec = match_sheet(raw.name)
        if spec is None and _is_empty(raw):
            survey.warnings.append(f"{raw.name}: empty sheet ignored")
            continue
        if spec is None:
            expected = ", ".join(f"{s.zh}/{s.en}" for s in SHEETS)
            survey.errors.append(RowError(raw.name, None, "", raw.name, f"unknown sheet; expected one of {expected}"))
            continue
        if spec.kind in seen_kinds:
            survey.errors.append(RowError(raw.name, None, "", raw.name,
                                          f"same sheet as {seen_kinds[spec.kind]!r}; give each sheet once"))
            continue
        seen_kinds[spec.kind] = raw.name
        layout = bind_layout(raw, spec, tz, survey.errors, survey.warnings)
        if layout is None:
            continue
        if spec.kind is SheetKind.SAMPLES:
            # streamed in batches, never held: its bound is time, not memory
            raw.limit, raw.limit_setting = get_settings().max_sample_rows, "SHANGYUN_MAX_SAMPLE_ROWS"
            survey._samples = (layout, raw)
        else:
            survey.rows[spec.kind] = _read_entity_sheet(layout, raw, survey)
    return survey
