"""The surveyed estate: departments own machine rooms; rooms hold servers; business systems run on
servers (many-to-many placement) and depend on each other.

Sizes are stored in fixed units: memory and storage in GB (binary), power in W, area in m², IT load
in kW, money in CNY per year. Codes and hostnames are unique keys used by imports to upsert.

Each entity is one family, as in the FastAPI full-stack template: ``XBase`` holds the fields callers may
read, ``X(XBase, table=True)`` adds keys and internal columns, ``XPublic(XBase)`` is what the API returns
(references as codes, plus figures the routes compute). Room costs are kept out of ``RoomBase``: only
roles that read costs see them, through ``RoomPublic.cost_parts``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from inventory.models.enums import DependencySource, RoomStatus, SecrecyLevel, ServerStatus, SystemStatus


class DepartmentBase(SQLModel):
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)


class Department(DepartmentBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="department.id", ondelete="SET NULL")


class DepartmentPublic(DepartmentBase):
    id: int


class RoomBase(SQLModel):
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    address: str | None = Field(default=None, max_length=300)
    area_m2: float | None = None
    racks: int | None = None
    it_load_kw: float | None = None
    pue: float | None = None
    built_year: int | None = None
    status: RoomStatus = Field(default=RoomStatus.ACTIVE, sa_type=sa.String(16))


class RoomCosts(SQLModel):
    """A room's surveyed annual costs (CNY a year) and the terms behind them."""

    rent_cny: float | None = None
    maintenance_cny: float | None = None
    staff_cny: float | None = None
    lines_cny: float | None = None
    tariff_cny_kwh: float | None = None
    lines_contract_end: dt.date | None = None  # the leased lines' contract runs until this day


class Room(RoomCosts, RoomBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)


class CostPartPublic(SQLModel):
    """One part of a room's annual cost, in CNY, and whether it is surveyed data or a default."""

    cny: float
    basis: str = Field(description="data | default")
    note: str


class RoomPublic(RoomBase):
    id: int
    department_code: str
    servers: int
    systems: int
    annual_cost_cny: float | None = Field(description="energy, rent, maintenance, staff and lines, CNY a year; "
                                          "null for roles that do not read costs")
    cost_parts: dict[str, CostPartPublic] | None


class ServerBase(SQLModel):
    hostname: str = Field(max_length=128, unique=True, index=True)
    model: str | None = Field(default=None, max_length=200)
    cpu_cores: int
    memory_gb: float
    storage_gb: float | None = None
    os: str | None = Field(default=None, max_length=200)
    purchase_date: dt.date | None = None
    power_w: float | None = None
    ip: str | None = Field(default=None, max_length=200)
    hypervisor: bool = False
    status: ServerStatus = Field(default=ServerStatus.ACTIVE, sa_type=sa.String(16))
    serial: str | None = Field(default=None, max_length=128)
    virtualization: str | None = Field(default=None, max_length=64)  # e.g. kvm, VMware (as a guest or host)


class Server(ServerBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="room.id", index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)


class ServerPublic(ServerBase):
    id: int
    room_code: str
    department_code: str | None


class BusinessSystemBase(SQLModel):
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    classified: bool
    secrecy_level: SecrecyLevel | None = Field(default=None, sa_type=sa.String(16))  # 密级 of a classified system
    mlps_level: int | None = None
    network: str | None = Field(default=None, max_length=100)
    status: SystemStatus = Field(default=SystemStatus.RUNNING, sa_type=sa.String(16))
    daily_users: int | None = None
    downtime_window: str | None = Field(default=None, max_length=200)
    containerized: bool | None = None
    special_hardware: bool | None = None
    funding: str | None = Field(default=None, max_length=200)
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: dt.date | None = None
    sharing: str | None = Field(default=None, max_length=100)


class BusinessSystem(BusinessSystemBase, table=True):
    __tablename__ = "business_system"
    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    zombie_evidence: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)  # the planner's, with its figures


class BusinessSystemPublic(BusinessSystemBase):
    id: int
    department_code: str
    zombie: bool = Field(description="the planner found it running but unused (its evidence is in the archive)")


class SystemServer(SQLModel, table=True):
    """Placement: which servers a business system runs on."""

    __tablename__ = "system_server"
    system_id: int = Field(foreign_key="business_system.id", primary_key=True, ondelete="CASCADE")
    server_id: int = Field(foreign_key="server.id", primary_key=True, index=True, ondelete="CASCADE")


class DependencyBase(SQLModel):
    kind: str | None = Field(default=None, max_length=64)
    tight: bool = False
    source: DependencySource = Field(default=DependencySource.DECLARED, sa_type=sa.String(16))


class Dependency(DependencyBase, table=True):
    """``system`` depends on ``depends_on``; declared in a survey or observed from connections."""

    __table_args__ = (sa.UniqueConstraint("system_id", "depends_on_id", "source"),)
    id: int | None = Field(default=None, primary_key=True)
    system_id: int = Field(foreign_key="business_system.id", index=True, ondelete="CASCADE")
    depends_on_id: int = Field(foreign_key="business_system.id", index=True, ondelete="CASCADE")
    evidence: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None


class DependencyPublic(DependencyBase):
    id: int
    system: str
    depends_on: str


class MlpsAssessment(SQLModel, table=True):
    """One MLPS (等保) assessment of a system: the level assessed, when, the result and who assessed it."""

    __tablename__ = "mlps_assessment"
    __table_args__ = (sa.UniqueConstraint("system_id", "assessed_on"),)
    id: int | None = Field(default=None, primary_key=True)
    system_id: int = Field(foreign_key="business_system.id", index=True, ondelete="CASCADE")
    level: int
    assessed_on: dt.date
    result: str | None = Field(default=None, max_length=64)  # 符合 / 基本符合 / 不符合 …
    assessor: str | None = Field(default=None, max_length=200)
