"""Generated cluster snapshots (FORMATS.md §2) for the demo, tests and benchmarks.

Three zones; each host is hot (allocated ~85%, busy), normal (~55%) or nearly empty (~10%); CPU
overcommit ratios 1, 2 and 4; instance sizes from a government-cloud-like flavor mix (mostly small).
The same seed gives the same cluster.
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
