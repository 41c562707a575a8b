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
to 1, the score is divided by their sum. A factor with no data behind it (no server of the room has
utilization samples: energy per used core and idle share are unknown) is left out of the score, whose
weights are then those of the known factors, and the reasons say it is unknown (未知) — never a guess.

Rooms that can close under the plan are ranked first; rooms that cannot (a retained system, or one
the plan could not place) are ranked apart after them, each naming what blocks it and what would
unblock it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inventory.settings import RoomWeights, get_room_weights


@dataclass(frozen=True)
class Blocker:
    """A system that keeps a room open, why, and what would let the room close."""

    system: str
    reason_en: str
    reason_zh: str
    unblock_en: str
    unblock_zh: str


@dataclass(frozen=True)
class RoomInput:
    code: str
    name: str
    racks: float
    servers: int
    pue: float
    pue_assumed: bool
    kwh_per_year: float
    used_cores: float | None  # Σ cores × average CPU use over the servers' own windows; None: no samples
    old_servers: int  # older than 6 years
    systems: int
    systems_without_mlps: int
    cpu_util: float | None
    annual_cost_cny: float
    measured_servers: int = 0  # servers with utilization samples
    blockers: tuple[Blocker, ...] = ()  # systems the plan keeps in the room (retained, or not placed)


@dataclass
class RoomFlag:
    code: str
    name: str
    score: float
    factors: dict[str, float | None]  # None: unknown, left out of the score
    reasons_en: list[str] = field(default_factory=list)
    reasons_zh: list[str] = field(default_factory=list)
    annual_cost_cny: float = 0.0
    blockers: list[Blocker] = field(default_factory=list)

    @property
    def closable(self) -> bool:
        return not self.blockers


def _clip(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def score_rooms(rooms: list[RoomInput], weights: RoomWeights | None = None) -> list[RoomFlag]:
    """Score and rank ``rooms``: those that can close first (highest score first), then the blocked ones,
    with the reasons behind each score."""
    weights = weights or get_room_weights()
    w = weights.model_dump()
    intensity = {r.code: r.kwh_per_year / r.used_cores for r in rooms if r.used_cores}
    worst = max(intensity.values(), default=1.0) or 1.0
    flags = []
    for r in rooms:
        factors: dict[str, float | None] = {
            "small": _clip((10 - r.racks) / 9),
            "energy": _clip(intensity[r.code] / worst) if r.code in intensity else None,
            "pue": _clip((r.pue - 1.2) / 1.3),
            "age": r.old_servers / r.servers if r.servers else 0.0,
            "mlps": r.systems_without_mlps / r.systems if r.systems else 0.0,
            "idle": _clip(1 - r.cpu_util / 0.5) if r.cpu_util is not None else None,
            "movable": 1 - len(r.blockers) / r.systems if r.systems else 1.0,
        }
        known = {k: v for k, v in factors.items() if v is not None}
        total = sum(w[k] for k in known) or 1.0
        score = sum(w[k] * v for k, v in known.items()) / total
        flag = RoomFlag(r.code, r.name, round(score, 4), {k: None if v is None else round(v, 3)
                                                          for k, v in factors.items()},
                        annual_cost_cny=r.annual_cost_cny, blockers=list(r.blockers))
        _explain(r, factors, intensity.get(r.code), flag)
        flags.append(flag)
    return sorted(flags, key=lambda f: (not f.closable, -f.score, f.code))


def _explain(r: RoomInput, factors: dict[str, float | None], kwh_per_core: float | None, flag: RoomFlag) -> None:
    def say(en: str, zh: str) -> None:
        flag.reasons_en.append(en)
        flag.reasons_zh.append(zh)

    def high(name: str, level: float) -> bool:
        value = factors[name]
        return value is not None and value >= level

    if high("small", 0.5):
        say(f"small: {r.racks:g} rack(s), {r.servers} server(s)", f"规模小：{r.racks:g}个机柜、{r.servers}台服务器")
    if kwh_per_core is None:
        say("energy per used CPU core unknown: no server has utilization samples",
            "每个在用CPU核的耗电未知：无服务器利用率数据")
    elif high("energy", 0.5):
        partial = "" if r.measured_servers >= r.servers else f" ({r.measured_servers} of {r.servers} servers measured)"
        partial_zh = "" if r.measured_servers >= r.servers else f"（{r.servers}台中{r.measured_servers}台有数据）"
        say(f"{kwh_per_core:,.0f} kWh a year per used CPU core{partial}",
            f"每个在用CPU核每年耗电{kwh_per_core:,.0f}千瓦时{partial_zh}")
    if high("pue", 0.5):
        note = " (assumed)" if r.pue_assumed else ""
        say(f"PUE {r.pue:.2f}{note}", f"PUE {r.pue:.2f}{'（估计值）' if r.pue_assumed else ''}")
    if high("age", 0.3):
        say(f"{r.old_servers} of {r.servers} servers older than 6 years",
            f"{r.servers}台服务器中{r.old_servers}台超过6年折旧期")
    if high("mlps", 0.5):
        say(f"{r.systems_without_mlps} of {r.systems} systems without an MLPS assessment",
            f"{r.systems}个系统中{r.systems_without_mlps}个未做等保测评")
    if r.cpu_util is None:
        if kwh_per_core is not None:
            say("average CPU use unknown", "平均CPU利用率未知")
    elif high("idle", 0.6):
        say(f"average CPU use {r.cpu_util:.0%}", f"平均CPU利用率{r.cpu_util:.0%}")
    if r.blockers:
        say(f"cannot close yet: {len(r.blockers)} system(s) stay ({', '.join(b.system for b in r.blockers)})",
            f"暂不能关停：{len(r.blockers)}个系统留在机房（{'、'.join(b.system for b in r.blockers)}）")
    elif r.systems == 0:
        say("no system left in it", "已无业务系统")
