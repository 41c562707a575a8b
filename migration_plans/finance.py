"""The savings report for finance: per room and per fiscal year.

Per room: its annual cost parts (each marked ``data`` when the room's own figure was used, ``default``
when a placeholder was), the wave after which it closes and that wave's last day (or its real status
when the executor has emptied it), the annual cloud cost of the systems that leave it (a system on
servers in several rooms is split evenly between them) and the net annual saving.

Per fiscal year (the calendar year): finance's rule is that a room closed in year N is paid through
year N and stops costing from N+1. The baseline is every room's annual cost; paid is the cost of the
rooms not closed before the year; cloud is each moved system's monthly price from the month after its
wave ends; saving = baseline − paid − cloud.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from inventory.models import Room, Server
from inventory.queries import room_rows
from inventory.settings import CostDefaults

PARTS = ("energy", "rent", "maintenance", "staff", "lines")


@dataclass
class RoomSaving:
    code: str
    name: str
    department: str
    status: str
    parts: dict[str, tuple[float, str]]  # part → (CNY per year, "data" | "default")
    annual_cost_cny: float
    closes_after_wave: int | None
    closes_on: dt.date | None
    cloud_cost_cny: float
    net_saving_cny: float
    blocked_by: list[str] = field(default_factory=list)


@dataclass
class YearTotals:
    year: int
    baseline_cny: float
    room_cost_paid_cny: float
    cloud_cost_cny: float
    saving_cny: float
    rooms_closed: list[str]


@dataclass
class SavingsReport:
    plan: str
    rooms: list[RoomSaving]
    years: list[YearTotals]


def savings_report(session: Session, document: dict[str, Any], defaults: CostDefaults,
                   years: int | None = None) -> SavingsReport:
    """The report for plan ``document`` (FORMATS.md §4) against the inventory's rooms and costs."""
    start = dt.date.fromisoformat(document["start"])
    ends = {w["index"]: dt.date.fromisoformat(w["end"]) for w in document["waves"]}
    room_of_host = {host: room for host, room in session.execute(
        select(Server.hostname, Room.code).join(Room, col(Room.id) == Server.room_id))}
    cloud_by_room: dict[str, float] = {}
    monthly_from: list[tuple[dt.date, float]] = []  # (first day billed, monthly CNY)
    for wave in document["waves"]:
        for item in wave["items"]:
            target = item.get("target") or {}
            if item["strategy"] not in ("rehost", "replatform") or not target.get("monthly_cny"):
                continue
            monthly = float(target["monthly_cny"])
            monthly_from.append((_first_of_next_month(ends[wave["index"]]), monthly))
            rooms = sorted({room_of_host[h] for h in item["servers"] if h in room_of_host})
            for room in rooms:
                cloud_by_room[room] = cloud_by_room.get(room, 0.0) + monthly * 12 / len(rooms)
    costs = {r.code: r for r in room_rows(session, defaults)}
    names = {r.code: r for r in session.exec(select(Room))}
    out: list[RoomSaving] = []
    for room in document["rooms"]:
        code = room["room"]
        row = costs.get(code)
        if row is None:  # a room removed from the inventory since the plan was made
            continue
        parts = {p: (round(getattr(row.cost, p).cny, 2), getattr(row.cost, p).basis.value) for p in PARTS}
        annual = round(sum(v for v, _ in parts.values()), 2)
        wave = room["closes_after_wave"]
        closes_on = None if wave is None else (start if wave == 0 else ends.get(wave))
        cloud = round(cloud_by_room.get(code, 0.0), 2)
        out.append(RoomSaving(code, names[code].name, row.department, names[code].status, parts, annual, wave,
                              closes_on, cloud, round(annual - cloud if wave is not None else -cloud, 2),
                              list(room.get("blocked_by", []))))
    last_close = max((r.closes_on for r in out if r.closes_on), default=start)
    horizon = years or (last_close.year - start.year + 2)
    totals = []
    baseline = sum(r.annual_cost_cny for r in out)
    for year in range(start.year, start.year + horizon):
        paid = sum(r.annual_cost_cny for r in out if r.closes_on is None or r.closes_on.year >= year)
        cloud = sum(monthly * _months_in_year(first, year) for first, monthly in monthly_from)
        closed = sorted(r.code for r in out if r.closes_on is not None and r.closes_on.year == year)
        totals.append(YearTotals(year, round(baseline, 2), round(paid, 2), round(cloud, 2),
                                 round(baseline - paid - cloud, 2), closed))
    return SavingsReport(document["plan"], out, totals)


def _first_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _months_in_year(first: dt.date, year: int) -> int:
    """Whole months of ``year`` billed when billing starts on ``first`` (the first of a month)."""
    if first.year > year:
        return 0
    if first.year < year:
        return 12
    return 13 - first.month
