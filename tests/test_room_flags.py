"""Room decommission flags: the scoring ranks and explains, weights come from the environment, and
the command ranks every active room of a real inventory (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inventory.settings import RoomWeights
from scheduler.room_flags import Blocker, RoomInput, score_rooms
from tests.conftest import run_cli


def _room(code: str, **changes: object) -> RoomInput:
    base = {"code": code, "name": code, "racks": 8.0, "servers": 40, "pue": 1.5, "pue_assumed": False,
            "kwh_per_year": 200_000.0, "used_cores": 300.0, "old_servers": 0, "systems": 12,
            "systems_without_mlps": 0, "cpu_util": 0.4, "annual_cost_cny": 900_000.0, "measured_servers": 40}
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


def test_blocked_rooms_rank_apart_and_say_what_would_unblock_them() -> None:
    keeper = Blocker("S9", "classified (涉密)", "涉密系统", "move it to the government intranet", "迁往电子政务内网")
    # HELD scores far higher on every factor, yet a room that can close comes first
    free = _room("FREE", racks=9.0)
    held = _room("HELD", racks=1.0, pue=2.5, old_servers=40, cpu_util=0.01, blockers=(keeper,))
    first, second = score_rooms([held, free])
    assert (first.code, second.code) == ("FREE", "HELD") and second.score > first.score
    assert first.closable and not second.closable and second.blockers == [keeper]
    assert "cannot close yet: 1 system(s) stay (S9)" in second.reasons_en


def test_without_samples_energy_and_idle_are_unknown_and_left_out() -> None:
    blind = _room("BLIND", used_cores=None, cpu_util=None, measured_servers=0)
    seen = _room("SEEN")
    flag = next(f for f in score_rooms([blind, seen]) if f.code == "BLIND")
    assert flag.factors["energy"] is None and flag.factors["idle"] is None
    assert "energy per used CPU core unknown: no server has utilization samples" in flag.reasons_en
    assert "每个在用CPU核的耗电未知：无服务器利用率数据" in flag.reasons_zh
    assert not any("kWh a year per used CPU core" in r for r in flag.reasons_en)
    # the score is the weighted mean of the known factors only
    w = RoomWeights().model_dump()
    known = {k: v for k, v in flag.factors.items() if v is not None}
    assert flag.score == pytest.approx(sum(w[k] * v for k, v in known.items()) / sum(w[k] for k in known), abs=1e-4)


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
    ranked = json.loads(result.stdout)
    flags = ranked["closable"] + ranked["blocked"]
    assert len(flags) == 8 and all(f["blocked_by"] for f in ranked["blocked"])
    for part in ("closable", "blocked"):
        scores = [f["score"] for f in ranked[part]]
        assert scores == sorted(scores, reverse=True)
    assert all(0 <= f["score"] <= 1 and f["annual_cost_cny"] > 0 for f in flags)
    assert any(f["reasons_zh"] for f in flags)
    table = run_cli("schedule", "rooms", "--limit", "3", "--lang", "en", db_url=db_url)
    assert table.returncode == 0 and flags[0]["room"] in table.stdout and "reasons" in table.stdout
