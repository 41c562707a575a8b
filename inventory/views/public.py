"""The survey-shaped view of the inventory: each record as the survey fields of its sheet, with
references as codes/hostnames/names instead of ids.

The import compares incoming rows with this view (so an unchanged row writes nothing), the audit
log stores it as before/after, and ``shangyun export`` writes it back as a workbook.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from inventory.models import (
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
    UtilizationSample,
)
from inventory.records.sheets import SHEETS, SheetKind

# The survey view of each sheet is its columns, in the sheet's order: one spec, read by import and export.
FIELDS: dict[SheetKind, tuple[str, ...]] = {
    sheet.kind: tuple(column.field for column in sheet.columns) for sheet in SHEETS if sheet.kind != SheetKind.SAMPLES}

Keyed = dict[Hashable, tuple[int, dict[str, Any]]]


def table_of(model: type[SQLModel]) -> sa.Table:
    return model.__table__  # type: ignore[attr-defined, no-any-return]


def _id_map(session: Session, model: type[SQLModel], column: str) -> dict[int, Any]:
    table = table_of(model)
    return dict(session.execute(sa.select(table.c.id, table.c[column])).all())


def _rows(session: Session, model: type[SQLModel], key: Callable[[dict[str, Any]], Hashable],
          public: Callable[[dict[str, Any]], dict[str, Any]]) -> Keyed:
    table = table_of(model)
    return {key(dict(r)): (r["id"], public(dict(r))) for r in session.execute(sa.select(table).order_by(table.c.id))
            .mappings()}


def _pick(row: dict[str, Any], kind: SheetKind) -> dict[str, Any]:
    return {f: row.get(f) for f in FIELDS[kind]}


def load_public(session: Session, kind: SheetKind) -> Keyed:
    """Every record of ``kind`` by its survey key, as (id, survey-shaped values)."""
    match kind:
        case SheetKind.DEPARTMENTS:
            codes = _id_map(session, Department, "code")
            return _rows(session, Department, lambda r: r["code"],
                         lambda r: _pick(r, kind) | {"parent": codes.get(r["parent_id"])})
        case SheetKind.ROOMS:
            codes = _id_map(session, Department, "code")
            return _rows(session, Room, lambda r: r["code"],
                         lambda r: _pick(r, kind) | {"department": codes.get(r["department_id"])})
        case SheetKind.SERVERS:
            departments, rooms = _id_map(session, Department, "code"), _id_map(session, Room, "code")
            return _rows(session, Server, lambda r: r["hostname"],
                         lambda r: _pick(r, kind) | {"room": rooms.get(r["room_id"]),
                                                      "department": departments.get(r["department_id"])})
        case SheetKind.SYSTEMS:
            departments, hostnames = _id_map(session, Department, "code"), _id_map(session, Server, "hostname")
            placement: dict[int, list[str]] = {}
            for system_id, server_id in session.execute(sa.select(table_of(SystemServer))):
                placement.setdefault(system_id, []).append(hostnames[server_id])
            return _rows(session, BusinessSystem, lambda r: r["code"],
                         lambda r: _pick(r, kind) | {"department": departments.get(r["department_id"]),
                                                      "servers": sorted(placement.get(r["id"], []))})
        case SheetKind.DEPENDENCIES:
            codes = _id_map(session, BusinessSystem, "code")
            return _rows(session, Dependency,
                         lambda r: (codes.get(r["system_id"]), codes.get(r["depends_on_id"]), r["source"]),
                         lambda r: _pick(r, kind) | {"system": codes.get(r["system_id"]),
                                                      "depends_on": codes.get(r["depends_on_id"])})
        case SheetKind.PLATFORMS:
            return _rows(session, CloudPlatform, lambda r: r["name"], lambda r: _pick(r, kind))
        case SheetKind.FLAVORS:
            names = _id_map(session, CloudPlatform, "name")
            return _rows(session, Flavor, lambda r: (names.get(r["platform_id"]), r["name"]),
                         lambda r: _pick(r, kind) | {"platform": names.get(r["platform_id"])})
        case SheetKind.EXPANSIONS:
            names = _id_map(session, CloudPlatform, "name")
            return _rows(session, PlatformExpansion, lambda r: (names.get(r["platform_id"]), r["ready_on"]),
                         lambda r: _pick(r, kind) | {"platform": names.get(r["platform_id"])})
        case SheetKind.ASSESSMENTS:
            codes = _id_map(session, BusinessSystem, "code")
            return _rows(session, MlpsAssessment, lambda r: (codes.get(r["system_id"]), r["assessed_on"]),
                         lambda r: _pick(r, kind) | {"system": codes.get(r["system_id"])})
    raise ValueError(f"no survey view of {kind}")


def declared_only(rows: Keyed) -> Keyed:
    """Dependencies as the survey declares them (observed ones are not survey data)."""
    return {k: v for k, v in rows.items() if k[2] == DependencySource.DECLARED}  # type: ignore[index]


def sample_rows(session: Session, batch: int = 50000) -> Any:
    """Stream (hostname, at, cpu, memory, disk) of every sample, ordered by server and time."""
    hostnames = _id_map(session, Server, "hostname")
    table = table_of(UtilizationSample)
    query = sa.select(table.c.server_id, table.c.at, table.c.cpu_util, table.c.memory_util, table.c.disk_used_gb)
    result = session.execute(query.order_by(table.c.server_id, table.c.at).execution_options(yield_per=batch))
    for server_id, at, cpu, memory, disk in result:
        yield hostnames[server_id], at, cpu, memory, disk
