"""The savings model: what a plan saves, per fiscal year and per room, for finance to sign.

One function, ``savings_model``, computes it when the plan is made, from the room costs as they were
then; the plan stores the result, and every surface (``plan list|show|savings``, ``report savings``,
``GET /api/v1/savings``, the xlsx and the dashboard) shows that stored result, so they agree for a
plan version. Money is in 万元 (10,000 CNY), rounded to 0.01 万元.

Per fiscal year (the calendar year) N:

- **baseline** — what the estate would cost without the plan: every planned room's annual cost
  (energy, rent, maintenance, staff, leased lines) plus the hardware refresh of every server past
  its depreciation (6 years) that year, at a replacement cost per server-year (a default).
- **room cost paid** — finance's rule: a room closed in year N is paid through N and stops from N+1.
  A room still open is paid less the energy and upkeep share of its servers that left before N.
  After a room closes its leased lines are still paid when their contract has under 3 years left
  (seed rule: 协议尚未到期且不满3年的，继续履行协议), until the contract ends; a room without a
  contract end date is assumed to stop its lines with the room, and says so.
- **refresh still due** — servers past depreciation that are still in a room, or were moved as
  hardware (relocate); servers that left for the cloud or were switched off avoid it from N+1.
- **cloud cost** — each cloud item's monthly price from the month after its wave ends.
- **hosting cost** — relocated hardware in the cloud data centre, per rack unit per year (a default),
  from the month after its wave ends.
- **net saving** = baseline − room cost paid − refresh still due − cloud − hosting.

The years run from the plan's start through the first full year after its last wave (at least the
plan's horizon), so the last row is the programme's steady state.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from inventory.models.enums import Strategy
from migration_plans.planning.model import Decision, RoomCost, SavingsRates, ServerUse, SystemFacts, Wave

WAN = 10000.0
PARTS = ("energy", "rent", "maintenance", "staff", "lines")


def wan(cny: float) -> float:
    """CNY → 万元, rounded to 0.01 万元 (100 CNY)."""
    return round(cny / WAN, 2)


@dataclass(frozen=True)
class FiscalYear:
    """One fiscal year of the plan, in 万元."""

    year: int
    baseline_wan: float
    room_cost_paid_wan: float
    lines_carried_wan: float  # part of room cost paid: lines of closed rooms still under contract
    refresh_due_wan: float
    cloud_cost_wan: float
    hosting_cost_wan: float
    net_saving_wan: float
    rooms_closed: list[str]  # rooms closing during this year: they stop costing from the next


@dataclass(frozen=True)
class RoomSavings:
    """One room: its annual cost parts (万元, each with its basis), when it closes, its lines."""

    room: str
    name: str
    department: str
    parts: dict[str, tuple[float, str]]  # part → (万元 per year, "data" | "default")
    annual_cost_wan: float
    closes_after_wave: int | None
    closes_on: dt.date | None
    stops_costing_from: int | None  # fiscal year (closing year + 1)
    lines_paid_until: dt.date | None  # after closing, under contract
    lines_note_en: str
    lines_note_zh: str
    cloud_cost_wan: float  # annual cloud cost of its systems (a system in several rooms split evenly)
    servers_leaving: int
    blocked_by: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SavingsModel:
    """The plan's savings: per fiscal year, per room, totals, and the assumptions behind them."""

    plan: str
    start: dt.date
    years: list[FiscalYear]
    rooms: list[RoomSavings]
    assumptions: list[str]  # defaults used, each named
    warnings: list[str]
    assumptions_zh: list[str] = field(default_factory=list)
    warnings_zh: list[str] = field(default_factory=list)

    unit = "万元"

    @property
    def total_net_wan(self) -> float:
        """Net saving over all the fiscal years shown."""
        return round(sum(y.net_saving_wan for y in self.years), 2)

    @property
    def steady_state(self) -> FiscalYear:
        """The last year shown: the first full year after the last wave."""
        return self.years[-1]

    def headline(self, lang: str = "en") -> str:
        """What the plan saves, saying what the figure includes."""
        first, last = self.years[0].year, self.years[-1].year
        if lang == "zh":
            return (f"{first}–{last}年净节约合计{self.total_net_wan:,.1f}万元，{last}年（末批次后首个完整年度）"
                    f"净节约{self.steady_state.net_saving_wan:,.1f}万元（已扣除云服务费、托管费、仍在履行的线路合同；"
                    "机房自关停次年起不再支付）")
        return (f"net saving FY{first}–FY{last}: {self.total_net_wan:,.1f} 万元; FY{last} (first full year after "
                f"the last wave): {self.steady_state.net_saving_wan:,.1f} 万元 (room costs stopped from the year "
                "after closing, energy/upkeep of servers that left, hardware refresh avoided, less cloud, hosting "
                "and leased lines still under contract)")

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["unit"] = self.unit
        data["start"] = self.start.isoformat()
        for room in data["rooms"]:
            for key in ("closes_on", "lines_paid_until"):
                room[key] = room[key].isoformat() if room[key] else None
            room["parts"] = {k: list(v) for k, v in room["parts"].items()}
        data["total_net_wan"] = self.total_net_wan
        data["steady_state_net_wan"] = self.steady_state.net_saving_wan
        data["headline_en"], data["headline_zh"] = self.headline("en"), self.headline("zh")
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SavingsModel:
        def day(value: Any) -> dt.date | None:
            return dt.date.fromisoformat(value) if value else None

        rooms = [RoomSavings(**(r | {"closes_on": day(r["closes_on"]), "lines_paid_until": day(r["lines_paid_until"]),
                                     "parts": {k: (float(v[0]), str(v[1])) for k, v in r["parts"].items()}}))
                 for r in data["rooms"]]
        return cls(data["plan"], dt.date.fromisoformat(data["start"]), [FiscalYear(**y) for y in data["years"]],
                   rooms, list(data["assumptions"]), list(data["warnings"]), list(data.get("assumptions_zh") or []),
                   list(data.get("warnings_zh") or []))

    def notes(self, lang: str = "en") -> list[str]:
        """The assumptions and warnings, in ``lang``."""
        return self.assumptions_zh + self.warnings_zh if lang == "zh" else self.assumptions + self.warnings


