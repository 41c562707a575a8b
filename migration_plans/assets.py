"""What becomes of the servers of a closing room (资产处置), for finance's disposal record.

Each server of the room gets one disposal, decided in this order:

``moves``     a system on it is relocated or moves to the intranet: the hardware goes with it;
``in_use``    a system still running on it stays (retained, or not placed): the room does not close
              around it (a system already migrated or retired keeps nothing in use);
``secrecy``   it held a classified system's data: handed to the secrecy office (保密处置), never reused,
              transferred or scrapped as ordinary equipment;
``check``     the survey gives no purchase date: its age decides, so find it;
``reuse``     younger than the depreciation age (6 years), and so taken as serviceable (the inventory
              records no faults): it can serve intranet or relocation moves, or the cloud's spare pool;
``transfer``  past depreciation but younger than ``SHANGYUN_ASSET_TRANSFER_MAX_AGE_YEARS`` (8, assumed):
              transferred (调拨) to a unit that can still use it;
``scrap``     older: scrapped (报废) through the asset office.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from inventory.errors import NotFoundError
from inventory.models import BusinessSystem, Plan, PlanItem, Room, Server, SystemServer
from inventory.models.enums import Strategy, SystemStatus

MOVES_WITH_SYSTEM = frozenset({Strategy.RELOCATE, Strategy.INTRANET})
LABELS = {"moves": "随系统搬迁", "in_use": "继续使用", "secrecy": "保密处置", "check": "待核实",
          "reuse": "再利用", "transfer": "调拨", "scrap": "报废"}


@dataclass(frozen=True)
class HostedSystem:
    code: str
    classified: bool
    strategy: str | None  # in the plan; None when the plan does not place it in a wave
    gone: bool = False  # already migrated or retired


@dataclass(frozen=True)
class Asset:
    hostname: str
    model: str | None
    cpu_cores: int
    memory_gb: float
    purchase_date: dt.date | None
    status: str
    systems: tuple[HostedSystem, ...]


@dataclass(frozen=True)
class Disposal:
    asset: Asset
    age_years: float | None
    disposal: str  # a key of LABELS
    reason: str


def age_in_years(purchased: dt.date | None, today: dt.date) -> float | None:
    return None if purchased is None else (today - purchased).days / 365.25


def dispose(asset: Asset, today: dt.date, depreciation_years: int, transfer_max_age: float) -> Disposal:
    """The disposal of one server (see the module docstring for the order of the rules)."""
    age = age_in_years(asset.purchase_date, today)
    strategies = {s.strategy for s in asset.systems}
    if strategies & MOVES_WITH_SYSTEM:
        moving = sorted(s.code for s in asset.systems if s.strategy in MOVES_WITH_SYSTEM)
        return Disposal(asset, age, "moves", f"hardware moves with {', '.join(moving)}")
    staying = sorted(s.code for s in asset.systems if not s.gone and s.strategy in (None, Strategy.RETAIN))
    if staying:
        return Disposal(asset, age, "in_use", f"still serves {', '.join(staying)}")
    if any(s.classified for s in asset.systems):
        return Disposal(asset, age, "secrecy", "held classified data: to the secrecy office (保密处置)")
    if age is None:
        return Disposal(asset, age, "check", "no purchase date in the survey: its age decides")
    if age < depreciation_years:
        return Disposal(asset, age, "reuse", f"{age:.1f} years old, under the {depreciation_years}-year "
                        "depreciation: can serve intranet or relocation moves")
    if age < transfer_max_age:
        return Disposal(asset, age, "transfer", f"{age:.1f} years old: past depreciation, still usable")
    return Disposal(asset, age, "scrap", f"{age:.1f} years old: past {transfer_max_age:g} years")


def disposals(assets: Iterable[Asset], today: dt.date, depreciation_years: int,
              transfer_max_age: float) -> list[Disposal]:
    """Every server's disposal, in hostname order."""
    return [dispose(a, today, depreciation_years, transfer_max_age) for a in sorted(assets, key=lambda a: a.hostname)]


