"""Measured use of servers: raw samples and their daily rollups.

Samples are keyed by (server, time) so re-loading the same measurements inserts nothing. Daily
rollups hold the average, p50, p95 and max of CPU and memory use (fractions 0..1 of the server's own
capacity) per server per UTC day; the planner reads only rollups.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from inventory.models.enums import SampleSource


class UtilizationSample(SQLModel, table=True):
    __tablename__ = "utilization_sample"
    server_id: int = Field(foreign_key="server.id", primary_key=True, ondelete="CASCADE")
    at: dt.datetime = Field(primary_key=True)
    cpu_util: float
    memory_util: float
    disk_used_gb: float | None = None
    source: SampleSource = Field(default=SampleSource.SURVEY, sa_type=sa.String(16))


class UtilizationDaily(SQLModel, table=True):
    __tablename__ = "utilization_daily"
    __table_args__ = (sa.Index("ix_utilization_daily_day", "day"),)  # the newest day, read by every room view
    server_id: int = Field(foreign_key="server.id", primary_key=True, ondelete="CASCADE")
    day: dt.date = Field(primary_key=True)
    samples: int
    cpu_avg: float
    cpu_p50: float
    cpu_p95: float
    cpu_max: float
    memory_avg: float
    memory_p50: float
    memory_p95: float
    memory_max: float
    disk_used_gb: float | None = None
