"""Generated cluster snapshots (FORMATS.md §2) for the demo, tests and benchmarks. The same seed gives
the same cluster.

``generate_cluster`` (uniform): three zones; each host is hot (allocated ~85%, busy), normal (~55%) or
nearly empty (~10%); CPU overcommit ratios 1, 2 and 4; instance sizes from a government-cloud-like
flavor mix (mostly small).

``generate_mixed_cluster`` (mixed, shaped like a government cloud grown over several purchases): each
zone mixes host generations (64 cores / 256 GB, 96 / 512 GB, 128 / 1 TB) and overcommit ratios (1, 2,
4); instances run from 1 vCPU / 1 GB to 16 vCPU / 64 GB, half CPU-heavy (1–2 GB per vCPU) and half
memory-heavy (4 GB per vCPU); one in ten is busy (CPU 0.85–0.98). Nova placed them as its spreading
weigher does, on allocation alone, so some hosts run above the load limit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FLAVORS = [(1, 2048), (2, 4096), (4, 8192), (8, 16384), (16, 32768)]
FLAVOR_WEIGHTS = [0.25, 0.35, 0.25, 0.12, 0.03]
KINDS = {"hot": (0.85, 0.75), "normal": (0.55, 0.35), "empty": (0.10, 0.15)}  # fill, mean cpu_util


def generate_cluster(hosts: int, instances: int, seed: int = 1, zones: int = 3) -> dict[str, Any]:
    """A snapshot with ``hosts`` hosts and about ``instances`` instances (fewer only if the hosts are full)."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(list(KINDS), size=hosts, p=[0.2, 0.6, 0.2])
    ratios = rng.choice([1.0, 2.0, 4.0], size=hosts)
    host_list: list[dict[str, Any]] = []
    for h in range(hosts):
        vcpus = int(rng.choice([32, 48, 64]))
        host_list.append({"name": f"cn-{h:05d}", "vcpus": vcpus, "memory_mb": vcpus * 8192, "disk_gb": 4000,
                          "cpu_ratio": float(ratios[h]), "ram_ratio": 1.0, "state": "up", "zone": f"az{h % zones + 1}"})
    # Instances go to hosts in proportion to each host's wanted fill.
    fills = np.array([KINDS[k][0] for k in kinds])
    capacity = np.array([h["memory_mb"] for h in host_list], dtype=float)
    share = fills * capacity
    wanted = np.floor(share / share.sum() * instances).astype(int)
    wanted[: instances - wanted.sum()] += 1
    out: list[dict[str, Any]] = []
    for h, host in enumerate(host_list):
        cpu_cap, ram_cap = host["vcpus"] * host["cpu_ratio"], host["memory_mb"] * fills[h]
        cpu_used = ram_used = busy = 0.0
        mean_util = KINDS[kinds[h]][1]
        for _ in range(int(wanted[h])):
            vcpus, ram = FLAVORS[int(rng.choice(len(FLAVORS), p=FLAVOR_WEIGHTS))]
            util = float(np.clip(rng.normal(mean_util, 0.12), 0.01, 1.0))
            if cpu_used + vcpus > cpu_cap or ram_used + ram > ram_cap or busy + vcpus * util > host["vcpus"]:
                continue
            cpu_used, ram_used, busy = cpu_used + vcpus, ram_used + ram, busy + vcpus * util
            out.append({"id": f"vm-{len(out):06d}", "host": host["name"], "vcpus": vcpus, "memory_mb": ram,
                        "disk_gb": 40 if vcpus <= 2 else 80, "cpu_util": round(util, 3),
                        "memory_util": round(float(rng.uniform(0.2, 0.9)), 3),
                        "project": f"dept-{int(rng.integers(1, 60)):02d}"})
    volumes: list[dict[str, Any]] = []
    for k, instance in enumerate(out[: max(1, len(out) // 2)]):
        pool = "ceph-ssd" if k % 3 else "ceph-nvme"  # the fast pools fill up first, as in real clouds
        volumes.append({"id": f"vol-{k:06d}", "pool": pool, "size_gb": float(rng.choice([50, 100, 200, 500])),
                        "instance": instance["id"]})
    used = {name: sum(v["size_gb"] for v in volumes if v["pool"] == name) for name in ("ceph-ssd", "ceph-nvme")}
    total = sum(used.values())
    pools = [{"name": "ceph-ssd", "capacity_gb": round(used["ceph-ssd"] / 0.9), "backend": "ceph"},
             {"name": "ceph-nvme", "capacity_gb": round(used["ceph-nvme"] / 0.85), "backend": "ceph"},
             {"name": "ceph-hdd", "capacity_gb": round(total * 1.5), "backend": "ceph"}]
    return {"hosts": host_list, "instances": out, "pools": pools, "volumes": volumes}


GENERATIONS = [(64, 256 * 1024, 4000.0), (96, 512 * 1024, 8000.0), (128, 1024 * 1024, 8000.0)]  # cores, MB, disk GB
MIXED_VCPUS, MIXED_VCPU_WEIGHTS = [1, 2, 4, 8, 16], [0.2, 0.3, 0.25, 0.17, 0.08]


def generate_mixed_cluster(hosts: int, instances: int, seed: int = 1, zones: int = 3,
                           busy_share: float = 0.1) -> dict[str, Any]:
    """A mixed snapshot with ``hosts`` hosts and about ``instances`` instances (see the module docstring);
    every host's allocation fits its capacity, and no host's CPU demand passes its physical cores."""
    rng = np.random.default_rng(seed)
    generation = rng.choice(len(GENERATIONS), size=hosts, p=[0.3, 0.4, 0.3])
    ratios = rng.choice([1.0, 2.0, 4.0], size=hosts, p=[0.3, 0.4, 0.3])
    host_list = [{"name": f"cn-{h:05d}", "vcpus": GENERATIONS[g][0], "memory_mb": GENERATIONS[g][1],
                  "disk_gb": GENERATIONS[g][2], "cpu_ratio": float(ratios[h]), "ram_ratio": 1.0, "state": "up",
                  "zone": f"az{h % zones + 1}"} for h, g in enumerate(generation)]
    cap = np.array([[h["vcpus"] * h["cpu_ratio"], h["memory_mb"], h["disk_gb"], h["vcpus"]] for h in host_list])
    used = np.zeros_like(cap)
    # Some hosts were filled early and some late: Nova's spreading weigher never evens them out.
    appetite = rng.uniform(0.3, 1.0, size=hosts)
    out: list[dict[str, Any]] = []
    for _ in range(instances):
        vcpus = int(rng.choice(MIXED_VCPUS, p=MIXED_VCPU_WEIGHTS))
        per_vcpu = int(rng.choice([1, 2])) if rng.random() < 0.5 else 4
        memory_mb = min(vcpus * per_vcpu, 64) * 1024
        busy = rng.random() < busy_share
        util = float(rng.uniform(0.85, 0.98)) if busy else float(np.clip(rng.normal(0.22, 0.12), 0.01, 0.7))
        need = np.array([vcpus, memory_mb, 40.0 if vcpus <= 2 else 80.0, vcpus * util])
        fits = np.flatnonzero(((used + need) <= cap).all(axis=1))
        if fits.size == 0:
            continue
        weight = appetite[fits] * (1 - used[fits, 1] / cap[fits, 1]) + 1e-9
        h = int(rng.choice(fits, p=weight / weight.sum()))
        used[h] += need
        out.append({"id": f"vm-{len(out):06d}", "host": host_list[h]["name"], "vcpus": vcpus, "memory_mb": memory_mb,
                    "disk_gb": need[2], "cpu_util": round(util, 3),
                    "memory_util": round(float(rng.uniform(0.2, 0.9)), 3),
                    "project": f"dept-{int(rng.integers(1, 60)):02d}"})
    _hot_spots(out, host_list, rng)
    volumes = [{"id": f"vol-{k:06d}", "pool": "ceph-ssd" if k % 3 else "ceph-nvme",
                "size_gb": float(rng.choice([50, 100, 200, 500])), "instance": instance["id"]}
               for k, instance in enumerate(out[: max(1, len(out) // 2)])]
    in_pool = {name: sum(v["size_gb"] for v in volumes if v["pool"] == name) for name in ("ceph-ssd", "ceph-nvme")}
    pools = [{"name": "ceph-ssd", "capacity_gb": round(in_pool["ceph-ssd"] / 0.9), "backend": "ceph"},
             {"name": "ceph-nvme", "capacity_gb": round(in_pool["ceph-nvme"] / 0.85), "backend": "ceph"},
             {"name": "ceph-hdd", "capacity_gb": round(sum(in_pool.values()) * 1.5), "backend": "ceph"}]
    return {"hosts": host_list, "instances": out, "pools": pools, "volumes": volumes}


def _hot_spots(instances: list[dict[str, Any]], hosts: list[dict[str, Any]], rng: np.random.Generator,
               share: float = 0.03) -> None:
    """Turn about ``share`` of the hosts hot, among the most allocated per core: instances on them get busy
    (a department's batch jobs landing together) until the host's CPU demand passes 85% of its cores, never
    past 100%."""
    by_host: dict[str, list[dict[str, Any]]] = {}
    for instance in instances:
        by_host.setdefault(instance["host"], []).append(instance)
    allocated = np.array([sum(i["vcpus"] for i in by_host.get(h["name"], [])) / h["vcpus"] for h in hosts])
    crowded = np.argsort(-allocated)[: max(1, 4 * round(len(hosts) * share))]  # the most allocated per core
    for h in rng.choice(crowded, size=min(crowded.size, max(1, round(len(hosts) * share))), replace=False):
        host = hosts[int(h)]
        on = by_host.get(host["name"], [])
        demand = sum(i["vcpus"] * i["cpu_util"] for i in on)
        for instance in sorted(on, key=lambda i: -i["vcpus"]):
            if demand > 0.85 * host["vcpus"]:
                break
            util = float(rng.uniform(0.85, 0.98))
            extra = instance["vcpus"] * (util - instance["cpu_util"])
            if extra > 0 and demand + extra <= host["vcpus"]:
                instance["cpu_util"], demand = round(util, 3), demand + extra


def generate(shape: str, hosts: int, instances: int, seed: int = 1) -> dict[str, Any]:
    """``generate_cluster`` (shape ``uniform``) or ``generate_mixed_cluster`` (``mixed``)."""
    if shape == "mixed":
        return generate_mixed_cluster(hosts, instances, seed)
    if shape == "uniform":
        return generate_cluster(hosts, instances, seed)
    raise ValueError(f"unknown cluster shape {shape!r}: uniform | mixed")
