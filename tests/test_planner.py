"""The planner as a pure function over hand-built estates: strategies and their reasons, right-sizing,
move groups, wave constraints, the room-closing objective and its upper bound."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

import pytest

from inventory.models.enums import Strategy
from migration_plans.planning.model import (
    Dependency,
    Estate,
    Flavor,
    PlanParams,
    Platform,
    RoomCost,
    ServerUse,
    SystemFacts,
)
from migration_plans.planning.planner import FixedWave, plan
from migration_plans.planning.strategies import Rule, RuleContext, decide
from migration_plans.planning.waves import DepartmentOrder, RandomOrder
from migration_plans.planning.windows import parse_window, window_allows

FLAVORS = (Flavor("c.2c4g", 2, 4, 100, 200), Flavor("c.4c8g", 4, 8, 100, 400), Flavor("g.4c16g", 4, 16, 100, 480),
           Flavor("c.8c16g", 8, 16, 100, 800))
OPENSTACK = Platform("os-l3", "openstack", 3, 10000, 40000, 1e7, FLAVORS)
K8S = Platform("k8s-l3", "kubernetes", 3, 10000, 40000, 1e7, (Flavor("pod.2c4g", 2, 4, 20, 150),))
START = dt.date(2027, 1, 4)


def server(host: str, room: str = "R1", cores: int = 8, memory: float = 16, cpu: float | None = 0.2,
           mem: float | None = 0.3) -> ServerUse:
    return ServerUse(host, room, cores, memory, 500, cpu, mem, cpu, mem, 100 if cpu is not None else None,
                     30 if cpu is not None else 0)


def system(code: str, *servers: ServerUse, **kw: object) -> SystemFacts:
    base: dict[str, object] = {"code": code, "name": f"系统{code}", "department": "D1", "classified": False,
                               "mlps_level": 2, "status": "running", "daily_users": 100, "containerized": False,
                               "special_hardware": False, "downtime_window": None,
                               "servers": servers or (server(f"{code.lower()}-1"),)}
    return SystemFacts(**(base | kw))  # type: ignore[arg-type]


def estate(systems: list[SystemFacts], deps: list[Dependency] | None = None,
           platforms: list[Platform] | None = None) -> Estate:
    rooms = {r: RoomCost(r, 100000.0 * (1 + i)) for i, r in enumerate(sorted({x for s in systems for x in s.rooms}))}
    return Estate(systems, deps or [], rooms, platforms if platforms is not None else [OPENSTACK, K8S])


def params(**kw: object) -> PlanParams:
    return replace(PlanParams("t", START, max_systems_per_wave=2), **kw)  # type: ignore[arg-type]


def test_strategy_rules_and_reasons() -> None:
    systems = [
        system("S1", classified=True, mlps_level=3),
        system("S2", status="retired"),
        system("S3", servers=()),
        system("S4", zombie=True, daily_users=0),
        system("S5", special_hardware=True),
        system("S6", mlps_level=4),
        system("S7", containerized=True),
        system("S8"),
        system("S9", status="migrated", servers=()),
    ]
    result = plan(estate(systems), params(max_systems_per_wave=10))
    got = {c: d.strategy for c, d in result.decisions.items()}
    assert got == {"S1": Strategy.RETAIN, "S2": Strategy.RETIRE, "S3": Strategy.RETAIN, "S4": Strategy.RETIRE,
                   "S5": Strategy.RELOCATE, "S6": Strategy.RELOCATE, "S7": Strategy.REPLATFORM, "S8": Strategy.REHOST,
                   "S9": Strategy.RETAIN}
    assert "already migrated" in result.decisions["S9"].reason_en and "S9" not in result.wave_of
    s1, s6 = result.decisions["S1"], result.decisions["S6"]
    assert s1.target is None and "涉密" in s1.reason_zh and "classified" in s1.reason_en
    assert "等保4级" in s6.reason_zh and "above every cloud platform" in s6.reason_en and s6.target is None
    assert result.decisions["S7"].target.platform == "k8s-l3"  # type: ignore[union-attr]
    assert "no servers recorded" in result.decisions["S3"].reason_en
    assert "S1" not in result.wave_of and "S3" not in result.wave_of


def test_classified_system_can_never_get_a_cloud_target_even_from_a_bad_rule() -> None:
    class Reckless:
        name = "reckless"

        def decide(self, system: SystemFacts, ctx: RuleContext) -> object:
            from migration_plans.planning.model import Decision
            return Decision(system.code, Strategy.REHOST, "上云", "to the cloud")

    rules: list[Rule] = [Reckless()]  # type: ignore[list-item]
    with pytest.raises(AssertionError, match="classified"):
        decide(system("S1", classified=True), RuleContext([OPENSTACK], params()), rules)


def test_right_sizing_sums_p95_with_comfort_factor_and_takes_the_cheapest_flavor() -> None:
    # 2 servers: 8 cores × 0.2 + 8 × 0.1 = 2.4 vCPU × 1.3 = 3.12; memory 16 × 0.3 × 2 = 9.6 × 1.3 = 12.48 GB
    s = system("S1", server("a", cpu=0.2, mem=0.3), server("b", cpu=0.1, mem=0.3))
    decision = plan(estate([s]), params()).decisions["S1"]
    assert decision.target is not None and decision.sized_from == "samples"
    assert (decision.target.flavor, decision.target.count) == ("g.4c16g", 1)  # 4c8g is too small in memory
    assert decision.target.disk_gb == pytest.approx(2 * 100 * 1.5)


def test_without_samples_the_allocation_is_used_and_said() -> None:
    s = system("S1", server("a", cores=4, memory=8, cpu=None, mem=None))
    decision = plan(estate([s]), params()).decisions["S1"]
    assert decision.sized_from == "allocated" and decision.target is not None
    assert decision.target.flavor == "c.4c8g"
    assert "allocated" in decision.reason_en and "已分配" in decision.reason_zh


def test_demand_beyond_every_flavor_uses_several_instances_or_relocates() -> None:
    big = system("S1", server("a", cores=64, memory=64, cpu=0.5, mem=0.5))  # 41.6 vCPU, 41.6 GB → 6× c.8c16g
    decision = plan(estate([big]), params()).decisions["S1"]
    assert decision.strategy is Strategy.REHOST and decision.target is not None and decision.target.count > 1
    huge = system("S2", server("a", cores=512, memory=4096, cpu=1.0, mem=1.0))
    assert plan(estate([huge]), params()).decisions["S2"].strategy is Strategy.RELOCATE


def test_empty_flavor_catalogue_is_an_explained_relocate() -> None:
    bare = Platform("bare", "openstack", 3, 1000, 1000, 1000, ())
    result = plan(estate([system("S1")], platforms=[bare]), params())
    assert result.decisions["S1"].strategy is Strategy.RELOCATE
    assert "no flavor" in result.decisions["S1"].reason_en and "S1" in result.wave_of


def test_tight_dependencies_move_together_cycles_included_loose_ones_reported() -> None:
    systems = [system(f"S{i}", server(f"h{i}", room=f"R{i}")) for i in range(1, 6)]
    deps = [Dependency("S1", "S2", True), Dependency("S2", "S3", True), Dependency("S3", "S1", True),
            Dependency("S4", "S1", False)]
    result = plan(estate(systems, deps), params(max_systems_per_wave=3))
    assert len({result.wave_of[c] for c in ("S1", "S2", "S3")}) == 1
    assert result.move_groups["S1"] == result.move_groups["S2"] == result.move_groups["S3"]
    assert result.loose_dependencies == {"S4": ["S1"]}


def test_tight_dependency_on_a_retained_system_is_flagged_on_both_sides() -> None:
    systems = [system("S1", classified=True), system("S2")]
    result = plan(estate(systems, [Dependency("S2", "S1", True)]), params())
    assert any("retained S1" in f for f in result.decisions["S2"].flags)
    assert any("S2" in f for f in result.decisions["S1"].flags)


def test_group_larger_than_the_wave_limit_gets_a_wave_of_its_own_with_a_warning() -> None:
    systems = [system(f"S{i}") for i in range(1, 5)] + [system("S9")]
    deps = [Dependency("S1", f"S{i}", True) for i in range(2, 5)]
    result = plan(estate(systems, deps), params(max_systems_per_wave=2))
    wave = result.wave_of["S1"]
    assert [c for c, w in result.wave_of.items() if w == wave] == ["S1", "S2", "S3", "S4"]
    assert any("exceeds the per-wave limit" in w for w in result.warnings)


def test_every_system_appears_exactly_once_and_limits_hold() -> None:
    rng = random.Random(4)
    systems = [system(f"S{i:03d}", server(f"h{i}", room=f"R{rng.randint(1, 12)}", cores=rng.choice((4, 8, 16))),
                      classified=rng.random() < 0.08, containerized=rng.random() < 0.1) for i in range(120)]
    deps = [Dependency(f"S{i:03d}", f"S{rng.randrange(i):03d}", rng.random() < 0.3) for i in range(1, 120, 3)]
    p = params(max_systems_per_wave=9, max_vcpus_per_wave=60)
    result = plan(estate(systems, deps), p)
    in_waves = [c for w in result.waves for c in w.systems]
    not_migrated = [c for c in result.decisions if c not in result.wave_of]
    assert sorted(in_waves + not_migrated) == sorted(s.code for s in systems)
    assert len(in_waves) == len(set(in_waves))
    for wave in result.waves:
        targets = [result.decisions[c].target for c in wave.systems]
        vcpus = sum(t.vcpus * t.count for t in targets if t is not None and result.decisions[
            wave.systems[targets.index(t)]].strategy in (Strategy.REHOST, Strategy.REPLATFORM))
        assert len(wave.systems) <= 9 or len({result.move_groups[c] for c in wave.systems}) == 1
        assert vcpus <= 60 or len({result.move_groups[c] for c in wave.systems}) == 1
    assert all(not result.decisions[c].target for c in not_migrated if result.decisions[c].strategy is Strategy.RETAIN)


def test_rooms_close_after_their_last_system_and_retained_systems_keep_them_open() -> None:
    systems = [system("S1", server("a", room="R1")), system("S2", server("b", room="R1")),
               system("S3", server("c", room="R2")), system("S4", server("d", room="R2"), classified=True)]
    result = plan(estate(systems), params(max_systems_per_wave=1))
    rooms = {r.room: r for r in result.rooms}
    assert rooms["R1"].closes_after_wave == max(result.wave_of["S1"], result.wave_of["S2"])
    assert rooms["R2"].closes_after_wave is None and rooms["R2"].blocked_by == ["S4"]


def test_the_optimiser_closes_the_costly_room_first() -> None:
    cheap = [system(f"A{i}", server(f"a{i}", room="R-cheap")) for i in range(4)]
    dear = [system(f"B{i}", server(f"b{i}", room="R-dear")) for i in range(4)]
    e = estate(cheap + dear)
    e.rooms = {"R-cheap": RoomCost("R-cheap", 10000), "R-dear": RoomCost("R-dear", 900000)}
    result = plan(e, params(max_systems_per_wave=4))
    rooms = {r.room: r.closes_after_wave for r in result.rooms}
    assert rooms == {"R-dear": 1, "R-cheap": 2}
    assert result.objective_cny <= result.upper_bound_cny + 1e-6


@pytest.mark.parametrize("seed", range(12))
def test_upper_bound_holds_and_the_optimiser_beats_the_baselines(seed: int) -> None:
    rng = random.Random(seed)
    rooms = [f"R{i}" for i in range(rng.randint(3, 15))]
    systems = []
    for i in range(rng.randint(20, 90)):
        hosts = [server(f"h{i}-{k}", room=rng.choice(rooms), cores=rng.choice((2, 4, 8))) for k in
                 range(rng.choice((1, 1, 2)))]
        systems.append(system(f"S{i:03d}", *hosts, classified=rng.random() < 0.05,
                              department=f"D{rng.randint(1, 5)}"))
    deps = [Dependency(f"S{i:03d}", f"S{rng.randrange(i):03d}", True) for i in range(1, len(systems), 7)]
    e = estate(systems, deps)
    e.rooms = {r: RoomCost(r, rng.uniform(1e4, 1e6)) for r in rooms}
    p = params(max_systems_per_wave=rng.randint(2, 8), max_vcpus_per_wave=rng.choice((None, 40)))
    best = plan(e, p)
    assert best.objective_cny <= best.upper_bound_cny + 1e-6
    for baseline in (DepartmentOrder(), RandomOrder(seed)):
        other = plan(e, p, ordering=baseline)
        assert other.objective_cny <= best.upper_bound_cny + 1e-6
        assert best.objective_cny >= other.objective_cny * 0.97


def test_downtime_windows_pick_a_wave_containing_an_allowed_day() -> None:
    rule, note = parse_window("每月最后一个周日 02:00-06:00")
    assert note is None and rule is not None
    assert rule(dt.date(2027, 1, 31)) and not rule(dt.date(2027, 1, 24))
    weekend, _ = parse_window("周末全天")
    assert weekend is not None and weekend(dt.date(2027, 1, 9)) and not weekend(dt.date(2027, 1, 8))
    holiday, _ = parse_window("节假日")
    assert holiday is not None and holiday(dt.date(2027, 10, 4)) and holiday(dt.date(2027, 1, 9))
    assert parse_window("看情况")[1] is not None
    systems = [system("S1", downtime_window="每月最后一个周日 02:00-06:00")]
    result = plan(estate(systems), params(wave_days=7))
    wave = result.waves[result.wave_of["S1"] - 1]
    assert window_allows(rule, wave.start, wave.end) and wave.start <= dt.date(2027, 1, 31) <= wave.end


def test_no_capacity_leaves_systems_out_with_the_reason_and_blocks_their_room() -> None:
    tiny = replace(OPENSTACK, free_vcpus=4)
    systems = [system("S1", server("a", room="R1")), system("S2", server("b", room="R1"))]
    result = plan(estate(systems, platforms=[tiny]), params())
    placed = [c for c in ("S1", "S2") if c in result.wave_of]
    left = [c for c in ("S1", "S2") if c not in result.wave_of]
    assert len(placed) == 1 and len(left) == 1
    assert "no free capacity on os-l3" in result.decisions[left[0]].reason_en
    assert {r.room: r.closes_after_wave for r in result.rooms} == {"R1": None}


def test_fixed_waves_are_kept_when_replanning() -> None:
    systems = [system(f"S{i}") for i in range(6)]
    result = plan(estate(systems), params(max_systems_per_wave=2), fixed=[FixedWave(1, ("S5",))])
    assert result.wave_of["S5"] == 1
    assert all(result.wave_of[c] >= 2 for c in ("S0", "S1", "S2", "S3", "S4"))
