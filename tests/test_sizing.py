"""Right-sizing against independent answers: brute-force enumeration of flavor combinations, and
Kubernetes requests checked against the demand they must cover."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from migration_plans.planning.model import Flavor, Platform
from migration_plans.planning.sizing import Demand, _cheapest_cover, cheapest_cover, deployment, flavors_cover


def brute_force(options: list[tuple[float, float, float]], need_v: float, need_m: float,
                limit: int) -> float | None:
    """The cheapest multiset of at most ``limit`` options covering both needs, by trying every one."""
    best = None
    for size in range(1, limit + 1):
        for combo in itertools.combinations_with_replacement(range(len(options)), size):
            v = sum(options[i][0] for i in combo)
            m = sum(options[i][1] for i in combo)
            if v >= need_v - 1e-9 and m >= need_m - 1e-9:
                cost = sum(options[i][2] for i in combo)
                best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(40))
def test_cheapest_cover_matches_brute_force(seed: int) -> None:
    """Both exact methods (the table and the branch and bound) against trying every multiset."""
    rng = random.Random(seed)
    options = []
    for _ in range(rng.randint(2, 5)):
        vcpus = rng.choice((1, 2, 4, 8, 16))
        memory = vcpus * rng.choice((1, 2, 4, 8, 16))
        options.append((float(vcpus), float(memory), round(vcpus * rng.uniform(30, 60) + memory * rng.uniform(10, 25)
                                                           + rng.choice((0, 50)), 2)))
    need_v, need_m = rng.uniform(0.5, 40), rng.uniform(0.5, 200)
    expected = brute_force(options, need_v, need_m, 4)
    found = cheapest_cover(options, need_v, need_m, 4)  # the table (whole sizes)
    searched = _cheapest_cover(tuple(options), need_v, need_m, 4)  # the branch and bound
    if expected is None:
        assert found is None and searched is None
        return
    assert found is not None and searched is not None
    assert searched[0] == pytest.approx(expected) and sum(searched[1]) <= 4
    cost, counts = found
    assert cost == pytest.approx(expected)
    assert sum(counts) <= 4
    assert sum(c * o[0] for c, o in zip(counts, options, strict=True)) >= need_v - 1e-9
    assert sum(c * o[1] for c, o in zip(counts, options, strict=True)) >= need_m - 1e-9
    assert sum(c * o[2] for c, o in zip(counts, options, strict=True)) == pytest.approx(cost)


def test_a_mixed_combination_beats_one_flavor_when_it_is_cheaper() -> None:
    # 10 vCPU / 36 GB: one 16c64g (1,600) or two 8c32g (1,600) over-allocate; 8c32g + 2c4g (800 + 170) covers
    flavors = (Flavor("g.2c4g", 2, 4, None, 170), Flavor("g.8c32g", 8, 32, None, 800), Flavor("g.16c64g", 16, 64, None,
                                                                                               1600))
    platform = Platform("os", "openstack", 3, 1e6, 1e6, 1e6, flavors)
    target = flavors_cover(Demand(10.0, 36.0, 100.0, "samples"), platform)
    assert target is not None
    assert {(g.flavor, g.count) for g in target.groups} == {("g.8c32g", 1), ("g.2c4g", 1)}
    assert target.vcpus == 10 and target.memory_gb == 36 and target.count == 2
    assert target.monthly_cny == pytest.approx(970 + 100 * 0.5)  # flavors carry no disk: the data disk is priced
    assert target.waste() == pytest.approx((0.0, 0.0))


def test_prices_come_from_the_platform_or_are_marked_default() -> None:
    flavors = (Flavor("x.2c8g", 2, 8, None, None),)
    priced = Platform("os", "openstack", 3, 1e6, 1e6, 1e6, flavors, 40.0, 10.0, 0.2)
    bare = Platform("os", "openstack", 3, 1e6, 1e6, 1e6, flavors)
    need = Demand(2.0, 8.0, 10.0, "samples")
    own, proxy = flavors_cover(need, priced), flavors_cover(need, bare)
    assert own is not None and proxy is not None
    assert own.price_basis == "data" and own.monthly_cny == pytest.approx(2 * 40 + 8 * 10 + 10 * 0.2)
    assert proxy.price_basis == "default" and proxy.monthly_cny == pytest.approx(2 * 46 + 8 * 17 + 10 * 0.5)


@pytest.mark.parametrize(("vcpus", "memory", "servers"), [(0.05, 0.1, 1), (3.3, 7.1, 3), (41.0, 60.0, 2),
                                                           (7.9, 200.0, 4)])
def test_kubernetes_items_are_requests_times_replicas_covering_the_demand(vcpus: float, memory: float,
                                                                          servers: int) -> None:
    largest = Flavor("pod.16c32g", 16, 32, 20, None)
    platform = Platform("k8s", "kubernetes", 3, 1e6, 1e6, 1e6, (Flavor("pod.1c2g", 1, 2, 20, None), largest))
    target = deployment(Demand(vcpus, memory, 50.0, "samples", servers), platform)
    assert target is not None and target.kind == "kubernetes" and len(target.groups) == 1
    replica = target.groups[0]
    assert replica.count >= servers
    assert replica.vcpus <= largest.vcpus and replica.memory_gb <= largest.memory_gb  # every replica fits a pod
    assert replica.vcpus * replica.count >= vcpus - 1e-9 and replica.memory_gb * replica.count >= memory - 1e-9
    # rounded up to 0.1 CPU and 0.25 GiB per replica, never more
    assert replica.vcpus - vcpus / replica.count < 0.1 + 1e-9 or replica.vcpus == 0.1
    assert replica.memory_gb - memory / replica.count < 0.25 + 1e-9 or replica.memory_gb == 0.25
    assert math.isclose(replica.vcpus * 10, round(replica.vcpus * 10))


def test_fractional_sizes_are_searched_and_still_exact() -> None:
    options = [(0.5, 0.75, 30.0), (1.0, 2.0, 55.0), (2.0, 3.5, 100.0)]
    for need_v, need_m in ((0.3, 0.4), (2.2, 5.0), (3.9, 6.9)):
        found = cheapest_cover(options, need_v, need_m, 4)
        expected = brute_force(options, need_v, need_m, 4)
        assert (found is None) == (expected is None)
        if found is not None:
            assert found[0] == pytest.approx(expected)
