"""Reference answers for consolidation, independent of the rebalancer (bench only, never the product path).

For each zone, the fewest hosts that can carry the zone's instances, as the assignment MIP: a binary
``x[i, h]`` puts instance ``i`` on host ``h`` of its zone, a binary ``y[h]`` keeps host ``h``;

    minimise Σ y[h]
    Σ_h x[i, h] = 1                                   every instance placed once
    Σ_i a_r[i] x[i, h] ≤ C_r[h] y[h]                  r = vCPU allocation, RAM allocation, disk,
                                                      CPU load (busy cores ≤ max load × cores)
    x[i, h] ≤ y[h]                                    (tightens the relaxation)
    y[h] ≥ y[h'] for identical hosts h < h'           (breaks their symmetry)

solved with HiGHS (``scipy.optimize.milp``). Instances that cannot move (not running) are fixed on their
host, which is then kept. Hosts that are not up take nothing.

- ``exact``: the MIP per zone under a time limit; each zone reports its best solution and HiGHS's proven
  lower bound, so the optimum is known when they meet.
- ``lp_bound``: the relaxation that needs no assignment — the fewest hosts, fractional use allowed, whose
  four capacities cover the zone's demand, rounded up per zone. Valid at any size, loose when three
  resources are tight at once.
- ``cover_bound``: the same with whole hosts (a MIP of one binary per host): still a lower bound, at least
  the LP's.
- ``decomposed``: for zones too large for ``exact``, the zone's hosts and instances dealt into chunks of
  about ``chunk_hosts`` hosts (each chunk a fair sample of both), each chunk's MIP solved under a time
  limit: a feasible solution, so an upper reference.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from scheduler.snapshot import Cluster


@dataclass(frozen=True)
class ZoneAnswer:
    hosts: int  # in the best solution found
    bound: int  # proven: no solution keeps fewer
    seconds: float


def _demand(c: Cluster, instances: np.ndarray) -> np.ndarray:
    return np.vstack([c.inst_vcpus[instances], c.inst_ram[instances], c.inst_disk[instances],
                      c.inst_load[instances]]).astype(np.float64)


def _supply(c: Cluster, hosts: np.ndarray, max_load: float) -> np.ndarray:
    return np.vstack([c.cap_cpu[hosts], c.cap_ram[hosts], c.cap_disk[hosts], c.host_vcpus[hosts] * max_load])


def _zones(c: Cluster) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(hosts that are up, instances) of each zone that has instances."""
    for z in range(len(c.zones)):
        instances = np.flatnonzero(c.host_zone[c.inst_host] == z)
        if instances.size:
            yield np.flatnonzero((c.host_zone == z) & c.host_up), instances


def lp_bound(c: Cluster, max_load: float) -> int:
    """Σ over zones of ⌈LP⌉: fewest hosts (fractional) covering the zone's four demands."""
    total = 0
    for hosts, instances in _zones(c):
        result = linprog(np.ones(hosts.size), A_ub=-_supply(c, hosts, max_load),
                         b_ub=-_demand(c, instances).sum(axis=1), bounds=(0, 1), method="highs")
        total += math.ceil(result.fun - 1e-6)
    return total


def cover_bound(c: Cluster, max_load: float) -> int:
    """Σ over zones of the fewest whole hosts whose four capacities cover the zone's demand (a MIP with one
    binary per host): every placement keeps such a set, so no consolidation keeps fewer. At least the LP
    bound."""
    total = 0
    for hosts, instances in _zones(c):
        pinned = np.isin(hosts, c.inst_host[instances[~c.inst_movable[instances]]]).astype(np.float64)
        result = milp(np.ones(hosts.size), constraints=LinearConstraint(
            sp.csr_array(_supply(c, hosts, max_load)), _demand(c, instances).sum(axis=1), np.inf),
            integrality=np.ones(hosts.size), bounds=Bounds(pinned, np.ones(hosts.size)),
            options={"time_limit": 60.0, "disp": False})
        total += math.ceil((result.fun if result.status == 0 else result.mip_dual_bound) - 1e-6)
    return total


