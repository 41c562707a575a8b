"""Departments, rooms (with their annual cost parts for roles that read costs), servers and business
systems. Department users see only their own department's records; another department's is not found."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlmodel import col, select

from api.http.auth import COSTS_READ, ESTATE_READ, ROLE_PERMISSIONS, require, scope_department
from api.http.deps import SessionDep
from api.http.routers.common import (
    XLSX,
    AnySelect,
    Id,
    ListQueryDep,
    Page,
    as_json,
    attachment,
    filtered,
    not_found,
    page,
)
from inventory.models import BusinessSystem, Department, Room, Server
from inventory.models.estate import (
    BusinessSystemPublic,
    CostPartPublic,
    DepartmentPublic,
    RoomPublic,
    ServerPublic,
)
from inventory.settings import get_cost_defaults
from inventory.users import Principal
from inventory.views.queries import room_rows

router = APIRouter(prefix="/api/v1", tags=["estate 资产"])
Reader = Annotated[Principal, Depends(require(ESTATE_READ))]


@router.get("/departments", response_model=Page[DepartmentPublic])
def list_departments(session: SessionDep, params: ListQueryDep, principal: Reader) -> Response:
    """Departments (a department user: its own)."""
    query = filtered(select(Department), Department, params)
    if (own := scope_department(principal)) is not None:
        query = query.where(col(Department.id) == own)
    return page(session, query, params, col(Department.code),
                lambda rows: [DepartmentPublic.model_validate(d) for d in rows])


@router.get("/rooms", response_model=Page[RoomPublic])
def list_rooms(session: SessionDep, params: ListQueryDep, principal: Reader,
               status: str | None = None) -> Response:
    """Machine rooms with server and system counts; annual cost parts for roles that read costs."""
    query = filtered(select(Room), Room, params)
    if status is not None:
        query = query.where(col(Room.status) == status)
    if (own := scope_department(principal)) is not None:
        query = query.where(col(Room.department_id) == own)
    return page(session, query, params, col(Room.code), lambda rooms: _rooms_out(session, list(rooms), principal))


@router.get("/rooms/{room_id}", response_model=RoomPublic)
def get_room(room_id: Id, session: SessionDep, principal: Reader) -> RoomPublic:
    """One machine room with its server and system counts; annual cost parts for roles that read costs."""
    room = session.get(Room, room_id)
    own = scope_department(principal)
    if room is None or (own is not None and room.department_id != own):
        raise not_found("room", room_id)
    return _rooms_out(session, [room], principal)[0]


def _rooms_out(session: SessionDep, rooms: list[Room], principal: Principal) -> list[RoomPublic]:
    """The rooms with counts and (for cost readers) costs; a page's figures are kept up to 15 s."""
    from api.http.routers.dashboard import FIGURES

    if not rooms:
        return []
    costs = COSTS_READ in ROLE_PERMISSIONS[principal.role]
    key = ("rooms", tuple(r.id for r in rooms), costs)
    return list(FIGURES.get(key, lambda: _compute_rooms(session, rooms, costs)))


def _compute_rooms(session: SessionDep, rooms: list[Room], costs: bool) -> list[RoomPublic]:
    rows = {r.code: r for r in room_rows(session, get_cost_defaults(), [r.id for r in rooms if r.id is not None])}
    departments = {i: c for i, c in session.exec(select(Department.id, Department.code).where(
        col(Department.id).in_({r.department_id for r in rooms})))}
    out = []
    for room in rooms:
        row = rows[room.code]
        parts = {name: getattr(row.cost, name) for name in ("energy", "rent", "maintenance", "staff", "lines")}
        out.append(RoomPublic.model_validate(room, update={
            "department_code": departments.get(room.department_id, "?"), "servers": row.servers,
            "systems": row.systems,
            "annual_cost_cny": round(sum(p.cny for p in parts.values()), 2) if costs else None,
            "cost_parts": {k: CostPartPublic(cny=round(p.cny, 2), basis=p.basis.value, note=p.note)
                           for k, p in parts.items()} if costs else None}))
    return out


def _with_server_codes(query: AnySelect) -> AnySelect:
    return query.add_columns(col(Room.code), col(Department.code)).join(Room, col(Room.id) == Server.room_id) \
        .outerjoin(Department, col(Department.id) == Server.department_id)


def _server_out(row: Any) -> ServerPublic:
    s, room_code, department_code = row
    return ServerPublic.model_validate(s, update={"room_code": room_code, "department_code": department_code})