@dataclass
class _Server:
    facts: ServerUse
    waves: list[int] = field(default_factory=list)
    stays: bool = False  # a system on it stays (retained, or not placed in a wave)
    relocated: bool = False


def _first_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _months_billed(first: dt.date, year: int) -> int:
    """Whole months of ``year`` billed when billing starts on ``first`` (the first of a month)."""
    if first.year > year:
        return 0
    return 12 if first.year < year else 13 - first.month


def _year_share_before(end: dt.date, year: int) -> float:
    """The share of ``year`` that lies before ``end``."""
    start, stop = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    return max(0.0, min((end - start).days, (stop - start).days)) / (stop - start).days


def fiscal_years(start: dt.date, waves: Sequence[Wave], horizon_years: float) -> range:
    """From the start's year through the first full year after the last wave (at least the horizon)."""
    last_wave = max((w.end for w in waves), default=start)
    return range(start.year, max(last_wave.year + 1, start.year + math.ceil(horizon_years) - 1) + 1)


def savings_model(plan: str, start: dt.date, waves: Sequence[Wave], wave_of: Mapping[str, int],
                  decisions: Mapping[str, Decision], systems: Sequence[SystemFacts], rooms: Mapping[str, RoomCost],
                  closes_after: Mapping[str, int | None], blocked_by: Mapping[str, list[str]], rates: SavingsRates,
                  years: range) -> SavingsModel:
    """The plan's savings per fiscal year and per room (see the module docstring for each figure)."""
    ends = {w.index: w.end for w in waves}
    close_day = {r: (start if k == 0 else ends[k]) if k is not None else None for r, k in closes_after.items()}
    servers: dict[str, _Server] = {}
    cloud_by_room: dict[str, float] = {}
    monthly_from: list[tuple[dt.date, float]] = []
    for system in systems:
        decision = decisions[system.code]
        wave = wave_of.get(system.code)
        moves = wave is not None and decision.strategy.leaves_room
        for facts in system.servers:
            entry = servers.setdefault(facts.hostname, _Server(facts))
            if moves:
                entry.waves.append(wave)  # type: ignore[arg-type]
                # hardware carried elsewhere (the cloud data centre, or the intranet's room) is hosted there
                entry.relocated |= decision.strategy in (Strategy.RELOCATE, Strategy.INTRANET)
            else:
                entry.stays = True
        if wave is not None and decision.strategy.platform_kind is not None and decision.target is not None:
            monthly = decision.target.monthly_cny
            monthly_from.append((_first_of_next_month(ends[wave]), monthly))
            homes = sorted(system.rooms)
            for home in homes:
                cloud_by_room[home] = cloud_by_room.get(home, 0.0) + monthly * 12 / len(homes)
    left: dict[str, dt.date] = {h: ends[max(s.waves)] for h, s in servers.items() if s.waves and not s.stays}

    def past_depreciation(facts: ServerUse, year: int) -> bool:
        return facts.purchase_date is not None and facts.purchase_date.year + rates.depreciation_years <= year

    lines_until: dict[str, dt.date | None] = {}
    notes: dict[str, tuple[str, str]] = {}
    for code, room in rooms.items():
        lines_until[code], notes[code] = _lines(room, close_day.get(code), rates)
    out_years: list[FiscalYear] = []
    for year in years:
        baseline = sum(r.annual_cny for r in rooms.values())
        paid = lines = refresh_due = 0.0
        for code, room in rooms.items():
            closed = close_day.get(code)
            if closed is not None and closed.year < year:
                until = lines_until[code]
                if until is not None:
                    carried = _part(room, "lines") * _year_share_before(until, year)
                    lines += carried
                    paid += carried
                continue
            paid += room.annual_cny
        for hostname, server in servers.items():
            gone = left.get(hostname)
            gone_before = gone is not None and gone.year < year
            in_open_room = server.facts.room in rooms and not (
                close_day.get(server.facts.room) is not None and close_day[server.facts.room].year < year)  # type: ignore[union-attr]
            if gone_before and in_open_room:
                paid -= server.facts.energy_cny + server.facts.upkeep_cny
            if past_depreciation(server.facts, year):
                baseline += rates.refresh_cny_per_server_year
                if not gone_before or server.relocated:
                    refresh_due += rates.refresh_cny_per_server_year
        cloud = sum(monthly * _months_billed(first, year) for first, monthly in monthly_from)
        hosting = sum(rates.rack_units_per_server * rates.hosting_cny_per_u_year / 12
                      * _months_billed(_first_of_next_month(left[h]), year)
                      for h, s in servers.items() if s.relocated and h in left)
        net = round(wan(baseline) - wan(paid) - wan(refresh_due) - wan(cloud) - wan(hosting), 2)
        closing = sorted(code for code, day in close_day.items() if day is not None and day.year == year)
        out_years.append(FiscalYear(year, wan(baseline), wan(paid), wan(lines), wan(refresh_due), wan(cloud),
                                    wan(hosting), net, closing))
    leaving = {code: 0 for code in rooms}
    for hostname in left:
        home = servers[hostname].facts.room
        if home in leaving:
            leaving[home] += 1
    out_rooms = []
    for code, room in sorted(rooms.items()):
        closed = close_day.get(code)
        out_rooms.append(RoomSavings(
            code, room.name, room.department, {p: (wan(v), basis) for p, v, basis in room.parts},
            wan(room.annual_cny), closes_after.get(code), closed, closed.year + 1 if closed else None,
            lines_until[code], *notes[code], wan(cloud_by_room.get(code, 0.0)), leaving[code],
            sorted(set(blocked_by.get(code, [])))))
    assumptions = [
        f"hardware refresh avoided: {rates.refresh_cny_per_server_year:,.0f} CNY per server-year past "
        f"{rates.depreciation_years} years (default)",
        f"hosting of relocated hardware: {rates.hosting_cny_per_u_year:,.0f} CNY per rack unit-year, "
        f"{rates.rack_units_per_server} U per server (default)",
    ]
    assumptions_zh = [
        f"避免的设备更新：超过{rates.depreciation_years}年折旧期的服务器每台每年{rates.refresh_cny_per_server_year:,.0f}元"
        "（默认值）",
        f"搬迁设备托管费：每机架单元每年{rates.hosting_cny_per_u_year:,.0f}元，每台服务器{rates.rack_units_per_server}U（默认值）",
    ]
    undated = [r.room for r in out_rooms if r.closes_on is not None and rooms[r.room].lines_contract_end is None]
    warnings, warnings_zh = [], []
    if undated:
        warnings.append(f"{len(undated)} closing room(s) without a leased-line contract end date (线路合同到期): "
                        f"lines assumed to stop with the room: {', '.join(undated)}")
        warnings_zh.append(f"{len(undated)}个关停机房未提供线路合同到期日，线路费按随机房关停终止估算：{'、'.join(undated)}")
    unknown_age = sum(1 for s in servers.values() if s.facts.purchase_date is None)
    if unknown_age:
        warnings.append(f"{unknown_age} server(s) without a purchase date: no hardware refresh counted for them")
        warnings_zh.append(f"{unknown_age}台服务器无购置日期：未计入其设备更新")
    return SavingsModel(plan, start, out_years, out_rooms, assumptions, warnings, assumptions_zh, warnings_zh)


