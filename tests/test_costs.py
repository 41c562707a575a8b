"""The room cost model follows DOMAIN.md's formulas and marks every default it uses."""

from __future__ import annotations

import pytest

from inventory.costs import Basis, RoomFacts, ServerDraw, room_cost, server_power_w
from inventory.settings import CostDefaults

DEFAULTS = CostDefaults()


def test_energy_from_surveyed_it_load_is_data() -> None:
    cost = room_cost(RoomFacts("R1", it_load_kw=10, pue=1.8, tariff_cny_kwh=0.8, area_m2=50, racks=5, rent_cny=1,
                               maintenance_cny=2, staff_cny=3, lines_cny=4), DEFAULTS)
    assert cost.energy.cny == pytest.approx(10 * 1.8 * 8760 * 0.8)
    assert cost.energy.basis is Basis.DATA and not cost.assumed
    assert (cost.rent.cny, cost.maintenance.cny, cost.staff.cny, cost.lines.cny) == (1, 2, 3, 4)
    assert all(p.basis is Basis.DATA for p in cost.parts.values())
    assert cost.total == pytest.approx(cost.energy.cny + 10)


def test_energy_from_servers_uses_the_power_curve() -> None:
    servers = (ServerDraw(400, 0.10), ServerDraw(None, None))
    expected_w = (0.65 * 400 + 0.35 * 400 * 0.10) + (0.65 * 450 + 0.35 * 450 * 0.10)
    assert server_power_w(servers[0], DEFAULTS) == pytest.approx(0.65 * 400 + 0.35 * 400 * 0.10)
    cost = room_cost(RoomFacts("R2", servers=servers), DEFAULTS)
    assert cost.it_load_kw == pytest.approx(expected_w / 1000)
    assert cost.energy.cny == pytest.approx(expected_w / 1000 * 2.0 * 8760 * 0.7)
    assert cost.energy.basis is Basis.DEFAULT
    assert {"server P_max 450 W", "server CPU use 10%", "PUE 2", "tariff 0.7 CNY/kWh"} <= set(cost.assumed)


def test_placeholders_scale_with_racks_and_area() -> None:
    cost = room_cost(RoomFacts("R3", racks=8, servers=(ServerDraw(500, 0.2),) * 30), DEFAULTS)
    assert cost.rent.cny == pytest.approx(8 * 3 * 1200) and cost.rent.basis is Basis.DEFAULT
    assert cost.maintenance.cny == pytest.approx(8 * 25000)
    assert cost.staff.cny == pytest.approx(0.5 * 150000)
    assert cost.lines.cny == pytest.approx(60000)
    estimated = room_cost(RoomFacts("R4", servers=(ServerDraw(500, 0.2),) * 31), DEFAULTS)
    assert estimated.maintenance.cny == pytest.approx(4 * 25000)  # 31 servers → 4 racks
    assert "estimated" in estimated.maintenance.note


def test_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHANGYUN_DEFAULT_PUE", "1.5")
    monkeypatch.setenv("SHANGYUN_DEFAULT_LINES_CNY", "1000")
    cost = room_cost(RoomFacts("R5", it_load_kw=1, tariff_cny_kwh=1), CostDefaults())
    assert cost.energy.cny == pytest.approx(1.5 * 8760) and cost.lines.cny == 1000
