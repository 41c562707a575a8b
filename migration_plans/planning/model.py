"""The planner's input and output as plain data: no database, no I/O.

``Estate`` is everything the planner needs (systems with their servers' measured use, dependencies,
rooms with their annual cost, cloud platforms with free capacity and flavors); ``load_estate`` in
``migration_plans.load`` builds it from the inventory. ``MigrationPlan`` is what the planner returns
and what FORMATS.md §4 serialises.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from inventory.models.enums import PlatformKind, Strategy

if TYPE_CHECKING:
    from migration_plans.planning.savings import SavingsModel


@dataclass(frozen=True)
class ServerUse:
    """One server of a system: allocation, and measured use (None = no samples), each over the server's
    own latest days of data: p95 over the sizing window, averages and disk over the zombie window."""

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
    days: int = 0  # days with data in the zombie window
    sizing_days: int = 0  # days with data in the sizing window
    first_day: dt.date | None = None  # first day of the zombie window with data
    last_day: dt.date | None = None  # the server's newest day with data
    sizing_from: dt.date | None = None  # first day of the sizing window with data
    purchase_date: dt.date | None = None
    energy_cny: float = 0.0  # the server's share of its room's annual energy cost
    upkeep_cny: float = 0.0  # its share of the room's annual maintenance (UPS, cooling, fire)


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
    secrecy_level: str | None = None  # 密级 of a classified system (SecrecyLevel), None when not given
    network: str | None = None  # the survey's 网络 as written (互联网 / 政务外网 / 专网 / 政务内网)

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
class Expansion:
    """Capacity a platform gains from ``ready_on`` on, as the planner counts it: allocatable vCPUs (physical ×
    overcommit), memory and storage in GB. ``assumed``: a what-if of ``plan create --assume-expansion``."""

    ready_on: dt.date
    vcpus: float
    memory_gb: float
    storage_gb: float
    assumed: bool = False


@dataclass(frozen=True)
class Platform:
    """A cloud platform with the capacity still free for new systems, its planned expansions, and its prices."""

    name: str
    kind: str
    mlps_level: int
    free_vcpus: float
    free_memory_gb: float
    free_storage_gb: float
    flavors: tuple[Flavor, ...]
    vcpu_monthly_cny: float | None = None  # unit prices per month (None: not given)
    memory_gb_monthly_cny: float | None = None
    storage_gb_monthly_cny: float | None = None
    secrecy_level: str | None = None  # an intranet platform's protection approval (SecrecyLevel)
    zone: str | None = None  # NetworkZone the platform serves; None: not declared (政务外网 assumed)
    cpu_ratio: float = 1.0  # vCPU overcommit: an expansion of N physical vCPUs adds N × cpu_ratio allocatable
    expansions: tuple[Expansion, ...] = ()  # not yet in service, by day


@dataclass(frozen=True)
class RoomCost:
    """A room's annual cost as the plan sees it, frozen with the plan so every report of it agrees."""

    code: str
    annual_cny: float
    from_defaults: bool = False
    parts: tuple[tuple[str, float, str], ...] = ()  # (part, CNY per year, "data" | "default")
    lines_contract_end: dt.date | None = None
    name: str = ""
    department: str = ""


@dataclass(frozen=True)
class SavingsRates:
    """The savings model's own placeholders (always defaults: no survey field carries them)."""

    refresh_cny_per_server_year: float = 10000.0  # a 2U server ≈ 60,000 CNY over 6 years (assumed)
    hosting_cny_per_u_year: float = 2000.0  # colocation in the cloud data centre per rack unit (assumed)
    rack_units_per_server: int = 2
    depreciation_years: int = 6  # government depreciation of computers (DOMAIN.md)
    line_carry_limit_years: float = 3.0  # contracts with less left than this run to their end (seed rule)


@dataclass
class Estate:
    systems: list[SystemFacts]
    dependencies: list[Dependency]
    rooms: dict[str, RoomCost]
    platforms: list[Platform]
    rates: SavingsRates = field(default_factory=SavingsRates)


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
class InstanceGroup:
    """``count`` identical instances: VMs of one OpenStack flavor, or a Deployment's replicas (whose
    ``flavor`` is a label of their requests, e.g. ``700m/1536Mi``)."""

    flavor: str
    vcpus: float  # per instance
    memory_gb: float  # per instance
    count: int
    monthly_cny: float  # per instance