def _part(room: RoomCost, name: str) -> float:
    return next((value for part, value, _ in room.parts if part == name), 0.0)


def _lines(room: RoomCost, closes: dt.date | None, rates: SavingsRates) -> tuple[dt.date | None, tuple[str, str]]:
    """Until when a room's leased lines are paid after it closes (None: they stop with it), and why."""
    end = room.lines_contract_end
    if closes is None:
        return None, ("the room stays open: its lines are paid with it", "机房不关停，线路费照常支付")
    if end is None:
        return None, ("no contract end date given: lines assumed to stop with the room",
                      "未提供线路合同到期日：按随机房关停终止估算")
    if end <= closes:
        return None, (f"contract ends {end.isoformat()}, by the closing", f"线路合同{end.isoformat()}到期，不晚于关停")
    left_years = (end - closes).days / 365.25
    if left_years < rates.line_carry_limit_years:
        return end, (f"contract runs to {end.isoformat()}, under {rates.line_carry_limit_years:g} years after closing: "
                     "paid until then", f"合同{end.isoformat()}到期，关停时剩余不满3年，继续履行至到期")
    return None, (f"contract runs to {end.isoformat()}, {rates.line_carry_limit_years:g}+ years after closing: "
                  "assumed ended with the room", f"合同{end.isoformat()}到期，关停时剩余3年以上，按随机房关停终止估算")