def solve_assignment(c: Cluster, hosts: np.ndarray, instances: np.ndarray, max_load: float,
                     time_limit: float) -> ZoneAnswer:
    """The assignment MIP of ``instances`` onto ``hosts`` (see the module docstring)."""
    import time

    started = time.perf_counter()
    n_h, n_i = hosts.size, instances.size
    if n_i == 0:
        return ZoneAnswer(0, 0, 0.0)
    demand, supply = _demand(c, instances), _supply(c, hosts, max_load)
    n_x = n_i * n_h  # x[i, h] at i * n_h + h, then y[h]
    rows, cols, vals, lower, upper = [], [], [], [], []
    row = 0
    for i in range(n_i):  # each instance once
        rows += [row] * n_h
        cols += list(range(i * n_h, (i + 1) * n_h))
        vals += [1.0] * n_h
        lower.append(1.0)
        upper.append(1.0)
        row += 1
    for r in range(4):  # capacity of each kept host
        for h in range(n_h):
            rows += [row] * (n_i + 1)
            cols += [i * n_h + h for i in range(n_i)] + [n_x + h]
            vals += [*list(demand[r]), -float(supply[r, h])]
            lower.append(-np.inf)
            upper.append(0.0)
            row += 1
    for i in range(n_i):  # x ≤ y
        for h in range(n_h):
            rows += [row, row]
            cols += [i * n_h + h, n_x + h]
            vals += [1.0, -1.0]
            lower.append(-np.inf)
            upper.append(0.0)
            row += 1
    kinds: dict[tuple[float, ...], list[int]] = {}
    for h in range(n_h):
        kinds.setdefault(tuple(supply[:, h]), []).append(h)
    for same in kinds.values():  # identical hosts are kept in order
        for a, b in itertools.pairwise(same):
            rows += [row, row]
            cols += [n_x + a, n_x + b]
            vals += [1.0, -1.0]
            lower.append(0.0)
            upper.append(np.inf)
            row += 1
    matrix = sp.csr_array((vals, (rows, cols)), shape=(row, n_x + n_h))
    low, high = np.zeros(n_x + n_h), np.ones(n_x + n_h)
    position = {int(h): k for k, h in enumerate(hosts)}
    for k, i in enumerate(instances):  # an instance that cannot move stays where it is
        if not c.inst_movable[i] and int(c.inst_host[i]) in position:
            low[k * n_h + position[int(c.inst_host[i])]] = 1.0
    for k, h in enumerate(hosts):
        if not c.host_up[h]:
            high[n_x + k] = 0.0
    cost = np.concatenate([np.zeros(n_x), np.ones(n_h)])
    result = milp(cost, constraints=LinearConstraint(matrix, lower, upper), integrality=np.ones(n_x + n_h),
                  bounds=Bounds(low, high), options={"time_limit": time_limit, "disp": False})
    seconds = time.perf_counter() - started
    bound = getattr(result, "mip_dual_bound", None)
    if result.x is None:  # nothing feasible found in time: every host, and only the bound is known
        return ZoneAnswer(n_h, math.ceil((bound or 0.0) - 1e-6), seconds)
    found = round(result.x[n_x:].sum())
    proven = found if result.status == 0 else math.ceil((bound if bound is not None else 0) - 1e-6)
    return ZoneAnswer(found, proven, seconds)


def exact(c: Cluster, max_load: float, time_limit: float = 60.0) -> list[ZoneAnswer]:
    """The assignment MIP of every zone (size it: ≤ 70 hosts and 700 instances a zone)."""
    out = []
    for z in range(len(c.zones)):
        hosts = np.flatnonzero(c.host_zone == z)
        instances = np.flatnonzero(c.host_zone[c.inst_host] == z)
        out.append(solve_assignment(c, hosts, instances, max_load, time_limit))
    return out


def decomposed(c: Cluster, max_load: float, chunk_hosts: int = 60, time_limit: float = 20.0,
               seed: int = 0) -> int:
    """Hosts kept by the chunked MIPs (see the module docstring): a feasible, so upper, reference."""
    rng = np.random.default_rng(seed)
    total = 0
    for z in range(len(c.zones)):
        hosts = rng.permutation(np.flatnonzero(c.host_zone == z))
        instances = np.flatnonzero(c.host_zone[c.inst_host] == z)
        chunks = max(1, math.ceil(hosts.size / chunk_hosts))
        # Deal instances largest first, round-robin, so every chunk gets a fair share of each shape; an
        # instance that cannot move goes with its host's chunk.
        order = instances[np.argsort(-(c.inst_vcpus[instances] + c.inst_ram[instances] / 4096))]
        chunk_of_host = {int(h): k % chunks for k, h in enumerate(hosts)}
        dealt: list[list[int]] = [[] for _ in range(chunks)]
        k = 0
        for i in order:
            if not c.inst_movable[i]:
                dealt[chunk_of_host[int(c.inst_host[i])]].append(int(i))
            else:
                dealt[k % chunks].append(int(i))
                k += 1
        for part in range(chunks):
            chunk = np.array([h for h in hosts if chunk_of_host[int(h)] == part])
            answer = solve_assignment(c, chunk, np.array(dealt[part], dtype=np.int64), max_load, time_limit)
            total += answer.hosts
    return total
