"""Provenance of server facts: the latest value each source reported for each field, and when.

The ``server`` row holds the value chosen by precedence (``inventory.reconcile``); these rows keep
every source's own value so a disagreement is listed as a conflict, never lost.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from inventory.models.enums import SampleSource


class ServerObservation(SQLModel, table=True):
    __tablename__ = "server_observation"
    server_id: int = Field(foreign_key="server.id", primary_key=True, ondelete="CASCADE")
    field: str = Field(primary_key=True, max_length=32)
    source: SampleSource = Field(primary_key=True, sa_type=sa.String(16))
    value: Any = Field(sa_type=sa.JSON)
    observed_at: dt.datetime