def counts(rows: Iterable[Disposal]) -> Mapping[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        out[row.disposal] = out.get(row.disposal, 0) + 1
    return out


def disposals_as_configured(assets: Iterable[Asset], today: dt.date) -> list[Disposal]:
    """``disposals`` under the configured rules: the planner's depreciation age and
    ``SHANGYUN_ASSET_TRANSFER_MAX_AGE_YEARS`` (the one place every surface takes them from)."""
    from inventory.settings import get_cost_defaults
    from migration_plans.planning.model import SavingsRates

    return disposals(assets, today, SavingsRates().depreciation_years,
                     get_cost_defaults().asset_transfer_max_age_years)


def room_assets(session: Session, room_code: str, plan: Plan | None) -> list[Asset]:
    """The servers of room ``room_code`` with the systems they host and each system's strategy in ``plan``
    (None: not in a wave of it, or no plan)."""
    room = session.exec(select(Room).where(Room.code == room_code)).first()
    if room is None or room.id is None:
        raise NotFoundError(what="room", key=room_code)
    return assets_of_rooms(session, [room.id], plan).get(room.id, [])


def assets_of_rooms(session: Session, room_ids: Collection[int], plan: Plan | None) -> dict[int, list[Asset]]:
    """``room_assets`` of several rooms at once, by room id (in bounded queries, whatever their number)."""
    strategies: dict[int, str | None] = {}
    if plan is not None:
        for system_id, strategy, wave_id in session.exec(select(PlanItem.system_id, PlanItem.strategy,
                                                                PlanItem.wave_id).where(PlanItem.plan_id == plan.id)):
            strategies[system_id] = strategy if wave_id is not None else None
    out: dict[int, list[Asset]] = {}
    ids = sorted(room_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        hosted: dict[int, list[HostedSystem]] = {}
        for server_id, hosted_id, code, classified, status in session.execute(
                sa.select(col(SystemServer.server_id), col(BusinessSystem.id), col(BusinessSystem.code),
                          col(BusinessSystem.classified), col(BusinessSystem.status))
                .join(BusinessSystem, col(BusinessSystem.id) == SystemServer.system_id)
                .join(Server, col(Server.id) == SystemServer.server_id).where(col(Server.room_id).in_(chunk))):
            hosted.setdefault(server_id, []).append(HostedSystem(
                code, bool(classified), strategies.get(hosted_id or 0), status in (SystemStatus.MIGRATED,
                                                                                  SystemStatus.RETIRED)))
        for s in session.exec(select(Server).where(col(Server.room_id).in_(chunk))):
            out.setdefault(s.room_id, []).append(Asset(
                s.hostname, s.model, s.cpu_cores, s.memory_gb, s.purchase_date, str(s.status),
                tuple(sorted(hosted.get(s.id or 0, []), key=lambda h: h.code))))
    return out


@dataclass(frozen=True)
class FreedServers:
    """The servers a room closing in a plan frees for reuse (disposal ``reuse``)."""

    room: str
    closes_after_wave: int
    servers: tuple[Disposal, ...]

    @property
    def cores(self) -> int:
        return sum(d.asset.cpu_cores for d in self.servers)

    @property
    def memory_gb(self) -> float:
        return sum(d.asset.memory_gb for d in self.servers)


def reusable_servers(session: Session, plan: Plan, today: dt.date) -> list[FreedServers]:
    """Issue 16 §8: per room the plan closes (in closing order), its servers young enough to reuse; they
    can serve the plan's intranet or relocation moves, or the cloud's spare pool."""
    closing = {r["room"]: r["closes_after_wave"] for r in plan.document.get("rooms", [])
               if r.get("closes_after_wave") is not None}
    rooms = dict(session.execute(sa.select(col(Room.id), col(Room.code))
                                 .where(col(Room.code).in_(list(closing)))).all()) if closing else {}
    assets = assets_of_rooms(session, list(rooms), plan)
    out = []
    for room_id, code in rooms.items():
        reuse = tuple(d for d in disposals_as_configured(assets.get(room_id, []), today) if d.disposal == "reuse")
        if reuse:
            out.append(FreedServers(code, int(closing[code]), reuse))
    return sorted(out, key=lambda f: (f.closes_after_wave, f.room))
