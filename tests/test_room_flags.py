"""Room decommission flags: the scoring ranks and explains, weights come from the environment, and
the command ranks every active room of a real inventory (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scheduler.room_flags import RoomInput, RoomWeights, score_rooms
from tests.conftest import run_cli


def _room(code: str, **changes: object) -> RoomInput:
    base = {"code": code, "name": code, "racks": 8.0, "servers": 40, "pue": 1.5, "pue_assumed": False,
            "kwh_per_year": 200_000.0, "used_cores": 300.0, "old_servers": 0, "systems": 12,
            "systems_without_mlps": 0, "retained_systems": 0, "cpu_util": 0.4, "annual_cost_cny": 900_000.0}
    return RoomInput(**(base | changes))  # type: ignore[arg-type]


def test_small_old_wasteful_rooms_rank_first_with_reasons() -> None:
    rooms = [_room("BIG"), _room("TINY", racks=1.0, servers=3, pue=2.3, pue_assumed=True, used_cores=2.0,
                                 kwh_per_year=30_000.0, old_servers=3, systems=2, systems_without_mlps=2,
                                 cpu_util=0.04)]
    tiny, big = score_rooms(rooms)
    assert (tiny.code, big.code) == ("TINY", "BIG") and tiny.score > big.score
    assert tiny.factors["small"] == 1.0 and tiny.factors["age"] == 1.0 and tiny.factors["mlps"] == 1.0
    assert "PUE 2.30 (assumed)" in tiny.reasons_en and "3 of 3 servers older than 6 years" in tiny.reasons_en
    assert "2个系统中2个未做等保测评" in tiny.reasons_zh and big.reasons_en == []


def test_a_retained_system_holds_the_room_open() -> None:
    free, held = _room("FREE", racks=2.0), _room("HELD", racks=2.0, retained_systems=6)
    first, second = score_rooms([held, free])
    assert (first.code, second.code) == ("FREE", "HELD")
    assert "6 system(s) must stay (retain), so the room cannot close yet" in second.reasons_en


def test_weights_from_the_environment_change_the_ranking(monkeypatch: pytest.MonkeyPatch) -> None:
    old, small = _room("OLD", old_servers=20), _room("SMALL", racks=1.0)
    assert score_rooms([old, small])[0].code == "SMALL"
    for factor in ("small", "energy", "pue", "mlps", "idle", "movable"):
        monkeypatch.setenv(f"SHANGYUN_ROOM_WEIGHT_{factor.upper()}", "0")
    monkeypatch.setenv("SHANGYUN_ROOM_WEIGHT_AGE", "1")
    assert score_rooms([old, small], RoomWeights())[0].code == "OLD"


def test_command_ranks_every_active_room(db_url: str, tiny_estate: Path) -> None:
    assert run_cli("import", str(tiny_estate), db_url=db_url).returncode == 0
    result = run_cli("schedule", "rooms", "--json", db_url=db_url)
    assert result.returncode == 0, result.stderr
    flags = json.loads(result.stdout)
    assert len(flags) == 8 and [f["score"] for f in flags] == sorted((f["score"] for f in flags), reverse=True)
    assert all(0 <= f["score"] <= 1 and f["annual_cost_cny"] > 0 for f in flags)
    assert any(f["reasons_zh"] for f in flags)
    table = run_cli("schedule", "rooms", "--limit", "3", "--lang", "en", db_url=db_url)
    assert table.returncode == 0 and flags[0]["room"] in table.stdout and "reasons" in table.stdout