def wave_closures(model: SavingsModel) -> dict[int, list[str]]:
    """Rooms closing after each wave (0: rooms with nothing to move)."""
    out: dict[int, list[str]] = {}
    for room in model.rooms:
        if room.closes_after_wave is not None:
            out.setdefault(room.closes_after_wave, []).append(room.room)
    return out


@dataclass(frozen=True)
class WaveSavings:
    """FORMATS.md §4's run-rate timeline: annual room cost stopped and cloud cost added after each wave
    (before finance's N+1 rule; the fiscal years of ``SavingsModel`` apply it)."""

    wave: int
    rooms_closed: tuple[str, ...]
    room_cost_stopped_cny: float
    cloud_cost_added_cny: float
    net_cny: float


def savings_timeline(rooms: Sequence[tuple[str, float, int | None]], cloud_by_wave: Mapping[int, float],
                     waves: int) -> list[WaveSavings]:
    """Cumulative annual run-rates after each wave, from (room, annual CNY, closing wave) and the annual
    cloud cost each wave adds (wave 0: rooms with nothing to move)."""
    closed_by: dict[int, list[str]] = {}
    cost = {code: annual for code, annual, _ in rooms}
    for code, _, wave in rooms:
        if wave is not None:
            closed_by.setdefault(wave, []).append(code)
    stopped = cloud = 0.0
    timeline = []
    for wave in range(0, waves + 1):
        closing = tuple(sorted(closed_by.get(wave, [])))
        stopped += sum(cost[r] for r in closing)
        cloud += cloud_by_wave.get(wave, 0.0)
        if wave == 0 and not closing:
            continue
        timeline.append(WaveSavings(wave, closing, round(stopped, 2), round(cloud, 2), round(stopped - cloud, 2)))
    return timeline
