"""Rebalancer benchmark: speed, memory and quality against a lower bound.

    python -m bench.rebalance_bench [--sizes 10/50,200/2000,1000/10000,5000/100000] [--max-load 0.8]

Each size (hosts/instances) is a generated cluster (``scheduler.sample_cluster``: three zones, hot,
normal and nearly empty hosts, CPU overcommit 1, 2 and 4), solved in its own process for each goal.
Every move list is replayed independently (capacity, zones, state, max load at every step).

Quality:
- consolidate — active hosts after, against a lower bound per zone: the fewest hosts, fractional
  use allowed (an LP solved with HiGHS), whose vCPU allocation, RAM allocation, CPU load at
  ``--max-load`` and disk cover the zone's demand, rounded up per zone. Target: within 10%.
- balance — highest host CPU load (target ≤ max load) and the largest within-zone standard
  deviation of host CPU load (target ≤ 0.05; zones cannot trade instances, so that is what the load
  allows), with the overall standard deviation for reference.
- storage — the pools' highest use and its standard deviation.
Targets for time: 1,000/10,000 in ≤ 5 s and 5,000/100,000 in ≤ 60 s.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

GOALS = ("consolidate", "balance", "storage")


def lower_bound(cluster: Any, max_load: float) -> int:
    """Σ over zones of ⌈LP⌉: fewest hosts (fractional) covering the zone's vCPU, RAM, load and disk."""
    from scipy.optimize import linprog

    total = 0
    for z in range(len(cluster.zones)):
        hosts = np.flatnonzero((cluster.host_zone == z) & cluster.host_up)
        members = np.isin(cluster.inst_host, np.flatnonzero(cluster.host_zone == z))
        demand = np.array([cluster.inst_vcpus[members].sum(), cluster.inst_ram[members].sum(),
                           cluster.inst_load[members].sum(), cluster.inst_disk[members].sum()])
        if demand.sum() == 0:
            continue
        supply = np.vstack([cluster.cap_cpu[hosts], cluster.cap_ram[hosts],
                            cluster.host_vcpus[hosts] * max_load, cluster.cap_disk[hosts]])
        result = linprog(np.ones(hosts.size), A_ub=-supply, b_ub=-demand, bounds=(0, 1), method="highs")
        total += math.ceil(result.fun - 1e-9)
    return total


def _within_zone_stddev(cluster: Any, host_of: np.ndarray) -> float:
    busy = np.bincount(host_of, cluster.inst_load, len(cluster.host_names)) / cluster.host_vcpus
    return max(float(busy[(cluster.host_zone == z) & cluster.host_up].std()) for z in range(len(cluster.zones)))


def run_one(hosts: int, instances: int, goal: str, max_load: float) -> dict[str, Any]:
    """Generate, solve and check one case in this process; the figures as a dict."""
    from scheduler.rebalance import rebalance, replay
    from scheduler.sample_cluster import generate_cluster
    from scheduler.snapshot import parse_snapshot

    cluster = parse_snapshot(generate_cluster(hosts, instances, seed=hosts))
    started = time.perf_counter()
    result = rebalance(cluster, goal, max_load=max_load)
    seconds = time.perf_counter() - started
    moves = [m.as_json() for m in result.moves]
    violations = replay(cluster, moves, max_load)
    out: dict[str, Any] = {"hosts": hosts, "instances": len(cluster.instance_ids), "goal": goal, "seconds": seconds,
                           "moves": len(moves), "violations": len(violations), "before": result.before,
                           "after": result.after,
                           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if goal == "consolidate":
        out["bound"] = lower_bound(cluster, max_load)
    if goal == "balance":
        index = {m: k for k, m in enumerate(cluster.host_names)}
        host_of = cluster.inst_host.copy()
        ids = {m: k for k, m in enumerate(cluster.instance_ids)}
        for move in moves:
            host_of[ids[move["instance"]]] = index[move["to"]]
        out["zone_std_before"] = _within_zone_stddev(cluster, cluster.inst_host)
        out["zone_std_after"] = _within_zone_stddev(cluster, host_of)
        # Hosts below their zone's mean load that cannot take even the smallest instance (allocation full):
        # only trades (one instance out, another in) even them out.
        busy = np.bincount(host_of, cluster.inst_load, len(cluster.host_names)) / cluster.host_vcpus
        cpu = np.bincount(host_of, cluster.inst_vcpus, len(cluster.host_names))
        mean = np.array([busy[cluster.host_zone == z].mean() for z in range(len(cluster.zones))])
        smallest = float(cluster.inst_vcpus.min()) if cluster.inst_vcpus.size else 0.0
        out["cool_but_full"] = int(((busy < mean[cluster.host_zone] - 0.05)
                                    & (cpu + smallest > cluster.cap_cpu)).sum())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="rebalancer benchmark")
    parser.add_argument("--sizes", default="10/50,200/2000,1000/10000,5000/100000")
    parser.add_argument("--max-load", type=float, default=0.8)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # hosts/instances/goal, run in a child process
    args = parser.parse_args()
    if args.one:
        hosts, instances, goal = args.one.split("/")
        print(json.dumps(run_one(int(hosts), int(instances), goal, args.max_load)))
        return
    table = Table(title=f"rebalancer (max load {args.max_load:g}; each case in its own process)")
    for column in ("hosts/instances", "goal", "seconds", "peak RSS MB", "moves", "replay", "result", "quality"):
        table.add_column(column, justify="left" if column in ("goal", "result", "quality") else "right")
    for size in args.sizes.split(","):
        for goal in GOALS:
            child = subprocess.run([sys.executable, "-m", "bench.rebalance_bench", "--one", f"{size}/{goal}",
                                    "--max-load", str(args.max_load)], capture_output=True, text=True, check=True)
            r = json.loads(child.stdout)
            before, after = r["before"], r["after"]
            if goal == "consolidate":
                ratio = after["active_hosts"] / r["bound"] if r["bound"] else float("nan")
                result = f"active hosts {before['active_hosts']} → {after['active_hosts']}"
                quality = f"bound {r['bound']}, {ratio:.3f}× ({'ok' if ratio <= 1.10 else 'over 1.10'})"
            elif goal == "balance":
                ok = after["max_host_cpu"] <= args.max_load + 1e-9 and r["zone_std_after"] <= 0.05
                result = (f"max {before['max_host_cpu']:.2f} → {after['max_host_cpu']:.2f}, std "
                          f"{before['stddev_host_cpu']:.3f} → {after['stddev_host_cpu']:.3f}")
                quality = (f"zone std {r['zone_std_before']:.3f} → {r['zone_std_after']:.3f} ({'ok' if ok else 'miss'}"
                           + (f"; {r['cool_but_full']} cool hosts allocation-full" if r["cool_but_full"] else "")
                           + ")")
            else:
                result = f"max pool {before['max_pool_use']:.2f} → {after['max_pool_use']:.2f}"
                quality = f"pool std {before['stddev_pool_use']:.3f} → {after['stddev_pool_use']:.3f}"
            table.add_row(f"{size} ({r['instances']})", goal, f"{r['seconds']:.2f}", f"{r['rss_mb']:.0f}",
                          str(r["moves"]), "ok" if not r["violations"] else f"{r['violations']} violations",
                          result, quality)
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
