"""The servers of a closing room and their disposal (issue 16 §8, 资产处置): moves with its system, stays in
use, secrecy office, check, reuse, transfer or scrap, by the rules written in ``migration_plans/assets.py``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, col, select

from inventory.db import create_db_engine
from inventory.models import BusinessSystem, PlanItem, Room, Server, SystemServer
from migration_plans.assets import Asset, HostedSystem, dispose
from tests.conftest import run_cli

TODAY = dt.date(2026, 11, 30)


def _asset(purchased: dt.date | None, *systems: HostedSystem) -> Asset:
    return Asset("h", None, 8, 16.0, purchased, "retired", systems)


@pytest.mark.parametrize(("purchased", "systems", "expected"), [
    (dt.date(2024, 1, 1), [HostedSystem("S1", False, "relocate")], "moves"),
    (dt.date(2012, 1, 1), [HostedSystem("S1", True, "intranet")], "moves"),  # old, but it goes with the system
    (dt.date(2024, 1, 1), [HostedSystem("S1", False, "rehost"), HostedSystem("S2", False, "retain")], "in_use"),
    (dt.date(2024, 1, 1), [HostedSystem("S1", False, None)], "in_use"),  # not placed in a wave: still there
    (dt.date(2024, 1, 1), [HostedSystem("S1", False, "retain", gone=True)], "reuse"),  # migrated already
    (dt.date(2024, 1, 1), [HostedSystem("S1", True, "retain", gone=True)], "secrecy"),  # classified data on it
    (None, [HostedSystem("S1", False, "rehost")], "check"),
    (dt.date(2021, 1, 1), [HostedSystem("S1", False, "rehost")], "reuse"),  # 5.9 years < 6
    (dt.date(2020, 11, 1), [HostedSystem("S1", False, "retire")], "transfer"),  # 6.1 years
    (dt.date(2018, 12, 31), [HostedSystem("S1", False, "rehost")], "transfer"),  # 7.9 years < 8
    (dt.date(2018, 11, 1), [HostedSystem("S1", False, "rehost")], "scrap"),  # 8.1 years
    (dt.date(2024, 1, 1), [], "reuse"),  # hosts nothing
])
def test_each_server_gets_the_first_disposal_that_applies(purchased: dt.date | None, systems: list[HostedSystem],
                                                        expected: str) -> None:
    assert dispose(_asset(purchased, *systems), TODAY, 6, 8.0).disposal == expected


def test_rooms_assets_lists_a_room_s_servers_for_finance(planned: str, tmp_path: Path) -> None:
    """On the planned tiny estate: every server of the room is listed once, with the disposal its systems'
    strategies and its age give, in the table and in the workbook."""
    db_url = planned
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        room = session.exec(select(Room).order_by(col(Room.code))).first()
        assert room is not None
        servers = session.exec(select(Server).where(Server.room_id == room.id)).all()
        strategies: dict[int, set[str]] = {}
        for server_id, strategy in session.exec(
                select(SystemServer.server_id, PlanItem.strategy)
                .join(PlanItem, col(PlanItem.system_id) == SystemServer.system_id)
                .join(BusinessSystem, col(BusinessSystem.id) == SystemServer.system_id)):
            strategies.setdefault(server_id, set()).add(strategy)
        room_code = room.code
    engine.dispose()
    result = run_cli("rooms", "assets", room_code, "--xlsx", str(tmp_path / "assets.xlsx"), db_url=db_url)
    assert result.returncode == 0, result.stderr
    for server in servers:
        assert server.hostname in result.stdout
    rows = list(openpyxl.load_workbook(tmp_path / "assets.xlsx").active.iter_rows(values_only=True))  # type: ignore[union-attr]
    by_host = {r[0]: r for r in rows[1:]}
    assert set(by_host) == {s.hostname for s in servers}
    checked = 0
    for server in servers:
        disposal, only = by_host[server.hostname][7], strategies.get(server.id or 0, set())
        if only & {"relocate", "intranet"}:
            assert disposal == "moves"
            checked += 1
        elif server.purchase_date is not None and only and only <= {"rehost", "replatform", "retire"}:
            age = (dt.date(2026, 11, 30) - server.purchase_date).days / 365.25
            assert disposal == ("reuse" if age < 6 else "transfer" if age < 8 else "scrap"), server.hostname
            checked += 1
    assert checked
    missing = run_cli("rooms", "assets", "NO-SUCH-ROOM", db_url=db_url)
    assert missing.returncode == 2 and "NO-SUCH-ROOM" in missing.stderr
    assert run_cli("rooms", "--sort", "cost", "--limit", "3", db_url=db_url).returncode == 0  # the list still works
