"""Room decommission flags: which machine rooms to close next, and why (pure scoring).

Each active room gets a score in 0..1 (higher = close sooner): a weighted sum of seven factors, each
scaled to 0..1 so the weights say how much each matters:

=================  ==============================================================================
factor             1.0 means
=================  ==============================================================================
``small``          a room of one rack or less (10 racks or more scores 0): small rooms go first
``energy``         the most kWh per used CPU core among the rooms compared (energy wasted on idle)
``pue``            PUE 2.5 or worse (1.2 scores 0); an assumed PUE is said so in the reasons
``age``            every server older than 6 years (government depreciation; due for retirement)
``mlps``           no system in the room has an MLPS (等保) assessment
``idle``           average CPU use 0% (50% or more scores 0)
``movable``        every system left in it can leave (nothing retained, e.g. classified, in the plan)
=================  ==============================================================================

Weights come from ``SHANGYUN_ROOM_WEIGHT_<FACTOR>`` (defaults in ``RoomWeights``); they need not sum
to 1, the score is divided by their sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RoomWeights(BaseSettings):
    """How much each factor counts (environment ``SHANGYUN_ROOM_WEIGHT_SMALL`` …)."""

    model_config = SettingsConfigDict(env_prefix="SHANGYUN_ROOM_WEIGHT_", extra="ignore")

    small: float = Field(0.15, ge=0)
    energy: float = Field(0.20, ge=0)
    pue: float = Field(0.10, ge=0)
    age: float = Field(0.15, ge=0)
    mlps: float = Field(0.10, ge=0)
    idle: float = Field(0.10, ge=0)
    movable: float = Field(0.20, ge=0)


@dataclass(frozen=True)
class RoomInput:
    code: str
    name: str
    racks: float
    servers: int
    pue: float
    pue_assumed: bool
    kwh_per_year: float
    used_cores: float  # Σ cores × average CPU use
    old_servers: int  # older than 6 years
    systems: int
    systems_without_mlps: int
    retained_systems: int  # retain in the plan (classified, or nothing fits): the room cannot close
    cpu_util: float | None
    annual_cost_cny: float


@dataclass
class RoomFlag:
    code: str
    name: str
    score: float
    factors: dict[str, float]
    reasons_en: list[str] = field(default_factory=list)
    reasons_zh: list[str] = field(default_factory=list)
    annual_cost_cny: float = 0.0


def _clip(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def score_rooms(rooms: list[RoomInput], weights: RoomWeights | None = None) -> list[RoomFlag]:
    """Score and rank ``rooms`` (highest first), with the reasons behind each score."""
    weights = weights or RoomWeights()
    w = weights.model_dump()
    total = sum(w.values()) or 1.0
    intensity = {r.code: r.kwh_per_year / max(r.used_cores, 0.5) for r in rooms}
    worst = max(intensity.values(), default=1.0) or 1.0
    flags = []
    for r in rooms:
        factors = {
            "small": _clip((10 - r.racks) / 9),
            "energy": _clip(intensity[r.code] / worst),
            "pue": _clip((r.pue - 1.2) / 1.3),
            "age": r.old_servers / r.servers if r.servers else 0.0,
            "mlps": r.systems_without_mlps / r.systems if r.systems else 0.0,
            "idle": _clip(1 - (r.cpu_util or 0.0) / 0.5) if r.cpu_util is not None else 0.5,
            "movable": 1 - r.retained_systems / r.systems if r.systems else 1.0,
        }
        score = sum(w[k] * v for k, v in factors.items()) / total
        flag = RoomFlag(r.code, r.name, round(score, 4), {k: round(v, 3) for k, v in factors.items()},
                        annual_cost_cny=r.annual_cost_cny)
        _explain(r, factors, intensity[r.code], flag)
        flags.append(flag)
    return sorted(flags, key=lambda f: (-f.score, f.code))


def _explain(r: RoomInput, factors: dict[str, float], kwh_per_core: float, flag: RoomFlag) -> None:
    def say(en: str, zh: str) -> None:
        flag.reasons_en.append(en)
        flag.reasons_zh.append(zh)

    if factors["small"] >= 0.5:
        say(f"small: {r.racks:g} rack(s), {r.servers} server(s)", f"规模小：{r.racks:g}个机柜、{r.servers}台服务器")
    if factors["energy"] >= 0.5:
        say(f"{kwh_per_core:,.0f} kWh a year per used CPU core", f"每个在用CPU核每年耗电{kwh_per_core:,.0f}千瓦时")
    if factors["pue"] >= 0.5:
        note = " (assumed)" if r.pue_assumed else ""
        say(f"PUE {r.pue:.2f}{note}", f"PUE {r.pue:.2f}{'（估计值）' if r.pue_assumed else ''}")
    if factors["age"] >= 0.3:
        say(f"{r.old_servers} of {r.servers} servers older than 6 years",
            f"{r.servers}台服务器中{r.old_servers}台超过6年折旧期")
    if factors["mlps"] >= 0.5:
        say(f"{r.systems_without_mlps} of {r.systems} systems without an MLPS assessment",
            f"{r.systems}个系统中{r.systems_without_mlps}个未做等保测评")
    if r.cpu_util is not None and factors["idle"] >= 0.6:
        say(f"average CPU use {r.cpu_util:.0%}", f"平均CPU利用率{r.cpu_util:.0%}")
    if r.retained_systems:
        say(f"{r.retained_systems} system(s) must stay (retain), so the room cannot close yet",
            f"{r.retained_systems}个系统须保留，机房暂不能关停")
    elif r.systems == 0:
        say("no system left in it", "已无业务系统")
