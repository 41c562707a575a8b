"""The wave order's upper bound is one: on small estates every room order is packed and evaluated
(exhaustive search), and the bound is at least the best of them, horizon clipping included."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from migration_plans.planning.model import Estate, Flavor, PlanParams, Platform, RoomCost, ServerUse, SystemFacts
from migration_plans.planning.planner import plan
from migration_plans.planning.waves import Unit

PLATFORM = Platform("os", "openstack", 3, 1e6, 1e6, 1e7, (Flavor("g.4c16g", 4, 16, 100, 480),))


@dataclass
class RoomOrder:
    """Offer the units room by room in a given order (a unit goes with the first of its rooms)."""

    rooms: Sequence[str]
    name: str = "given"

    def order(self, units: Sequence[Unit], weights: dict[str, float], params: PlanParams) -> list[Unit]:
        seen: set[int] = set()
        out = []
        for room in self.rooms:
            for unit in sorted(units, key=lambda u: u.id):
                if room in unit.rooms and unit.id not in seen:
                    seen.add(unit.id)
                    out.append(unit)
        return out + [u for u in units if u.id not in seen]


def small_estate(rng: random.Random, rooms: int) -> Estate:
    codes = [f"R{i}" for i in range(rooms)]
    systems = []
    for k in range(rng.randint(rooms, 4 * rooms)):
        homes = rng.sample(codes, rng.choice((1, 1, 1, 2)))  # a quarter of the systems span two rooms
        servers = tuple(ServerUse(f"h{k}-{j}", room, 8, 16, 100, 0.2, 0.3, 0.2, 0.3, 50, 90) for j, room in
                        enumerate(homes))
        systems.append(SystemFacts(f"S{k:03d}", f"系统{k}", "D1", False, 2, "running", 100, False, False, None,
                                   servers))
    costs = {c: RoomCost(c, rng.choice((50_000.0, 200_000.0, 1_000_000.0, 3_000_000.0, 9_000_000.0))) for c in codes}
    return Estate(systems, [], costs, [PLATFORM])


@pytest.mark.parametrize("seed", range(12))
def test_bound_is_at_least_the_best_of_every_room_order(seed: int) -> None:
    rng = random.Random(seed)
    rooms = rng.randint(3, 7 if seed < 4 else 5)
    estate = small_estate(rng, rooms)
    # A short horizon, so rooms late in an order save nothing: the clipping Smith's order alone ignores.
    params = PlanParams("t", dt.date(2027, 1, 4), wave_days=14, max_systems_per_wave=rng.choice((1, 2, 3)),
                        horizon_years=rng.choice((0.12, 0.2, 0.35, 3.0)))
    ours = plan(estate, params)
    best = max(plan(estate, params, ordering=RoomOrder(order)).objective_cny
               for order in itertools.permutations(sorted(estate.rooms)))
    assert ours.upper_bound_cny >= best - 1e-6, (ours.upper_bound_cny, best)
    assert ours.objective_cny <= ours.upper_bound_cny + 1e-6
    # And it is no looser than the plainest ceiling: every room closed on day one, saving its cost over the
    # whole horizon (the bound may count a room's work in fractions of a wave, never in less than nothing).
    ceiling = sum(cost.annual_cny for cost in estate.rooms.values()) * params.horizon_waves * params.wave_days / 365
    assert ours.upper_bound_cny <= ceiling + 1e-6, (ours.upper_bound_cny, ceiling)


def test_the_three_room_case_where_smiths_order_is_not_a_bound() -> None:
    # A costly room needing 5 waves, a cheap one needing 1 and a middling one needing 5; the horizon is 3
    # waves. Smith's order (cost per wave of work) starts with the costly room, which cannot close within
    # the horizon, so its clipped value is 0; closing the cheap room first saves something.
    systems = []
    for k, (room, count) in enumerate((("A", 5), ("B", 1), ("C", 5))):
        for j in range(count):
            systems.append(SystemFacts(f"S{k}{j}", "x", "D1", False, 2, "running", 100, False, False, None,
                                       (ServerUse(f"h{k}{j}", room, 8, 16, 100, 0.2, 0.3, 0.2, 0.3, 50, 90),)))
    rooms = {"A": RoomCost("A", 1_300_000.0), "B": RoomCost("B", 200_000.0), "C": RoomCost("C", 500_000.0)}
    estate = Estate(systems, [], rooms, [PLATFORM])
    params = PlanParams("t", dt.date(2027, 1, 4), wave_days=14, max_systems_per_wave=1, horizon_years=3 * 14 / 365)
    assert params.horizon_waves == 3
    ours = plan(estate, params)
    best = max(plan(estate, params, ordering=RoomOrder(order)).objective_cny
               for order in itertools.permutations("ABC"))
    assert best == pytest.approx(200_000 * (3 - 1) * 14 / 365)  # B closes after wave 1; nothing else in time
    assert ours.upper_bound_cny >= best - 1e-6
