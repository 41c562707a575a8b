"""The planner's input and output as plain data: no database, no I/O.

``Estate`` is everything the planner needs (systems with their servers' measured use, dependencies,
rooms with their annual cost, cloud platforms with free capacity and flavors); ``load_estate`` in
``migration_plans.load`` builds it from the inventory. ``MigrationPlan`` is what the planner returns
and what FORMATS.md §4 serialises.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Strategy(StrEnum):
    """The migration strategies ("R"s) of DOMAIN.md."""

    REHOST = "rehost"  # as-is onto an OpenStack VM
    REPLATFORM = "replatform"  # into Kubernetes (containerized systems)
    RETIRE = "retire"  # zombie: switched off, data archived
    RETAIN = "retain"  # stays where it is (classified systems always)
    RELOCATE = "relocate"  # hardware moved into the cloud data centre (托管)


@dataclass(frozen=True)
class ServerUse:
    """One server of a system: allocation, and measured use over the sizing window (None = no samples)."""

    hostname: str
    room: str
    cpu_cores: int
    memory_gb: float
    storage_gb: float | None
    cpu_p95: float | None = None
    memory_p95: float | None = None
    cpu_avg: float | None = None
    memory_avg: float | None = None
    disk_used_gb: float | None = None
    days: int = 0


@dataclass(frozen=True)
class SystemFacts:
    code: str
    name: str
    department: str
    classified: bool
    mlps_level: int | None
    status: str
    daily_users: int | None
    containerized: bool
    special_hardware: bool
    downtime_window: str | None
    servers: tuple[ServerUse, ...]
    zombie: bool = False

    @property
    def rooms(self) -> frozenset[str]:
        return frozenset(s.room for s in self.servers)


@dataclass(frozen=True)
class Dependency:
    system: str
    depends_on: str
    tight: bool


@dataclass(frozen=True)
class Flavor:
    name: str
    vcpus: int
    memory_gb: float
    disk_gb: float | None
    monthly_cny: float | None


@dataclass(frozen=True)
class Platform:
    """A cloud platform with the capacity still free for new systems."""

    name: str
    kind: str
    mlps_level: int
    free_vcpus: float
    free_memory_gb: float
    free_storage_gb: float
    flavors: tuple[Flavor, ...]


@dataclass(frozen=True)
class RoomCost:
    code: str
    annual_cny: float
    from_defaults: bool = False


@dataclass
class Estate:
    systems: list[SystemFacts]
    dependencies: list[Dependency]
    rooms: dict[str, RoomCost]
    platforms: list[Platform]


@dataclass(frozen=True)
class PlanParams:
    name: str
    start: dt.date
    wave_days: int = 14
    max_systems_per_wave: int | None = None
    max_vcpus_per_wave: int | None = None
    first_waves_small: bool = False
    comfort_factor: float = 1.3
    disk_headroom: float = 1.5
    horizon_years: float = 3.0

    @property
    def horizon_waves(self) -> int:
        """Waves in the horizon over which savings are counted."""
        return max(1, round(self.horizon_years * 365 / self.wave_days))


@dataclass(frozen=True)
class Target:
    platform: str
    flavor: str
    vcpus: int
    memory_gb: float
    disk_gb: float
    count: int = 1
    monthly_cny: float = 0.0


@dataclass
class Decision:
    """The strategy for one system, why (zh-CN and English), and where it goes."""

    system: str
    strategy: Strategy
    reason_zh: str
    reason_en: str
    target: Target | None = None
    sized_from: str | None = None  # "samples" | "allocated"
    flags: list[str] = field(default_factory=list)


@dataclass
class Wave:
    index: int
    start: dt.date
    end: dt.date
    systems: list[str] = field(default_factory=list)


@dataclass
class RoomClosure:
    room: str
    annual_cny: float
    closes_after_wave: int | None
    blocked_by: list[str] = field(default_factory=list)
    cost_from_defaults: bool = False


@dataclass
class MigrationPlan:
    params: PlanParams
    decisions: dict[str, Decision]
    waves: list[Wave]
    move_groups: dict[str, int]
    loose_dependencies: dict[str, list[str]]
    rooms: list[RoomClosure]
    objective_cny: float
    upper_bound_cny: float
    warnings: list[str] = field(default_factory=list)
    wave_of: dict[str, int] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Relative gap between the plan's savings and the upper bound (0 = proven optimal)."""
        return 0.0 if self.upper_bound_cny <= 0 else 1 - self.objective_cny / self.upper_bound_cny
