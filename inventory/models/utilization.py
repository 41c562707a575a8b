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


class ImportStageSample(SQLModel, table=True):
    """Samples of a survey import on their way in: streamed here in short transactions, then moved into
    ``utilization_sample`` by the import's one closing transaction (or dropped with it). Keyed by
    hostname, because the import may create the server in that closing transaction. ``stage_id`` starts
    with the UTC time the import began, so a crashed import's rows are found by age and removed."""

    __tablename__ = "import_stage_sample"
    __table_args__ = (sa.Index("ix_import_stage_sample_stage", "stage_id", "hostname"),)
    id: int | None = Field(default=None, primary_key=True)
    stage_id: str = Field(max_length=48)
    row: int
    hostname: str = Field(max_length=128)
    at: dt.datetime
    cpu_util: float
    memory_util: float
    disk_used_gb: float | None = None
