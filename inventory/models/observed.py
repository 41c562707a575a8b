"""What agents saw on the wire: listening ports and established connections per server, with the
first and last time each was seen. Dependency discovery maps them to system→system dependencies."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ObservedListener(SQLModel, table=True):
    __tablename__ = "observed_listener"
    server_id: int = Field(foreign_key="server.id", primary_key=True, ondelete="CASCADE")
    port: int = Field(primary_key=True)
    process: str | None = Field(default=None, max_length=128)
    first_seen: dt.datetime
    last_seen: dt.datetime


class ObservedConnection(SQLModel, table=True):
    __tablename__ = "observed_connection"
    __table_args__ = (sa.UniqueConstraint("server_id", "remote_ip", "remote_port"),)
    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", index=True, ondelete="CASCADE")
    remote_ip: str = Field(max_length=64, index=True)
    remote_port: int
    process: str | None = Field(default=None, max_length=128)
    first_seen: dt.datetime
    last_seen: dt.datetime
