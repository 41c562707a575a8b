"""The one writer that upserts a parsed survey into the inventory, in the caller's transaction.

Rows are matched to existing records by their key (department/room/system code, hostname, platform
name, platform + flavor name, system + depends-on). A row whose values equal the stored ones is
``unchanged`` and writes nothing, so importing the same workbook twice changes nothing. A blank cell
carries no information: it leaves the stored value as it is (new records get the defaults).

References to other sheets (a room's department, a server's room, a system's servers, a flavor's
platform) must name a record in this survey or already in the inventory; an unknown one is a row
error, never a silent creation. Every created or changed record writes an audit row with its
before/after values; the caller commits, or rolls back when errors are reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from inventory.audit import Actor, audit_row, write_audit
from inventory.models import (
    AuditAction,
    BusinessSystem,
    CloudPlatform,
    Department,
    Dependency,
    DependencySource,
    Flavor,
    MlpsAssessment,
    PlatformExpansion,
    Room,
    Server,
    SystemServer,
    SystemStatus,
)
from inventory.platform_history import record_platform_day
from inventory.reconcile import agree, measured_choices, record_declared
from inventory.records.sheets import SheetKind
from inventory.records.survey import ParsedSurvey, RowError, SurveyRow
from inventory.rollups import recompute_rollups
from inventory.views.public import FIELDS, Keyed, declared_only, load_public
from inventory.writers.staged_samples import SheetProgress, StagedSamples, move_staged

KEPT_STATUSES = (SystemStatus.ZOMBIE, SystemStatus.MIGRATING, SystemStatus.MIGRATED)


@dataclass
class EntityCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a failed import, would have done)."""

    counts: dict[str, EntityCounts] = field(default_factory=dict)
    samples_inserted: int = 0
    samples_existing: int = 0
    rollup_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped_rows: int = 0

    @property
    def changed(self) -> bool:
        return self.samples_inserted > 0 or any(c.created or c.updated for c in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": {k: vars(c) for k, c in self.counts.items()},
            "samples_inserted": self.samples_inserted,
            "samples_existing": self.samples_existing,
            "rollup_rows": self.rollup_rows,
            "errors": len(self.errors),
            "skipped_rows": self.skipped_rows,
        }


@dataclass
class _Desired:
    """A row's wanted state: ``public`` (codes, for comparison and audit) and ``columns`` (ids)."""

    row: SurveyRow
    key: Hashable
    public: dict[str, Any]
    columns: dict[str, Any]


@lru_cache
def insert_defaults(model: type[SQLModel]) -> dict[str, Any]:
    """Every column of ``model`` but the id, with its declared default (None for optional fields).

    Building the model object per row only to read its defaults costs more than the insert itself.
    """
    return {name: None if info.is_required() else info.get_default(call_default_factory=True)
            for name, info in model.model_fields.items() if name != "id"}


def _table(model: type[SQLModel]) -> sa.Table:
    return model.__table__  # type: ignore[attr-defined, no-any-return]


