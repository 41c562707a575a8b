"""The savings model on a case small enough to work out by hand from the rules finance gave us
(N+1 for rooms, cloud from the month after the wave, leased lines under 3 years carried to their end,
refresh avoided for servers past depreciation, hosting for relocated hardware)."""

from __future__ import annotations

import datetime as dt

import pytest

from inventory.models.enums import Strategy
from migration_plans.planning.model import (
    Decision,
    InstanceGroup,
    RoomCost,
    SavingsRates,
    ServerUse,
    SystemFacts,
    Target,
    Wave,
)
from migration_plans.planning.savings import SavingsModel, fiscal_years, savings_model

OLD = dt.date(2018, 5, 1)  # past 6 years from 2024 on
NEW = dt.date(2025, 5, 1)  # past 6 years only from 2031


def server(host: str, room: str, bought: dt.date, energy: float = 0.0, upkeep: float = 0.0) -> ServerUse:
    return ServerUse(host, room, 8, 16, 100, purchase_date=bought, energy_cny=energy, upkeep_cny=upkeep)


def system(code: str, *servers: ServerUse) -> SystemFacts:
    return SystemFacts(code, code, "D1", False, 2, "running", 10, False, False, None, servers)


def test_a_hand_worked_plan() -> None:
    # Room A (100,000/yr, of which lines 20,000, contract to 2028-07-01) closes after wave 1 (ends 2027-03-14).
    # Room B (50,000/yr) keeps a retained system; one of its servers leaves for the cloud in wave 2.
    # Room C (30,000/yr, lines 10,000, contract to 2032-01-01: 3+ years after closing) is relocated in wave 2.
    rooms = {
        "A": RoomCost("A", 100_000, parts=(("energy", 50_000, "data"), ("lines", 20_000, "data"),
                                           ("rent", 30_000, "default")), lines_contract_end=dt.date(2028, 7, 1)),
        "B": RoomCost("B", 50_000, parts=(("energy", 50_000, "data"),)),
        "C": RoomCost("C", 30_000, parts=(("energy", 20_000, "data"), ("lines", 10_000, "data")),
                      lines_contract_end=dt.date(2032, 1, 1)),
    }
    systems = [system("S1", server("a1", "A", OLD)),
               system("S2", server("b1", "B", OLD, energy=3_000, upkeep=2_000)),
               system("S3", server("b2", "B", OLD)),
               system("S4", server("c1", "C", NEW))]
    cloud = Target("os", "openstack", (InstanceGroup("g.4c16g", 4, 16, 1, 1_000),), 100, 1_000)
    decisions = {"S1": Decision("S1", Strategy.REHOST, "", "", cloud),
                 "S2": Decision("S2", Strategy.REHOST, "", "", cloud),
                 "S3": Decision("S3", Strategy.RETAIN, "", ""),
                 "S4": Decision("S4", Strategy.RELOCATE, "", "")}
    waves = [Wave(1, dt.date(2027, 3, 1), dt.date(2027, 3, 14), ["S1"]),
             Wave(2, dt.date(2027, 3, 15), dt.date(2027, 3, 28), ["S2", "S4"])]
    rates = SavingsRates(refresh_cny_per_server_year=10_000, hosting_cny_per_u_year=2_000, rack_units_per_server=2)
    years = fiscal_years(dt.date(2027, 3, 1), waves, 3.0)
    assert list(years) == [2027, 2028, 2029]
    model = savings_model("p", dt.date(2027, 3, 1), waves, {"S1": 1, "S2": 2, "S4": 2}, decisions, systems, rooms,
                          {"A": 1, "B": None, "C": 2}, {"B": ["S3"]}, rates, years)
    y27, y28, y29 = model.years
    # 2027: every room paid (closed this year); 4 old servers due a refresh; cloud April–December for two items
    assert y27.baseline_wan == pytest.approx((180_000 + 3 * 10_000) / 1e4)
    assert y27.room_cost_paid_wan == pytest.approx(18.0) and y27.refresh_due_wan == pytest.approx(3.0)
    assert y27.cloud_cost_wan == pytest.approx(2 * 1_000 * 9 / 1e4)
    assert y27.hosting_cost_wan == pytest.approx(2 * 2_000 * 9 / 12 / 1e4)  # c1 hosted from April
    assert y27.rooms_closed == ["A", "C"]
    # 2028: A and C stop; A's lines run to 1 July (182 of 366 days); C's contract has 3+ years left: ends with it;
    # B is paid less b1's energy and upkeep; a1 and b1 avoid their refresh, b2 (retained) is still due one
    a_lines = 20_000 * 182 / 366
    assert y28.lines_carried_wan == pytest.approx(round(a_lines / 1e4, 2))
    assert y28.room_cost_paid_wan == pytest.approx(round((50_000 - 5_000 + a_lines) / 1e4, 2))
    assert y28.refresh_due_wan == pytest.approx(1.0) and y28.cloud_cost_wan == pytest.approx(2.4)
    assert y28.hosting_cost_wan == pytest.approx(0.4)
    assert y28.net_saving_wan == pytest.approx(
        round(y28.baseline_wan - y28.room_cost_paid_wan - y28.refresh_due_wan - y28.cloud_cost_wan
              - y28.hosting_cost_wan, 2))
    # 2029: the lines have ended
    assert y29.lines_carried_wan == 0 and y29.room_cost_paid_wan == pytest.approx(4.5)
    assert model.total_net_wan == pytest.approx(round(sum(y.net_saving_wan for y in model.years), 2))
    a, b, c = model.rooms
    assert (a.stops_costing_from, a.lines_paid_until) == (2028, dt.date(2028, 7, 1))
    assert b.closes_on is None and b.blocked_by == ["S3"] and b.servers_leaving == 1
    assert c.lines_paid_until is None and "3+ years" in c.lines_note_en
    assert a.parts["rent"] == (3.0, "default")
    # the stored form reads back to the same figures
    assert SavingsModel.from_json(model.as_json()) == model


def test_a_closing_room_without_a_contract_date_is_named_and_assumed_to_stop_its_lines() -> None:
    rooms = {"A": RoomCost("A", 80_000, parts=(("lines", 20_000, "default"),))}
    systems = [system("S1", server("a1", "A", NEW))]
    waves = [Wave(1, dt.date(2027, 1, 4), dt.date(2027, 1, 17), ["S1"])]
    decisions = {"S1": Decision("S1", Strategy.RETIRE, "", "")}
    model = savings_model("p", dt.date(2027, 1, 4), waves, {"S1": 1}, decisions, systems, rooms, {"A": 1}, {},
                          SavingsRates(), fiscal_years(dt.date(2027, 1, 4), waves, 3.0))
    assert any("A" in w and "线路合同到期" in w for w in model.warnings)
    assert model.rooms[0].lines_paid_until is None and "assumed" in model.rooms[0].lines_note_en
    assert model.years[1].room_cost_paid_wan == 0 and model.years[1].net_saving_wan == pytest.approx(8.0)
