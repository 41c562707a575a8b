"""The generated clusters the benches and the demo use, checked against what issue 17 asks of a cloud
shaped like a government one (written there, not taken from the generator)."""

from __future__ import annotations

import numpy as np

from scheduler.sample_cluster import generate, generate_mixed_cluster
from scheduler.snapshot import parse_snapshot


def test_a_mixed_cloud_mixes_generations_overcommit_and_busy_instances_in_every_zone() -> None:
    snapshot = generate_mixed_cluster(300, 3000, seed=11)
    cluster = parse_snapshot(snapshot)  # allocations within capacity, or the parser refuses it
    hosts = snapshot["hosts"]
    for zone in {h["zone"] for h in hosts}:
        members = [h for h in hosts if h["zone"] == zone]
        assert {(h["vcpus"], h["memory_mb"] // 1024) for h in members} == {(64, 256), (96, 512), (128, 1024)}
        assert {h["cpu_ratio"] for h in members} == {1.0, 2.0, 4.0}
    instances = snapshot["instances"]
    assert 2900 <= len(instances) <= 3000
    assert min(i["vcpus"] for i in instances) == 1 and max(i["vcpus"] for i in instances) == 16
    assert min(i["memory_mb"] for i in instances) == 1024 and max(i["memory_mb"] for i in instances) == 64 * 1024
    per_vcpu = [i["memory_mb"] / 1024 / i["vcpus"] for i in instances if i["vcpus"] <= 8]
    assert 0.35 < sum(r <= 2 for r in per_vcpu) / len(per_vcpu) < 0.65  # CPU-heavy and memory-heavy halves
    busy = sum(i["cpu_util"] >= 0.85 for i in instances) / len(instances)
    assert 0.08 < busy < 0.2  # one in ten, plus the hot spots' batch jobs
    demand = np.bincount(cluster.inst_host, cluster.inst_load, len(cluster.host_names)) / cluster.host_vcpus
    assert demand.max() <= 1.0 + 1e-9 and (demand > 0.8).any()  # hot hosts, never past their cores
    assert generate_mixed_cluster(300, 3000, seed=11) == snapshot  # the same seed, the same cluster


def test_shapes_are_named() -> None:
    assert generate("uniform", 10, 50)["hosts"] and generate("mixed", 10, 50)["hosts"]
    try:
        generate("cubic", 10, 50)
    except ValueError as exc:
        assert "uniform | mixed" in str(exc)
    else:
        raise AssertionError("an unknown shape must be refused")
