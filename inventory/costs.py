"""The room cost model: what a machine room costs per year, split into its parts.

energy = IT load (kW) × PUE × 8,760 h × tariff. Where the IT load is unknown it is the sum of the
room's active servers' draw ``P(u) = P_idle + (P_max − P_idle) × u`` with ``P_idle = 0.65 × P_max``
and ``u`` each server's measured average CPU use (DOMAIN.md). Rent, maintenance, staff and leased
lines come from the room's own figures or, where missing, from the placeholders in
``CostDefaults``. Every part says whether it is the room's data or a default, and on what basis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from inventory.settings import CostDefaults

HOURS_PER_YEAR = 8760.0


class Basis(StrEnum):
    DATA = "data"
    DEFAULT = "default"


@dataclass(frozen=True)
class ServerDraw:
    """What the cost model needs of one active server."""

    max_power_w: float | None
    cpu_util: float | None


@dataclass(frozen=True)
class RoomFacts:
    """A room's own cost figures (``None`` where the survey gave none) and its active servers."""

    code: str
    area_m2: float | None = None
    racks: int | None = None
    it_load_kw: float | None = None
    pue: float | None = None
    tariff_cny_kwh: float | None = None
    rent_cny: float | None = None
    maintenance_cny: float | None = None
    staff_cny: float | None = None
    lines_cny: float | None = None
    servers: tuple[ServerDraw, ...] = ()


@dataclass(frozen=True)
class CostPart:
    cny: float
    basis: Basis
    note: str


@dataclass(frozen=True)
class RoomCost:
    code: str
    energy: CostPart
    rent: CostPart
    maintenance: CostPart
    staff: CostPart
    lines: CostPart
    kwh_per_year: float
    it_load_kw: float
    assumed: list[str] = field(default_factory=list)

    @property
    def parts(self) -> dict[str, CostPart]:
        return {"energy": self.energy, "rent": self.rent, "maintenance": self.maintenance, "staff": self.staff,
                "lines": self.lines}

    @property
    def total(self) -> float:
        return sum(part.cny for part in self.parts.values())


def server_power_w(server: ServerDraw, defaults: CostDefaults) -> float:
    """Average draw of one server in W from its P_max and CPU use (defaults where unknown)."""
    p_max = server.max_power_w if server.max_power_w is not None else defaults.server_max_power_w
    util = server.cpu_util if server.cpu_util is not None else defaults.cpu_util
    p_idle = defaults.idle_power_fraction * p_max
    return p_idle + (p_max - p_idle) * util


def room_cost(room: RoomFacts, defaults: CostDefaults) -> RoomCost:
    """The annual cost of ``room`` with each part's basis; pure, no database."""
    assumed: list[str] = []
    if room.it_load_kw is not None:
        it_kw, load_note = room.it_load_kw, "IT load from the survey"
    else:
        it_kw = sum(server_power_w(s, defaults) for s in room.servers) / 1000.0
        load_note = f"IT load estimated from {len(room.servers)} servers' power"
        if any(s.max_power_w is None for s in room.servers):
            assumed.append(f"server P_max {defaults.server_max_power_w:g} W")
        if any(s.cpu_util is None for s in room.servers):
            assumed.append(f"server CPU use {defaults.cpu_util:.0%}")
    pue = room.pue if room.pue is not None else defaults.pue
    tariff = room.tariff_cny_kwh if room.tariff_cny_kwh is not None else defaults.tariff_cny_kwh
    if room.pue is None:
        assumed.append(f"PUE {defaults.pue:g}")
    if room.tariff_cny_kwh is None:
        assumed.append(f"tariff {defaults.tariff_cny_kwh:g} CNY/kWh")
    kwh = it_kw * pue * HOURS_PER_YEAR
    energy_is_data = room.it_load_kw is not None and room.pue is not None and room.tariff_cny_kwh is not None
    energy = CostPart(kwh * tariff, Basis.DATA if energy_is_data else Basis.DEFAULT,
                      f"{load_note}: {it_kw:.2f} kW × PUE {pue:g} × 8760 h × {tariff:g} CNY/kWh")

    racks = room.racks
    racks_note = f"{racks} racks"
    if racks is None:
        racks = max(1, math.ceil(len(room.servers) / defaults.servers_per_rack))
        racks_note = f"{racks} racks estimated from {len(room.servers)} servers"
    area_note = f"{room.area_m2:g} m²" if room.area_m2 is not None else f"{racks} racks × {defaults.m2_per_rack:g} m²"
    area = room.area_m2 if room.area_m2 is not None else racks * defaults.m2_per_rack

    def given_or(value: float | None, fallback: float, note: str) -> CostPart:
        if value is not None:
            return CostPart(value, Basis.DATA, "from the survey")
        return CostPart(fallback, Basis.DEFAULT, note)

    staff_default = defaults.staff_fte * defaults.staff_cny_fte
    return RoomCost(
        code=room.code,
        energy=energy,
        rent=given_or(room.rent_cny, area * defaults.rent_cny_m2,
                      f"placeholder: {area_note} × {defaults.rent_cny_m2:g} CNY/m²"),
        maintenance=given_or(room.maintenance_cny, racks * defaults.maintenance_cny_rack,
                             f"placeholder: {racks_note} × {defaults.maintenance_cny_rack:g} CNY"),
        staff=given_or(room.staff_cny, staff_default,
                       f"placeholder: {defaults.staff_fte:g} FTE × {defaults.staff_cny_fte:g} CNY"),
        lines=given_or(room.lines_cny, defaults.lines_cny, f"placeholder: {defaults.lines_cny:g} CNY"),
        kwh_per_year=kwh,
        it_load_kw=it_kw,
        assumed=assumed,
    )
