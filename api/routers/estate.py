"""Departments, rooms (with their annual cost parts for roles that read costs), servers and business
systems. Department users see only their own department's records; another department's is not found."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlmodel import col, select

from api.auth import COSTS_READ, ESTATE_READ, ROLE_PERMISSIONS, SessionDep, require, scope_department
from api.routers.common import Id, ListQueryDep, Page, filtered, not_found, page
from inventory.models import BusinessSystem, Department, Room, Server
from inventory.queries import room_rows
from inventory.settings import get_cost_defaults
from inventory.users import Principal

router = APIRouter(prefix="/api/v1", tags=["estate 资产"])
Reader = Annotated[Principal, Depends(require(ESTATE_READ))]


class DepartmentOut(BaseModel):
    id: int
    code: str
    name: str


class CostPartOut(BaseModel):
    cny: float
    basis: str  # data | default
    note: str


class RoomOut(BaseModel):
    id: int
    code: str
    name: str
    department_code: str
    status: str
    racks: int | None
    pue: float | None
    servers: int
    systems: int
    annual_cost_cny: float | None  # None for roles that do not read costs
    cost_parts: dict[str, CostPartOut] | None


class ServerOut(BaseModel):
    id: int
    hostname: str
    room_code: str
    department_code: str | None
    cpu_cores: int
    memory_gb: float
    storage_gb: float | None
    os: str | None
    purchase_date: dt.date | None
    status: str


class SystemOut(BaseModel):
    id: int
    code: str
    name: str
    department_code: str
    classified: bool
    mlps_level: int | None
    status: str
    zombie: bool


def _codes(session: SessionDep, model: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {i: c for i, c in session.exec(select(model.id, model.code).where(col(model.id).in_(ids)))}


@router.get("/departments", response_model=Page[DepartmentOut])
def list_departments(session: SessionDep, params: ListQueryDep, principal: Reader) -> Page[DepartmentOut]:
    """Departments (a department user: its own)."""
    query = filtered(select(Department), Department, params)
    if (own := scope_department(principal)) is not None:
        query = query.where(col(Department.id) == own)
    rows, total = page(session, query, params, col(Department.code))
    return Page(items=[DepartmentOut(id=d.id, code=d.code, name=d.name) for d in rows], total=total,
                limit=params.limit, offset=params.offset)


@router.get("/rooms", response_model=Page[RoomOut])
def list_rooms(session: SessionDep, params: ListQueryDep, principal: Reader,
               status: str | None = None) -> Page[RoomOut]:
    """Machine rooms with server and system counts; annual cost parts for roles that read costs."""
    query = filtered(select(Room), Room, params)
    if status is not None:
        query = query.where(col(Room.status) == status)
    if (own := scope_department(principal)) is not None:
        query = query.where(col(Room.department_id) == own)
    rooms, total = page(session, query, params, col(Room.code))
    return Page(items=_rooms_out(session, rooms, principal), total=total, limit=params.limit, offset=params.offset)


@router.get("/rooms/{room_id}", response_model=RoomOut)
def get_room(room_id: Id, session: SessionDep, principal: Reader) -> RoomOut:
    room = session.get(Room, room_id)
    own = scope_department(principal)
    if room is None or (own is not None and room.department_id != own):
        raise not_found("room", room_id)
    return _rooms_out(session, [room], principal)[0]


def _rooms_out(session: SessionDep, rooms: list[Room], principal: Principal) -> list[RoomOut]:
    """The rooms with counts and (for cost readers) costs; a page's figures are kept up to 15 s."""
    from api.routers.dashboard import FIGURES

    if not rooms:
        return []
    costs = COSTS_READ in ROLE_PERMISSIONS[principal.role]
    key = ("rooms", tuple(r.id for r in rooms), costs)
    return list(FIGURES.get(key, lambda: _compute_rooms(session, rooms, costs)))