@router.get("/servers", response_model=Page[ServerPublic])
def list_servers(session: SessionDep, params: ListQueryDep, principal: Reader,
                 room: str | None = None) -> Response:
    """Physical and virtual servers; ``code`` filters by hostname, ``room`` by room code."""
    query = filtered(select(Server), Server, params, Server.hostname, (Server.hostname, Server.os))
    if room is not None:
        query = query.where(col(Server.room_id).in_(select(Room.id).where(col(Room.code) == room)))
    if (own := scope_department(principal)) is not None:
        query = query.where(col(Server.department_id) == own)
    return page(session, query, params, col(Server.hostname), lambda rows: [_server_out(r) for r in rows],
                _with_server_codes)


@router.get("/servers/{server_id}", response_model=ServerPublic)
def get_server(server_id: Id, session: SessionDep, principal: Reader) -> ServerPublic:
    """One server with its room's and department's codes."""
    query = _with_server_codes(select(Server).where(col(Server.id) == server_id))
    if (own := scope_department(principal)) is not None:
        query = query.where(col(Server.department_id) == own)
    if (row := session.execute(query).first()) is None:
        raise not_found("server", server_id)
    return _server_out(row)


def _with_system_codes(query: AnySelect) -> AnySelect:
    return query.add_columns(col(Department.code)).join(Department, col(Department.id) == BusinessSystem.department_id)


def _system_out(row: Any) -> BusinessSystemPublic:
    s, department_code = row
    return BusinessSystemPublic.model_validate(s, update={"department_code": department_code,
                                                          "zombie": bool((s.zombie_evidence or {}).get("zombie"))})


@router.get("/systems", response_model=Page[BusinessSystemPublic])
def list_systems(session: SessionDep, params: ListQueryDep, principal: Reader,
                 classified: bool | None = None) -> Response:
    """Business systems; ``classified`` filters 涉密 (true) or 非涉密 (false)."""
    query = filtered(select(BusinessSystem), BusinessSystem, params)
    if classified is not None:
        query = query.where(col(BusinessSystem.classified) == classified)
    if (own := scope_department(principal)) is not None:
        query = query.where(col(BusinessSystem.department_id) == own)
    return page(session, query, params, col(BusinessSystem.code), lambda rows: [_system_out(r) for r in rows],
                _with_system_codes)


@router.get("/systems/{system_id}", response_model=BusinessSystemPublic)
def get_system(system_id: Id, session: SessionDep, principal: Reader) -> BusinessSystemPublic:
    """One business system with its department's code and the planner's zombie verdict."""
    query = _with_system_codes(select(BusinessSystem).where(col(BusinessSystem.id) == system_id))
    if (own := scope_department(principal)) is not None:
        query = query.where(col(BusinessSystem.department_id) == own)
    if (row := session.execute(query).first()) is None:
        raise not_found("system", system_id)
    return _system_out(row)


class ArchiveOut(BaseModel):
    """The archive of one system (档案库): facts and their history, servers with the sources of their facts,
    every plan version, runs with their event logs, verification evidence, sign-offs and decommissioning."""

    system: dict[str, Any]
    department: str
    history: list[dict[str, Any]]
    servers: list[dict[str, Any]]
    plans: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    verifications: list[dict[str, Any]]
    signoffs: list[dict[str, Any]]
    decommission: list[dict[str, Any]]


@router.get("/systems/{system_id}/archive", response_model=ArchiveOut)
def get_system_archive(system_id: Id, session: SessionDep, principal: Reader) -> Response:
    """The system's archive (档案库); ``/archive/xlsx`` gives it as a workbook."""
    from inventory.views.archive import system_archive

    archive = system_archive(session, system_id=system_id, department_id=scope_department(principal))
    return as_json(ArchiveOut(**archive.as_json()))


@router.get("/systems/{system_id}/archive/xlsx", response_class=StreamingResponse,
            responses={200: {"content": {XLSX: {}}}})
def download_system_archive(system_id: Id, session: SessionDep, principal: Reader) -> StreamingResponse:
    """The system's archive as ``shangyun archive SYSTEM --xlsx`` writes it."""
    import io

    from inventory.views.archive import archive_workbook, system_archive

    archive = system_archive(session, system_id=system_id, department_id=scope_department(principal))
    buffer = io.BytesIO()
    archive_workbook(archive, buffer)
    buffer.seek(0)
    code = archive.system["code"]
    return StreamingResponse(buffer, media_type=XLSX,
                             headers=attachment(f"archive-{code}.xlsx"))
