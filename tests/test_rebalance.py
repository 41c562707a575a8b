"""The rebalancer as a pure function: hand-made clusters with known answers, generated clusters whose
every move list is replayed independently, bad snapshots named item by item, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scheduler.rebalance import rebalance, replay
from scheduler.sample_cluster import generate_cluster
from scheduler.snapshot import SnapshotError, parse_snapshot
from tests.conftest import run_cli


def _host(name: str, zone: str = "az1", vcpus: int = 16, state: str = "up", ratio: float = 1.0) -> dict[str, Any]:
    return {"name": name, "vcpus": vcpus, "memory_mb": vcpus * 4096, "disk_gb": 1000, "cpu_ratio": ratio,
            "ram_ratio": 1.0, "state": state, "zone": zone}


def _vm(vm: str, host: str, vcpus: int = 2, util: float = 0.5) -> dict[str, Any]:
    return {"id": vm, "host": host, "vcpus": vcpus, "memory_mb": vcpus * 2048, "disk_gb": 20, "cpu_util": util,
            "memory_util": 0.5, "project": "dept-01"}


def test_consolidate_frees_hosts_within_zones_and_empties_down_hosts() -> None:
    snapshot = {"hosts": [_host("a1"), _host("a2"), _host("a3", state="down"), _host("b1", "az2"), _host("b2", "az2")],
                "instances": [_vm("v1", "a1"), _vm("v2", "a2"), _vm("v3", "a3"), _vm("w1", "b1"), _vm("w2", "b2")]}
    cluster = parse_snapshot(snapshot)
    result = rebalance(cluster, "consolidate")
    moves = [m.as_json() for m in result.moves]
    assert replay(cluster, moves, 0.8) == []
    assert moves[0]["instance"] == "v3" and moves[0]["from"] == "a3"  # the down host is emptied first
    assert result.before["active_hosts"] == 5 and result.after["active_hosts"] == 2  # one per zone
    assert all((m["from"][0], m["to"][0]) in (("a", "a"), ("b", "b")) for m in moves)  # nobody changes zone


def test_an_instance_moves_once_straight_to_where_it_ends() -> None:
    """Hosts are emptied smallest first: v1 leaves the small host for the medium one (the tighter fit), then
    the medium host is emptied into the big one. By hand: the end state is v1 and v2 on ``big``, and two
    moves reach it — each instance once, straight there — not three."""
    snapshot = {"hosts": [_host("small", vcpus=8), _host("medium"), _host("big", vcpus=64)],
                "instances": [_vm("v1", "small"), _vm("v2", "medium"), _vm("v3", "big")]}
    cluster = parse_snapshot(snapshot)
    moves = [m.as_json() for m in rebalance(cluster, "consolidate").moves]
    assert replay(cluster, moves, 0.8) == []
    assert sorted((m["instance"], m["from"], m["to"]) for m in moves) == [("v1", "small", "big"),
                                                                          ("v2", "medium", "big")]


def test_consolidation_moves_each_instance_at_most_once_on_a_mixed_cloud() -> None:
    from scheduler.sample_cluster import generate_mixed_cluster

    cluster = parse_snapshot(generate_mixed_cluster(60, 600, seed=3))
    result = rebalance(cluster, "consolidate")
    moves = [m.as_json() for m in result.moves]
    assert replay(cluster, moves, 0.8) == [] and moves
    assert len({m["instance"] for m in moves}) == len(moves)
    assert result.after["active_hosts"] < result.before["active_hosts"]


def test_consolidation_relieves_a_hot_host_or_names_it() -> None:
    """Issue 17 §4: no host ends above the load limit. ``hot`` runs 4 busy 4-vCPU instances on 16 cores
    (0.95 × 16 / 16 = 95% > 80%); ``cool`` is the only other host and has room for one of them (3.8 busy
    cores, 24% of its 16). By hand: one move, hot to cool, leaves both at most 80%."""
    snapshot = {"hosts": [_host("hot"), _host("cool")],
                "instances": [_vm(f"b{k}", "hot", vcpus=4, util=0.95) for k in range(4)] + [_vm("q", "cool")]}
    cluster = parse_snapshot(snapshot)
    result = rebalance(cluster, "consolidate")
    moves = [m.as_json() for m in result.moves]
    assert replay(cluster, moves, 0.8) == [] and result.after["max_host_cpu"] <= 0.8
    assert [(m["from"], m["to"]) for m in moves] == [("hot", "cool")]
    alone = {"hosts": [_host("hot")], "instances": [_vm(f"b{k}", "hot", vcpus=4, util=0.95) for k in range(4)]}
    result = rebalance(parse_snapshot(alone), "consolidate")
    assert result.moves == [] and any(r.startswith("hot stays at 95% CPU load") for r in result.reasons)


@pytest.mark.parametrize("resource", ["memory_mb", "disk_gb"])
def test_ram_and_disk_each_block_a_move_alone(resource: str) -> None:
    """Two idle 16-core hosts (64 GB RAM, 1,000 GB disk) each hold one 2-vCPU instance that takes 60% of one
    resource: vCPUs and load leave room, but by hand neither instance fits beside the other, so nothing
    moves, whatever the goal."""
    size = {"memory_mb": 0.6 * 16 * 4096, "disk_gb": 600.0}[resource]
    vms = [_vm("v1", "a1", util=0.05), _vm("v2", "a2", util=0.05)]
    for vm in vms:
        vm[resource] = size
    cluster = parse_snapshot({"hosts": [_host("a1"), _host("a2")], "instances": vms})
    for goal in ("consolidate", "balance"):
        assert rebalance(cluster, goal).moves == [], goal


def test_max_load_and_capacity_block_moves_and_say_why() -> None:
    busy = {"hosts": [_host("a1", vcpus=4), _host("a2", vcpus=4)],
            "instances": [_vm("v1", "a1", vcpus=4, util=0.7), _vm("v2", "a2", vcpus=4, util=0.7)]}
    result = rebalance(parse_snapshot(busy), "consolidate")
    assert result.moves == [] and result.reasons  # either move would put a host at 140% CPU load
    assert "no host can be emptied" in result.reasons[0]
    result = rebalance(parse_snapshot(busy), "balance")
    assert result.moves == [] and result.after == result.before


def test_balance_cools_the_hot_host_with_few_moves() -> None:
    snapshot = {"hosts": [_host("hot"), _host("cold1"), _host("cold2")],
                "instances": [_vm(f"v{k}", "hot", util=0.95) for k in range(7)] + [_vm("c1", "cold1", util=0.1)]}
    cluster = parse_snapshot(snapshot)
    result = rebalance(cluster, "balance")
    assert replay(cluster, [m.as_json() for m in result.moves], 0.8) == []
    assert result.before["max_host_cpu"] > 0.8 >= result.after["max_host_cpu"]
    assert result.after["stddev_host_cpu"] < result.before["stddev_host_cpu"]
    assert len(result.moves) <= 5


def test_storage_evens_pools() -> None:
    snapshot = {"hosts": [_host("a1")], "instances": [],
                "pools": [{"name": "ssd", "capacity_gb": 1000}, {"name": "hdd", "capacity_gb": 1000}],
                "volumes": [{"id": f"vol{k}", "pool": "ssd", "size_gb": 100} for k in range(8)]}
    result = rebalance(parse_snapshot(snapshot), "storage")
    assert [m.kind for m in result.moves] == ["volume_migrate"] * 4
    assert (result.before["max_pool_use"], result.after["max_pool_use"]) == (0.8, 0.4)


def test_max_moves_is_spent_where_it_frees_most() -> None:
    snapshot = {"hosts": [_host("big"), _host("small"), _host("target", vcpus=64)],
                "instances": [_vm(f"b{k}", "big", util=0.1) for k in range(4)] + [_vm("s0", "small", util=0.1)]
                + [_vm("t0", "target", util=0.1)]}
    result = rebalance(parse_snapshot(snapshot), "consolidate", max_moves=1)
    assert [m.item for m in result.moves] == ["s0"] and result.after["active_hosts"] == 2


def test_instances_that_are_not_running_stay_and_keep_their_room() -> None:
    """Nova refuses to live-migrate an instance that is not running (HTTP 409: in error, shut off, or
    ``active`` with no power state because its hypervisor lost it): the planner leaves it, so its host
    is not emptied, and the replay rejects a move of it."""
    snapshot = {"hosts": [_host("a1"), _host("a2"), _host("a3", state="down")],
                "instances": [_vm("v1", "a1", util=0.1), _vm("v2", "a2", util=0.1) | {"power_state": "no_state"},
                              _vm("v3", "a3", util=0.1) | {"status": "ERROR"}, _vm("v4", "a3", util=0.1)]}
    cluster = parse_snapshot(snapshot)
    consolidated = rebalance(cluster, "consolidate")
    moved = [m.as_json() for m in consolidated.moves]
    assert replay(cluster, moved, 0.8) == []
    where = {vm["id"]: vm["host"] for vm in snapshot["instances"]}
    for move in moved:
        where[move["instance"]] = move["to"]
    # v2 cannot leave a2, so a1 is the host emptied; v3 stays on the down host, which is said
    assert where == {"v1": "a2", "v2": "a2", "v3": "a3", "v4": "a2"}
    assert any("v3 on a3 (not up) is not running" in r for r in consolidated.reasons)
    forced = [{"kind": "live_migrate", "instance": "v2", "from": "a2", "to": "a1"}]
    assert replay(cluster, forced, 0.8) == ["move 0: v2 is not running, so it cannot be live-migrated"]
    hot = {"hosts": [_host("hot"), _host("cold")],
           "instances": [_vm(f"p{k}", "hot", util=0.95) | {"status": "shutoff"} for k in range(7)]}
    assert rebalance(parse_snapshot(hot), "balance").moves == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_clusters_replay_clean(seed: int) -> None:
    cluster = parse_snapshot(generate_cluster(60, 600, seed=seed))
    for goal in ("consolidate", "balance", "storage"):
        result = rebalance(cluster, goal, max_load=0.8)
        assert replay(cluster, [m.as_json() for m in result.moves], 0.8) == [], goal
    consolidated = rebalance(cluster, "consolidate")
    assert consolidated.after["active_hosts"] < consolidated.before["active_hosts"]


def test_bad_snapshots_name_every_item() -> None:
    bad = {"hosts": [_host("a1"), _host("a1"), _host("a2") | {"vcpus": -4}],
           "instances": [_vm("v1", "nowhere"), _vm("v1", "a1"), {"id": "v2", "host": "a1"}],
           "pools": [{"name": "p1", "capacity_gb": 10}], "volumes": [{"id": "x", "pool": "p9", "size_gb": 1}]}
    with pytest.raises(SnapshotError) as caught:
        parse_snapshot(bad)
    problems = "\n".join(caught.value.problems)
    for expected in ("hosts[1] a1: duplicate host name", "hosts[2] a2: vcpus:", "instances[0] v1: host 'nowhere'",
                     "instances[1] v1: duplicate instance id", "instances[2] v2: vcpus: Field required",
                     "volumes[0] x: pool 'p9' is not in pools"):
        assert expected in problems
    over = {"hosts": [_host("a1", vcpus=2)], "instances": [_vm("v1", "a1", vcpus=4)]}
    with pytest.raises(SnapshotError, match="hosts a1: 4 vCPU allocated, more than its capacity 2"):
        parse_snapshot(over)


def test_cli_prints_formats_3(tmp_path: Path, db_url: str) -> None:
    snapshot = tmp_path / "snap.json"
    snapshot.write_text(json.dumps(generate_cluster(30, 300, seed=5)), encoding="utf-8")
    result = run_cli("schedule", "rebalance", "--snapshot", str(snapshot), "--goal", "consolidate", "--json",
                     db_url=db_url)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["goal"] == "consolidate" and document["moves"] and document["solve_seconds"] >= 0
    assert set(document["before"]) == set(document["after"]) == {"active_hosts", "max_host_cpu", "stddev_host_cpu"}
    assert document["moves"][0]["kind"] == "live_migrate" and {"instance", "from", "to"} <= set(document["moves"][0])
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"hosts": [_host("a1")], "instances": [_vm("v1", "zz")]}), encoding="utf-8")
    bad = run_cli("schedule", "rebalance", "--snapshot", str(broken), "--goal", "balance", db_url=db_url)
    assert bad.returncode == 2 and "instances[0] v1: host 'zz' is not in hosts" in bad.stderr
    missing = run_cli("schedule", "rebalance", "--platform", "nope", "--goal", "balance", db_url=db_url)
    assert missing.returncode == 2 and "no cloud platform 'nope'" in missing.stderr
