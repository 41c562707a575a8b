"""The agent report of FORMATS.md §5: what ``shangyun collect local`` prints or pushes.

Validation names the field of every problem (pydantic's error locations). Every number is finite and
bounded, every list and text limited. Extra fields are ignored, so newer agents can send more than this
server knows.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from inventory.records.text import UNSTORABLE, storable

# Bounds well past any real server, so that a hostile or broken report cannot store a value that later
# overflows a sum or a database column (Infinity memory, 2**62 cores, a 1e308-byte disk).
MAX_CORES = 4096
MAX_MEMORY_MB = 64 * 1024 * 1024  # 64 TiB
MAX_DISK_GB = 1024.0 ** 3  # 1 EiB
MAX_DISKS = 1024
MAX_SOCKETS = 10_000  # listening sockets, and connections, per report
FINITE = ConfigDict(allow_inf_nan=False, extra="ignore")


def _text(value: str | None) -> str | None:
    if value is not None and not storable(value):
        raise ValueError(UNSTORABLE)
    return value


Text = Annotated[str, AfterValidator(_text)]


class Disk(BaseModel):
    model_config = FINITE
    mount: Text = Field(max_length=4096)
    size_gb: float = Field(ge=0, le=MAX_DISK_GB)
    used_gb: float = Field(ge=0, le=MAX_DISK_GB)


class Listening(BaseModel):
    model_config = FINITE
    port: int = Field(ge=0, le=65535)
    process: Text | None = Field(default=None, max_length=256)


class Connection(BaseModel):
    model_config = FINITE
    remote: Text = Field(min_length=1, max_length=300, description="address:port of the peer")
    process: Text | None = Field(default=None, max_length=256)

    @field_validator("remote")
    @classmethod
    def _port_in_range(cls, remote: str) -> str:
        port = remote.rpartition(":")[2]
        if port.isdigit() and int(port) > 65535:
            raise ValueError("the port must be 0–65535")
        return remote


class AgentReport(BaseModel):
    model_config = FINITE

    hostname: Text = Field(min_length=1, max_length=128)
    collected_at: AwareDatetime
    os: Text | None = Field(default=None, max_length=256)
    cpu_cores: int = Field(ge=1, le=MAX_CORES)
    memory_mb: float = Field(ge=0, le=MAX_MEMORY_MB)
    disks: list[Disk] = Field(default_factory=list, max_length=MAX_DISKS)
    cpu_util: float = Field(ge=0, le=1)
    memory_util: float = Field(ge=0, le=1)
    listening: list[Listening] = Field(default_factory=list, max_length=MAX_SOCKETS)
    connections: list[Connection] = Field(default_factory=list, max_length=MAX_SOCKETS)

    def to_json(self) -> str:
        """The report as FORMATS.md §5 JSON, time in UTC with a ``Z``."""
        data = self.model_dump(mode="json")
        data["collected_at"] = self.collected_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        import json

        return json.dumps(data, ensure_ascii=False)