def _present(values: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The given, non-blank values among ``names``."""
    return {n: values[n] for n in names if values.get(n) is not None}


class _CodeIndex:
    """Look up a record id by code (or name, when unique), for references between sheets."""

    def __init__(self) -> None:
        self.by_code: dict[str, int] = {}
        self.code_of: dict[int, str] = {}
        self._by_name: dict[str, int | None] = {}

    def add(self, code: str, name: str | None, ident: int) -> None:
        self.by_code[code] = ident
        self.code_of[ident] = code
        if name:
            self._by_name[name] = None if name in self._by_name and self._by_name[name] != ident else ident

    def resolve(self, ref: str) -> int | None:
        if ref in self.by_code:
            return self.by_code[ref]
        return self._by_name.get(ref)


class SurveyWriter:
    """Applies one parsed survey to the inventory inside ``session``'s transaction."""

    def __init__(self, session: Session, survey: ParsedSurvey, actor: Actor, tz: ZoneInfo,
                 progress: SheetProgress | None = None, staged: StagedSamples | None = None) -> None:
        self.session = session
        self.staged = staged
        self.survey = survey
        self.actor = actor
        self.tz = tz
        self.progress = progress
        self.report = ImportReport(errors=survey.errors, warnings=survey.warnings)
        self.now = dt.datetime.now(dt.UTC)
        self.audit: list[dict[str, Any]] = []
        self.departments = _CodeIndex()
        self.rooms = _CodeIndex()
        self.systems = _CodeIndex()
        self.servers: dict[str, int] = {}
        self.servers_by_name: dict[str, int] = {}
        self.platforms: dict[str, int] = {}

    # ---- helpers -------------------------------------------------------------------------------
    def _error(self, row: SurveyRow, field_: str, value: Any, reason: str) -> None:
        self.report.errors.append(RowError(row.sheet, row.row, row.header(field_), str(value), reason))

    def _ref(self, row: SurveyRow, field_: str, index: _CodeIndex, what: str) -> int | None:
        ref = row.values.get(field_)
        if ref is None:
            return None
        ident = index.resolve(ref)
        if ident is None:
            self._error(row, field_, ref, f"unknown {what}: not in this survey nor in the inventory")
        return ident

    def _load_index(self, model: type[SQLModel], index: _CodeIndex) -> None:
        table = _table(model)
        for ident, code, name in self.session.execute(sa.select(table.c.id, table.c.code, table.c.name)):
            index.add(code, name, ident)

    def _apply(self, entity: str, model: type[SQLModel], desired: list[_Desired],
               existing: Keyed, key_label: Callable[[Hashable], str],
               ) -> dict[Hashable, int]:
        """Insert new and update changed records; audit both; return key → id of the touched rows."""
        counts = self.report.counts.setdefault(entity, EntityCounts())
        table = _table(model)
        inserts: list[_Desired] = []
        updates: list[tuple[int, _Desired, dict[str, Any]]] = []
        ids: dict[Hashable, int] = {}
        for item in desired:
            found = existing.get(item.key)
            if found is None:
                inserts.append(item)
                continue
            ident, before = found
            ids[item.key] = ident
            changed = {k: v for k, v in item.public.items() if before.get(k) != v}
            if not changed:
                counts.unchanged += 1
                continue
            updates.append((ident, item, {k: before.get(k) for k in changed}))
        if inserts:
            defaults = insert_defaults(model)
            rows = [defaults | item.columns for item in inserts]
            self.session.execute(sa.insert(table), rows)
            counts.created += len(inserts)
            self.audit.extend(audit_row(self.actor, entity, key_label(i.key), AuditAction.CREATE, None,
                                        i.public, self.now) for i in inserts)
        for ident, item, before in updates:
            self.session.execute(sa.update(table).where(table.c.id == ident).values(**item.columns))
            after = {k: item.public[k] for k in before}
            self.audit.append(audit_row(self.actor, entity, key_label(item.key), AuditAction.UPDATE, before,
                                        after, self.now))
        counts.updated += len(updates)
        return ids

    def _sheet(self, kind: SheetKind) -> list[SurveyRow]:
        rows = self.survey.rows.get(kind, [])
        if self.progress and rows:
            self.progress(kind.value, len(rows), len(rows))
        return rows

    # ---- sheets ------------------------------------------------------------------------------
    def departments_sheet(self) -> None:
        self._load_index(Department, self.departments)
        rows = self._sheet(SheetKind.DEPARTMENTS)
        if not rows:
            return
        existing = load_public(self.session, SheetKind.DEPARTMENTS)
        sheet_codes = {r.values["code"]: r.values["name"] for r in rows}
        desired: list[_Desired] = []
        for row in rows:
            public = _present(row.values, ("code", "name", "parent"))
            parent = public.get("parent")
            if parent is not None:
                resolved = self.departments.resolve(parent)
                parent_code = self.departments.code_of.get(resolved) if resolved is not None else None
                if parent_code is None and parent in sheet_codes:
                    parent_code = parent
                if parent_code is None:
                    parent_code = next((c for c, n in sheet_codes.items() if n == parent), None)
                if parent_code is None:
                    self._error(row, "parent", parent, "unknown department: not in this survey nor in the inventory")
                    continue
                if parent_code == public["code"]:
                    self._error(row, "parent", parent, "a department cannot be its own parent")
                    continue
                public["parent"] = parent_code
            desired.append(_Desired(row, public["code"], public, {"code": public["code"], "name": public["name"]}))
        ids = self._apply("department", Department, desired, existing, str)
        self._load_index(Department, self.departments)
        table = _table(Department)
        for item in desired:
            parent_code = item.public.get("parent")
            found = existing.get(item.key)
            if parent_code is None or (found is not None and found[1]["parent"] == parent_code):
                continue
            ident = ids.get(item.key) or self.departments.by_code[item.public["code"]]
            self.session.execute(sa.update(table).where(table.c.id == ident).values(
                parent_id=self.departments.by_code[parent_code]))

    def rooms_sheet(self) -> None:
        self._load_index(Room, self.rooms)
        rows = self._sheet(SheetKind.ROOMS)
        if not rows:
            return
        fields = FIELDS[SheetKind.ROOMS]
        existing = load_public(self.session, SheetKind.ROOMS)
        desired: list[_Desired] = []
        for row in rows:
            department_id = self._ref(row, "department", self.departments, "department")
            if department_id is None:
                continue
            public = _present(row.values, fields)
            public["department"] = self.departments.code_of[department_id]
            columns = {k: v for k, v in public.items() if k != "department"} | {"department_id": department_id}
            desired.append(_Desired(row, public["code"], public, columns))
        self._apply("room", Room, desired, existing, str)
        self._load_index(Room, self.rooms)

    def servers_sheet(self) -> None:
        table = _table(Server)
        rows = self._sheet(SheetKind.SERVERS)
        if rows:
            fields = FIELDS[SheetKind.SERVERS]
            existing = load_public(self.session, SheetKind.SERVERS)
            self.servers_by_name = {h: i for i, h in self.session.execute(sa.select(table.c.id, table.c.hostname))}
            desired: list[_Desired] = []
            for row in rows:
                room_id = self._ref(row, "room", self.rooms, "machine room")
                department_id = self._ref(row, "department", self.departments, "department")
                if room_id is None or (row.values.get("department") is not None and department_id is None):
                    continue
                public = _present(row.values, fields)
                public["room"] = self.rooms.code_of[room_id]
                columns = {k: v for k, v in public.items() if k not in ("room", "department")}
                columns["room_id"] = room_id
                if department_id is not None:
                    public["department"] = self.departments.code_of[department_id]
                    columns["department_id"] = department_id
                desired.append(_Desired(row, public["hostname"], public, columns))
            self._keep_measured(desired)
            self._apply("server", Server, desired, existing, str)
        self.servers = {h: i for i, h in self.session.execute(sa.select(table.c.id, table.c.hostname))}
        if rows:
            record_declared(self.session, {self.servers[str(d.key)]: d.row.values for d in desired}, self.now)

    def _keep_measured(self, desired: list[_Desired]) -> None:
        """A measured fact beats the survey's (inventory/reconcile.py): keep it, and say so."""
        measured = measured_choices(self.session)
        if not measured:
            return
        for item in desired:
            server_id = self.servers_by_name.get(str(item.key))
            for field_, observation in measured.get(server_id, {}).items() if server_id else ():
                declared = item.public.get(field_)
                if declared is None or agree(field_, declared, observation.value):
                    continue
                item.public[field_] = item.columns[field_] = observation.value
                self.report.warnings.append(
                    f"{item.row.sheet} row {item.row.row}: {item.key} {field_} {declared!r} differs from "
                    f"{observation.value!r} measured by {observation.source}; kept the measured value "
                    "(see `shangyun conflicts`)")

    def systems_sheet(self) -> None:
        self._load_index(BusinessSystem, self.systems)
        rows = self._sheet(SheetKind.SYSTEMS)
        if not rows:
            return
        fields = FIELDS[SheetKind.SYSTEMS]
        existing = load_public(self.session, SheetKind.SYSTEMS)
        desired: list[_Desired] = []
        for row in rows:
            department_id = self._ref(row, "department", self.departments, "department")
            servers = row.values.get("servers")
            unknown = [h for h in servers or [] if h not in self.servers]
            for hostname in unknown:
                self._error(row, "servers", hostname, "unknown server: not in this survey nor in the inventory")
            if department_id is None or unknown:
                continue
            public = _present(row.values, fields)
            public["department"] = self.departments.code_of[department_id]
            stored = existing.get(public["code"])
            stored_status = stored[1]["status"] if stored else None
            if public.get("status") == SystemStatus.RUNNING and stored_status in KEPT_STATUSES:
                # Measured or lifecycle state beats a declaration: a survey saying 运行 does not
                # undo a zombie finding or a migration under way.
                del public["status"]
                self.report.warnings.append(f"{row.sheet} row {row.row}: {public['code']} is {stored_status} in the "
                                            "inventory; the survey's 'running' was not applied")
            if servers is not None:
                public["servers"] = sorted(set(servers))
            columns = {k: v for k, v in public.items() if k not in ("department", "servers")}
            columns["department_id"] = department_id
            desired.append(_Desired(row, public["code"], public, columns))
        self._apply("system", BusinessSystem, desired, existing, str)
        self._load_index(BusinessSystem, self.systems)
        self._write_placement(desired, existing)

    def _write_placement(self, desired: list[_Desired], existing: Keyed) -> None:
        table = _table(SystemServer)
        added: list[dict[str, int]] = []
        for item in desired:
            if "servers" not in item.public:
                continue
            system_id = self.systems.by_code[item.public["code"]]
            found = existing.get(item.key)
            wanted, current = set(item.public["servers"]), set(found[1]["servers"] if found else [])
            if wanted == current:
                continue
            removed = [self.servers[h] for h in current - wanted]
            if removed:
                self.session.execute(sa.delete(table).where(table.c.system_id == system_id,
                                                            table.c.server_id.in_(removed)))
            added.extend({"system_id": system_id, "server_id": self.servers[h]} for h in sorted(wanted - current))
        if added:
            self.session.execute(sa.insert(table), added)

    def dependencies_sheet(self) -> None:
        rows = self._sheet(SheetKind.DEPENDENCIES)
        if not rows:
            return
        code = self.systems.code_of
        existing = declared_only(load_public(self.session, SheetKind.DEPENDENCIES))
        desired: list[_Desired] = []
        for row in rows:
            system_id = self._ref(row, "system", self.systems, "system")
            depends_on_id = self._ref(row, "depends_on", self.systems, "system")
            if system_id is None or depends_on_id is None:
                continue
            if system_id == depends_on_id:
                self._error(row, "depends_on", row.values["depends_on"], "a system cannot depend on itself")
                continue
            public = _present(row.values, ("kind", "tight"))
            public |= {"system": code[system_id], "depends_on": code[depends_on_id]}
            columns: dict[str, Any] = {k: public[k] for k in ("kind", "tight") if k in public}
            columns |= {"system_id": system_id, "depends_on_id": depends_on_id, "source": DependencySource.DECLARED}
            key = (public["system"], public["depends_on"], DependencySource.DECLARED.value)
            desired.append(_Desired(row, key, public, columns))
        self._apply("dependency", Dependency, desired, existing, lambda k: f"{k[0]}->{k[1]}")  # type: ignore[index]

    def assessments_sheet(self) -> None:
        """MLPS assessments (等保测评), one per system and date."""
        rows = self._sheet(SheetKind.ASSESSMENTS)
        if not rows:
            return
        existing = load_public(self.session, SheetKind.ASSESSMENTS)
        desired: list[_Desired] = []
        for row in rows:
            system_id = self._ref(row, "system", self.systems, "system")
            if system_id is None:
                continue
            public = _present(row.values, FIELDS[SheetKind.ASSESSMENTS]) | {"system": self.systems.code_of[system_id]}
            columns = {k: v for k, v in public.items() if k != "system"} | {"system_id": system_id}
            desired.append(_Desired(row, (public["system"], public["assessed_on"]), public, columns))
        self._apply("mlps_assessment", MlpsAssessment, desired, existing,
                    lambda k: f"{k[0]}@{k[1]}")  # type: ignore[index]

    def platforms_sheet(self) -> None:
        table = _table(CloudPlatform)
        rows = self._sheet(SheetKind.PLATFORMS)
        if rows:
            fields = FIELDS[SheetKind.PLATFORMS]
            existing = load_public(self.session, SheetKind.PLATFORMS)
            desired = [_Desired(row, row.values["name"], _present(row.values, fields), _present(row.values, fields))
                       for row in rows]
            self._apply("platform", CloudPlatform, desired, existing, str)
            day = self.now.astimezone(self.tz).date()
            for name in {r.values["name"] for r in rows}:
                platform = self.session.exec(select(CloudPlatform).where(CloudPlatform.name == name)).first()
                if platform is not None:
                    record_platform_day(self.session, platform, day)
        self.platforms = {n: i for i, n in self.session.execute(sa.select(table.c.id, table.c.name))}

    def _platform_of(self, row: SurveyRow) -> int | None:
        """The id of the platform ``row`` names, or None with the row's error recorded."""
        platform_id = self.platforms.get(row.values["platform"])
        if platform_id is None:
            self._error(row, "platform", row.values["platform"],
                        "unknown cloud platform: not in this survey nor in the inventory")
        return platform_id

    def flavors_sheet(self) -> None:
        rows = self._sheet(SheetKind.FLAVORS)
        if not rows:
            return
        fields = FIELDS[SheetKind.FLAVORS]
        existing = load_public(self.session, SheetKind.FLAVORS)
        desired: list[_Desired] = []
        for row in rows:
            if (platform_id := self._platform_of(row)) is None:
                continue
            public = _present(row.values, fields)
            columns = {k: v for k, v in public.items() if k != "platform"} | {"platform_id": platform_id}
            desired.append(_Desired(row, (public["platform"], public["name"]), public, columns))
        self._apply("flavor", Flavor, desired, existing, lambda k: "/".join(k))  # type: ignore[arg-type]

    def expansions_sheet(self) -> None:
        """Planned capacity expansions (扩容计划), one per platform and day."""
        rows = self._sheet(SheetKind.EXPANSIONS)
        if not rows:
            return
        existing = load_public(self.session, SheetKind.EXPANSIONS)
        desired: list[_Desired] = []
        for row in rows:
            if (platform_id := self._platform_of(row)) is None:
                continue
            public = _present(row.values, FIELDS[SheetKind.EXPANSIONS])
            if not any(public.get(k) for k in ("vcpus", "memory_gb", "storage_gb")):
                self._error(row, "vcpus", None, "an expansion adds vCPUs, memory or storage: all three are empty or 0")
                continue
            columns = {k: v for k, v in public.items() if k != "platform"} | {"platform_id": platform_id}
            desired.append(_Desired(row, (public["platform"], public["ready_on"]), public, columns))
        self._apply("platform_expansion", PlatformExpansion, desired, existing,
                    lambda k: f"{k[0]}@{k[1]}")  # type: ignore[index]

    def samples_sheet(self) -> None:
        """Move the staged samples in (``staged_samples``), then rebuild the rollups of the days they touch."""
        staged = self.staged
        if staged is None or not staged.rows:
            return
        inserted, orphans = move_staged(self.session, staged)
        sheet, column = self.survey.samples_location("hostname")
        self.report.errors.extend(RowError(sheet, row, column, hostname, "no such server: its row in the servers "
                                           "sheet was not written") for row, hostname in orphans)
        self.report.samples_inserted = inserted
        self.report.samples_existing = staged.rows - inserted - len(orphans)
        touched = {self.servers[h] for h in staged.hostnames if h in self.servers}
        if inserted and staged.first is not None and staged.last is not None:
            self.report.rollup_rows = recompute_rollups(self.session, touched, staged.first, staged.last, self.tz)
            self.audit.append(audit_row(self.actor, "utilization_sample", self.survey.path.name, AuditAction.IMPORT,
                                        None, {"inserted": inserted, "servers": len(touched), "from": staged.first,
                                               "to": staged.last, "rollup_rows": self.report.rollup_rows},
                                        self.now))

    # ---- all -----------------------------------------------------------------------------------
    def run(self) -> ImportReport:
        """Apply every sheet in dependency order, then write the audit rows."""
        self.departments_sheet()
        self.rooms_sheet()
        self.servers_sheet()
        self.systems_sheet()
        self.dependencies_sheet()
        self.assessments_sheet()
        self.platforms_sheet()
        self.flavors_sheet()
        self.expansions_sheet()
        self.samples_sheet()
        if self.audit:
            self.audit.append(audit_row(self.actor, "import", self.actor.request_id, AuditAction.IMPORT, None,
                                        {"path": str(self.survey.path), **self.report.as_dict()}, self.now))
        write_audit(self.session, self.audit)
        bad = {(e.sheet, e.row) for e in self.report.errors if e.row is not None}
        self.report.skipped_rows = len(bad)
        return self.report


def rows_of(report: ImportReport) -> Sequence[RowError]:
    """Errors sorted by sheet and row for display."""
    return sorted(report.errors, key=lambda e: (e.sheet, e.row or 0, e.column))
