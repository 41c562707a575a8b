"""The agent report of FORMATS.md §5: what ``shangyun collect local`` prints or pushes.

Validation names the field of every problem (pydantic's error locations). Extra fields are
ignored, so newer agents can send more than this server knows.
"""

from __future__ import annotations

import datetime as dt

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Disk(BaseModel):
    mount: str
    size_gb: float = Field(ge=0)
    used_gb: float = Field(ge=0)


class Listening(BaseModel):
    port: int = Field(ge=0, le=65535)
    process: str | None = None


class Connection(BaseModel):
    remote: str = Field(min_length=1)
    process: str | None = None


class AgentReport(BaseModel):
    model_config = ConfigDict(extra="ignore")

    hostname: str = Field(min_length=1, max_length=128)
    collected_at: AwareDatetime
    os: str | None = None
    cpu_cores: int = Field(ge=1)
    memory_mb: float = Field(ge=0)
    disks: list[Disk] = Field(default_factory=list)
    cpu_util: float = Field(ge=0, le=1)
    memory_util: float = Field(ge=0, le=1)
    listening: list[Listening] = Field(default_factory=list)
    connections: list[Connection] = Field(default_factory=list)

    def to_json(self) -> str:
        """The report as FORMATS.md §5 JSON, time in UTC with a ``Z``."""
        data = self.model_dump(mode="json")
        data["collected_at"] = self.collected_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        import json

        return json.dumps(data, ensure_ascii=False)