def _compute_rooms(session: SessionDep, rooms: list[Room], costs: bool) -> list[RoomOut]:
    rows = {r.code: r for r in room_rows(session, get_cost_defaults(), [r.id for r in rooms if r.id is not None])}
    departments = _codes(session, Department, {r.department_id for r in rooms})
    out = []
    for room in rooms:
        row = rows[room.code]
        parts = {name: getattr(row.cost, name) for name in ("energy", "rent", "maintenance", "staff", "lines")}
        out.append(RoomOut(
            id=room.id or 0, code=room.code, name=room.name, department_code=departments.get(room.department_id, "?"),
            status=room.status, racks=room.racks, pue=room.pue, servers=row.servers, systems=row.systems,
            annual_cost_cny=round(sum(p.cny for p in parts.values()), 2) if costs else None,
            cost_parts={k: CostPartOut(cny=round(p.cny, 2), basis=p.basis.value, note=p.note)
                        for k, p in parts.items()} if costs else None))
    return out


@router.get("/servers", response_model=Page[ServerOut])
def list_servers(session: SessionDep, params: ListQueryDep, principal: Reader,
                 room: str | None = None) -> Page[ServerOut]:
    """Physical and virtual servers; ``code`` filters by hostname, ``room`` by room code."""
    query = filtered(select(Server), Server, params, "hostname", ("hostname", "os"))
    if room is not None:
        query = query.join(Room, col(Room.id) == Server.room_id).where(col(Room.code) == room)
    if (own := scope_department(principal)) is not None:
        query = query.where(col(Server.department_id) == own)
    servers, total = page(session, query, params, col(Server.hostname))
    return Page(items=_servers_out(session, servers), total=total, limit=params.limit, offset=params.offset)


@router.get("/servers/{server_id}", response_model=ServerOut)
def get_server(server_id: Id, session: SessionDep, principal: Reader) -> ServerOut:
    server = session.get(Server, server_id)
    own = scope_department(principal)
    if server is None or (own is not None and server.department_id != own):
        raise not_found("server", server_id)
    return _servers_out(session, [server])[0]


def _servers_out(session: SessionDep, servers: list[Server]) -> list[ServerOut]:
    rooms = _codes(session, Room, {s.room_id for s in servers})
    departments = _codes(session, Department, {s.department_id for s in servers if s.department_id})
    return [ServerOut(id=s.id or 0, hostname=s.hostname, room_code=rooms.get(s.room_id, "?"),
                      department_code=departments.get(s.department_id) if s.department_id else None,
                      cpu_cores=s.cpu_cores, memory_gb=s.memory_gb, storage_gb=s.storage_gb, os=s.os,
                      purchase_date=s.purchase_date, status=s.status) for s in servers]


@router.get("/systems", response_model=Page[SystemOut])
def list_systems(session: SessionDep, params: ListQueryDep, principal: Reader,
                 classified: bool | None = None) -> Page[SystemOut]:
    """Business systems; ``classified`` filters 涉密 (true) or 非涉密 (false)."""
    query = filtered(select(BusinessSystem), BusinessSystem, params)
    if classified is not None:
        query = query.where(col(BusinessSystem.classified) == classified)
    if (own := scope_department(principal)) is not None:
        query = query.where(col(BusinessSystem.department_id) == own)
    systems, total = page(session, query, params, col(BusinessSystem.code))
    return Page(items=_systems_out(session, systems), total=total, limit=params.limit, offset=params.offset)


@router.get("/systems/{system_id}", response_model=SystemOut)
def get_system(system_id: Id, session: SessionDep, principal: Reader) -> SystemOut:
    system = session.get(BusinessSystem, system_id)
    own = scope_department(principal)
    if system is None or (own is not None and system.department_id != own):
        raise not_found("system", system_id)
    return _systems_out(session, [system])[0]


def _systems_out(session: SessionDep, systems: list[BusinessSystem]) -> list[SystemOut]:
    departments = _codes(session, Department, {s.department_id for s in systems})
    return [SystemOut(id=s.id or 0, code=s.code, name=s.name, department_code=departments.get(s.department_id, "?"),
                      classified=s.classified, mlps_level=s.mlps_level, status=s.status,
                      zombie=bool((s.zombie_evidence or {}).get("zombie"))) for s in systems]