@dataclass(frozen=True)
class Target:
    """Where a system goes and how big it is: one or more instance groups, sized to its demand."""

    platform: str
    kind: str  # openstack | kubernetes
    groups: tuple[InstanceGroup, ...]
    disk_gb: float
    monthly_cny: float  # everything: instances and the data disk beyond the flavors' own
    demand_vcpus: float = 0.0
    demand_memory_gb: float = 0.0
    price_basis: str = "data"  # "default" when a price came from DOMAIN.md's proxies

    @property
    def flavor(self) -> str:
        """The largest group's flavor (FORMATS.md §4's ``flavor``)."""
        return self.groups[0].flavor

    @property
    def count(self) -> int:
        """Instances (or replicas) in all."""
        return sum(g.count for g in self.groups)

    @property
    def vcpus(self) -> float:
        """vCPUs allocated in all."""
        return sum(g.vcpus * g.count for g in self.groups)

    @property
    def memory_gb(self) -> float:
        """Memory allocated in all."""
        return sum(g.memory_gb * g.count for g in self.groups)

    @property
    def summary(self) -> str:
        """``g.8c32g×1 + c.2c4g×1`` (or ``3 × 700m/1536Mi`` for a Deployment)."""
        if self.kind == PlatformKind.KUBERNETES:
            return f"{self.count} × {self.flavor}"
        return " + ".join(f"{g.flavor}×{g.count}" for g in self.groups)

    def waste(self) -> tuple[float, float]:
        """Allocation beyond the demand, as a share of the demand (vCPUs, memory)."""
        return (self.vcpus / self.demand_vcpus - 1 if self.demand_vcpus else 0.0,
                self.memory_gb / self.demand_memory_gb - 1 if self.demand_memory_gb else 0.0)


@dataclass
class Decision:
    """The strategy for one system, why (zh-CN and English), and where it goes."""

    system: str
    strategy: Strategy
    reason_zh: str
    reason_en: str
    target: Target | None = None
    sized_from: str | None = None  # "samples" | "partial" | "allocated"
    flags: list[str] = field(default_factory=list)
    sizing_window: tuple[dt.date, dt.date, int] | None = None  # first day, last day, fewest days of data
    destination: str | None = None  # the intranet platform a classified system moves to (strategy intranet)
    zone: str | None = None  # NetworkZone of the platform it goes to (target or destination)


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


@dataclass(frozen=True)
class Shortfall:
    """Systems that wait for capacity on a platform, and the expansion that lets the whole programme finish:
    ``vcpus`` physical vCPUs, memory and storage in GB, in service by ``ready_by`` (the start of wave
    ``ready_wave``); with it every system is placed and the last wave is ``finish_wave``, ending ``finish_on``.
    ``ready_by`` is None when no expansion date lets every waiting system in (another limit holds them)."""

    platform: str
    systems: tuple[str, ...]
    vcpus: int
    memory_gb: float
    storage_gb: float
    ready_by: dt.date | None
    ready_wave: int | None
    finish_wave: int | None
    finish_on: dt.date | None


@dataclass
class MigrationPlan:
    params: PlanParams
    decisions: dict[str, Decision]
    waves: list[Wave]
    move_groups: dict[str, int]
    loose_dependencies: dict[str, list[str]]
    rooms: list[RoomClosure]
    objective_cny: float  # what the wave order maximises: room cost avoided over the horizon, run rate
    upper_bound_cny: float  # proven bound on that objective over every feasible plan
    warnings: list[str] = field(default_factory=list)
    wave_of: dict[str, int] = field(default_factory=dict)
    savings: SavingsModel | None = None  # the savings for finance (``migration_plans.planning.savings``)
    shortfalls: list[Shortfall] = field(default_factory=list)  # capacity the waiting systems need
    platforms: list[Platform] = field(default_factory=list)  # as planned on, with their expansions

    @property
    def gap(self) -> float:
        """Relative gap between the order's objective and its upper bound (0 = proven optimal)."""
        return 0.0 if self.upper_bound_cny <= 0 else 1 - self.objective_cny / self.upper_bound_cny
