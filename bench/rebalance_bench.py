"""Rebalancer benchmark: speed, memory and quality against a lower bound.

    python -m bench.rebalance_bench [--sizes 10/50,200/2000,1000/10000,5000/100000] [--shapes uniform,mixed]
                                    [--max-load 0.8] [--max-moves N] [--reference-seconds 30]

Each size (hosts/instances) and shape is a generated cluster (``scheduler.sample_cluster``: uniform —
hot, normal and nearly empty hosts of one generation; mixed — host generations, overcommit ratios and
CPU- and memory-heavy instances mixed in each zone, one instance in ten busy), solved in its own process
for each goal. Every move list is replayed independently (capacity, zones, state, max load at every step).

Quality:
- consolidate — active hosts after, against ``bench.consolidation_reference``: the cover bound (whole
  hosts covering the zone's four demands; a lower bound at every size, at least the LP's), and where a
  zone has at most 70 hosts the assignment MIP solved with HiGHS under ``--reference-seconds`` per zone
  (its best solution and proven bound), else where it has at most 400 the best solution of the chunked
  MIPs. Moves are set against the instances on the hosts it emptied (each must
  move at least once). ``--max-moves N`` also reports the hosts freed per move.
- balance — highest host CPU load (target ≤ max load) and the largest within-zone standard
  deviation of host CPU load (target ≤ 0.05; zones cannot trade instances, so that is what the load
  allows), with the overall standard deviation for reference.
- storage — the pools' highest use and its standard deviation.
Targets for time: 1,000/10,000 in ≤ 5 s and 5,000/100,000 in ≤ 60 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

GOALS = ("consolidate", "balance", "storage")


def _within_zone_stddev(cluster: Any, host_of: np.ndarray) -> float:
    busy = np.bincount(host_of, cluster.inst_load, len(cluster.host_names)) / cluster.host_vcpus
    return max(float(busy[(cluster.host_zone == z) & cluster.host_up].std()) for z in range(len(cluster.zones)))


def _reference(cluster: Any, max_load: float, seconds: float) -> dict[str, Any]:
    """The LP bound, and the exact MIP's answer or the chunked MIPs' where the zones are small enough."""
    from bench.consolidation_reference import cover_bound, decomposed, exact

    out: dict[str, Any] = {"bound": cover_bound(cluster, max_load)}
    largest = max(int((cluster.host_zone == z).sum()) for z in range(len(cluster.zones)))
    if largest <= 70:
        zones = exact(cluster, max_load, seconds)
        out["exact"] = sum(z.hosts for z in zones)
        out["bound"] = max(out["bound"], sum(z.bound for z in zones))
        out["proven"] = all(z.hosts == z.bound for z in zones)
    elif largest <= 400:
        out["best"] = decomposed(cluster, max_load, time_limit=seconds / 3)
    return out


def run_one(hosts: int, instances: int, goal: str, max_load: float, shape: str = "uniform",
            max_moves: int | None = None, reference_seconds: float = 30.0) -> dict[str, Any]:
    """Generate, solve and check one case in this process; the figures as a dict."""
    from scheduler.rebalance import rebalance, replay
    from scheduler.sample_cluster import generate
    from scheduler.snapshot import parse_snapshot

    cluster = parse_snapshot(generate(shape, hosts, instances, seed=hosts))
    started = time.perf_counter()
    result = rebalance(cluster, goal, max_load=max_load, max_moves=max_moves)
    seconds = time.perf_counter() - started
    moves = [m.as_json() for m in result.moves]
    violations = replay(cluster, moves, max_load)
    out: dict[str, Any] = {"hosts": hosts, "instances": len(cluster.instance_ids), "goal": goal, "seconds": seconds,
                           "moves": len(moves), "violations": len(violations), "before": result.before,
                           "after": result.after, "shape": shape,
                           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if goal == "consolidate":
        index = {m: k for k, m in enumerate(cluster.host_names)}
        ids = {m: k for k, m in enumerate(cluster.instance_ids)}
        host_of = cluster.inst_host.copy()
        for move in moves:
            host_of[ids[move["instance"]]] = index[move["to"]]
        emptied = np.setdiff1d(np.unique(cluster.inst_host), np.unique(host_of))
        out["on_emptied"] = int(np.isin(cluster.inst_host, emptied).sum())
        load = np.bincount(host_of, cluster.inst_load, len(cluster.host_names)) / cluster.host_vcpus
        out["hot_after"] = int((load > max_load + 1e-9).sum())
        out |= _reference(cluster, max_load, reference_seconds)
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
    parser.add_argument("--shapes", default="uniform,mixed")
    parser.add_argument("--goals", default=",".join(GOALS))
    parser.add_argument("--max-load", type=float, default=0.8)
    parser.add_argument("--max-moves", type=int, default=None)
    parser.add_argument("--reference-seconds", type=float, default=30.0, help="HiGHS time per zone (exact MIP)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # hosts/instances/goal/shape, run in a child process
    args = parser.parse_args()
    if args.one:
        hosts, instances, goal, shape = args.one.split("/")
        print(json.dumps(run_one(int(hosts), int(instances), goal, args.max_load, shape, args.max_moves,
                                 args.reference_seconds)))
        return
    title = (f"rebalancer (max load {args.max_load:g}" + (f", max moves {args.max_moves}" if args.max_moves else "")
             + "; each case in its own process)")
    table = Table(title=title)
    for column in ("hosts/instances", "shape", "goal", "seconds", "peak RSS MB", "moves", "replay", "result",
                   "quality"):
        table.add_column(column, justify="left" if column in ("shape", "goal", "result", "quality") else "right")
    for size in args.sizes.split(","):
        for shape in args.shapes.split(","):
            for goal in args.goals.split(","):
                table.add_row(*_row(size, shape, goal, args))
    Console(width=220).print(table)


def _row(size: str, shape: str, goal: str, args: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-m", "bench.rebalance_bench", "--one", f"{size}/{goal}/{shape}", "--max-load",
               str(args.max_load), "--reference-seconds", str(args.reference_seconds)]
    if args.max_moves:
        command += ["--max-moves", str(args.max_moves)]
    r = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    before, after = r["before"], r["after"]
    if goal == "consolidate":
        kept = after["active_hosts"]
        best = min(x for x in (r.get("exact"), r.get("best"), kept) if x is not None)
        result = (f"active hosts {before['active_hosts']} → {kept}; {r['moves']} moves for "
                  f"{r['on_emptied']} on emptied hosts; {r['hot_after']} above max load")
        quality = f"bound {r['bound']}: {kept / r['bound']:.3f}×"
        if r.get("proven"):
            quality += f"; optimum {r['exact']} (MIP, proven): {kept / r['exact']:.3f}×"
        elif r.get("exact") is not None:
            quality += f"; MIP best {r['exact']} in {args.reference_seconds:g} s/zone, not proven"
        elif r.get("best") is not None:
            quality += f"; chunked MIPs {r['best']}: {kept / best:.3f}× the best known"
        freed = before["active_hosts"] - kept
        if args.max_moves and r["moves"]:
            quality += f"; {freed / r['moves']:.3f} hosts freed per move"
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
    return [f"{size} ({r['instances']})", shape, goal, f"{r['seconds']:.2f}", f"{r['rss_mb']:.0f}", str(r["moves"]),
            "ok" if not r["violations"] else f"{r['violations']} violations", result, quality]


if __name__ == "__main__":
    main()
