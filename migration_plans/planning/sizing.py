"""Right-sizing a system to a platform from measured use (DOMAIN.md).

Demand is summed over the system's servers: vCPUs = Σ p95(CPU) × cores × comfort factor, memory =
Σ p95(memory) × GB × comfort factor, each server over its own latest ``sizing_days`` of data. A
server without samples counts with its whole allocation, and the target says so. Disk is the used
storage × headroom (allocated storage where usage is unknown).

- **OpenStack (rehost)**: the target is the cheapest combination of the platform's flavors, by
  monthly price, whose vCPUs and memory cover the demand, with at most ``MAX_INSTANCES`` instances;
  among equally cheap ones, the fewest instances. Found exactly: a table of every demand's cheapest
  cover, built once per catalogue of whole sizes by dynamic programming over the instance count, else
  by branch and bound with the LP relaxation's dual as the bound.
- **Kubernetes (replatform)**: a Deployment's requests, not flavors: one replica per source server
  (more when a replica would exceed the largest pod the platform offers), each requesting the
  demand's share rounded up to 0.1 CPU and 0.25 GiB.

Prices: a flavor's catalogue price; otherwise the platform's unit prices per vCPU, GB of memory and
GB of storage per month; otherwise DOMAIN.md's commercial proxies, and the target is marked
``price_basis = "default"``. Every target records its demand, its allocation and the waste.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from inventory.models.enums import PlatformKind
from migration_plans.planning.model import Flavor, InstanceGroup, Platform, SystemFacts, Target

CPU_PRICE_MONTH = 46.0  # CNY per vCPU-month (DOMAIN.md commercial proxy)
RAM_PRICE_MONTH = 17.0  # CNY per GB RAM-month
DISK_PRICE_MONTH = 0.5  # CNY per GB storage-month
MAX_INSTANCES = 8
MAX_REPLICAS = 64
CPU_STEP = 0.1  # Kubernetes requests are rounded up to these steps
MEMORY_STEP_GB = 0.25
EPS = 1e-9


@dataclass(frozen=True)
class Demand:
    vcpus: float
    memory_gb: float
    disk_gb: float
    sized_from: str  # samples | partial | allocated
    servers: int = 1


@dataclass(frozen=True)
class Prices:
    """Monthly unit prices (CNY) of a platform and where they come from."""

    vcpu: float
    memory_gb: float
    storage_gb: float
    basis: str  # "data": the platform's own; "default": DOMAIN.md's proxies


def demand(system: SystemFacts, comfort: float, disk_headroom: float) -> Demand:
    """What the system needs on the cloud, from its servers' p95 use (or allocation)."""
    vcpus = memory = disk = 0.0
    measured = 0
    for server in system.servers:
        if server.cpu_p95 is not None and server.memory_p95 is not None:
            measured += 1
            vcpus += server.cpu_p95 * server.cpu_cores * comfort
            memory += server.memory_p95 * server.memory_gb * comfort
        else:
            vcpus += server.cpu_cores
            memory += server.memory_gb
        if server.disk_used_gb is not None:
            disk += server.disk_used_gb * disk_headroom
        else:
            disk += server.storage_gb or 0.0
    sized_from = "samples" if measured == len(system.servers) else "partial" if measured else "allocated"
    return Demand(max(vcpus, 0.1), max(memory, 0.1), disk, sized_from, max(1, len(system.servers)))


def unit_prices(platform: Platform) -> Prices:
    """The platform's own unit prices where all three are known, else DOMAIN.md's proxies (default)."""
    own = (platform.vcpu_monthly_cny, platform.memory_gb_monthly_cny, platform.storage_gb_monthly_cny)
    if all(p is not None for p in own):
        return Prices(*own, basis="data")  # type: ignore[arg-type]
    return Prices(CPU_PRICE_MONTH, RAM_PRICE_MONTH, DISK_PRICE_MONTH, basis="default")


def flavor_price(flavor: Flavor, prices: Prices) -> tuple[float, str]:
    """Monthly price of a flavor and its basis: the catalogue's, else from the unit prices."""
    if flavor.monthly_cny is not None:
        return flavor.monthly_cny, "data"
    disk = (flavor.disk_gb or 0.0) * prices.storage_gb
    return flavor.vcpus * prices.vcpu + flavor.memory_gb * prices.memory_gb + disk, prices.basis


def fit(need: Demand, platform: Platform) -> Target | None:
    """The cheapest target on ``platform`` covering ``need``; None when nothing can."""
    if platform.kind == PlatformKind.KUBERNETES:
        return deployment(need, platform)
    return flavors_cover(need, platform)


def flavors_cover(need: Demand, platform: Platform) -> Target | None:
    """The cheapest combination of ``platform``'s flavors (≤ ``MAX_INSTANCES``) covering vCPU and memory."""
    prices = unit_prices(platform)
    usable = [f for f in platform.flavors if f.vcpus > 0 and f.memory_gb > 0]
    if not usable:
        return None
    priced = [(f, *flavor_price(f, prices)) for f in usable]
    options = tuple((float(f.vcpus), float(f.memory_gb), price) for f, price, _ in priced)
    whole = all(float(v).is_integer() and float(m).is_integer() for v, m, _ in options)
    need_v = math.ceil(need.vcpus - EPS) if whole else need.vcpus
    need_m = math.ceil(need.memory_gb - EPS) if whole else need.memory_gb
    found = cheapest_cover(options, float(need_v), float(need_m), MAX_INSTANCES)
    if found is None:
        return None
    _, counts = found
    groups = tuple(InstanceGroup(f.name, float(f.vcpus), float(f.memory_gb), n, round(price, 2))
                   for (f, price, _), n in zip(priced, counts, strict=True) if n)
    groups = tuple(sorted(groups, key=lambda g: (-g.vcpus, -g.memory_gb, g.flavor)))
    flavor_disk = sum((f.disk_gb or 0.0) * n for (f, _, _), n in zip(priced, counts, strict=True))
    extra_disk = max(0.0, need.disk_gb - flavor_disk) * prices.storage_gb
    basis = "default" if any(b == "default" for (_, _, b), n in zip(priced, counts, strict=True) if n) or (
        extra_disk and prices.basis == "default") else "data"
    monthly = sum(g.monthly_cny * g.count for g in groups) + extra_disk
    return Target(platform.name, "openstack", groups, round(need.disk_gb, 1), round(monthly, 2),
                  round(need.vcpus, 2), round(need.memory_gb, 2), basis)


def deployment(need: Demand, platform: Platform) -> Target | None:
    """A Deployment's requests covering ``need``: replicas × (CPU, memory) per replica."""
    prices = unit_prices(platform)
    largest = max(platform.flavors, key=lambda f: (f.vcpus, f.memory_gb), default=None)
    replicas = need.servers
    while True:
        cpu = max(CPU_STEP, math.ceil(need.vcpus / replicas / CPU_STEP - EPS) * CPU_STEP)
        memory = max(MEMORY_STEP_GB, math.ceil(need.memory_gb / replicas / MEMORY_STEP_GB - EPS) * MEMORY_STEP_GB)
        if largest is None or (cpu <= largest.vcpus + EPS and memory <= largest.memory_gb + EPS):
            break
        replicas += 1
        if replicas > MAX_REPLICAS:
            return None
    cpu, memory = round(cpu, 1), round(memory, 2)
    per_replica = cpu * prices.vcpu + memory * prices.memory_gb
    label = f"{round(cpu * 1000)}m/{round(memory * 1024)}Mi"
    monthly = per_replica * replicas + need.disk_gb * prices.storage_gb
    return Target(platform.name, "kubernetes", (InstanceGroup(label, cpu, memory, replicas, round(per_replica, 2)),),
                  round(need.disk_gb, 1), round(monthly, 2), round(need.vcpus, 2), round(need.memory_gb, 2),
                  prices.basis)


def cheapest_cover(options: Sequence[tuple[float, float, float]], need_v: float, need_m: float,
                   limit: int) -> tuple[float, tuple[int, ...]] | None:
    """Exact: the counts per option (vCPUs, memory, price) of the cheapest multiset with at most ``limit``
    members whose vCPUs ≥ ``need_v`` and memory ≥ ``need_m`` (ties: fewest members); None if none.

    Catalogues of whole vCPUs and GB use a table of every demand's answer, built once per catalogue
    (``_CoverTable``); others are searched by branch and bound."""
    options = tuple(options)
    table = _cover_table(options, limit)
    if table is not None:
        return table.query(need_v, need_m)
    return _cheapest_cover(options, need_v, need_m, limit)


class _CoverTable:
    """``cost[k][v][m]``: the cheapest cover of (v vCPUs, m memory units) with at most k instances, for every
    v and m a catalogue of whole sizes can cover with ``limit`` instances (memory in units of the gcd of
    the flavors' memory). Built layer by layer with NumPy; a query reads the answer and walks it back."""

    def __init__(self, options: tuple[tuple[float, float, float], ...], limit: int, unit: int) -> None:
        self.options, self.limit, self.unit = options, limit, unit
        self.sizes = [(int(v), int(m) // unit, price) for v, m, price in options]
        self.max_v = limit * max(v for v, _, _ in self.sizes)
        self.max_m = limit * max(m for _, m, _ in self.sizes)
        layer = np.full((self.max_v + 1, self.max_m + 1), np.inf)
        layer[0, 0] = 0.0
        self.layers = [layer]
        rows, cols = np.arange(self.max_v + 1), np.arange(self.max_m + 1)
        for _ in range(limit):
            previous = self.layers[-1]
            current = previous.copy()
            for v, m, price in self.sizes:
                shifted = previous[np.maximum(rows - v, 0)][:, np.maximum(cols - m, 0)] + price
                np.minimum(current, shifted, out=current)
            self.layers.append(current)

    def query(self, need_v: float, need_m: float) -> tuple[float, tuple[int, ...]] | None:
        v = max(0, math.ceil(need_v - EPS))
        m = max(0, math.ceil(need_m / self.unit - EPS))
        if v > self.max_v or m > self.max_m or math.isinf(self.layers[self.limit][v, m]):
            return None
        best = float(self.layers[self.limit][v, m])
        k = next(k for k in range(self.limit + 1) if self.layers[k][v, m] <= best + 1e-6)  # fewest instances
        counts = [0] * len(self.sizes)
        while v > 0 or m > 0:
            here = self.layers[k][v, m]
            for index, (fv, fm, price) in enumerate(self.sizes):
                if abs(self.layers[k - 1][max(v - fv, 0), max(m - fm, 0)] + price - here) <= 1e-6:
                    counts[index] += 1
                    v, m, k = max(v - fv, 0), max(m - fm, 0), k - 1
                    break
            else:  # not one more instance at this layer: the same cover with one fewer allowed
                if abs(self.layers[k - 1][v, m] - here) > 1e-6:
                    raise AssertionError("cover table walk-back failed")
                k -= 1
        return best, tuple(counts)


MAX_TABLE_CELLS = 4_000_000


@lru_cache(maxsize=16)
def _cover_table(options: tuple[tuple[float, float, float], ...], limit: int) -> _CoverTable | None:
    """The table for a catalogue of whole vCPUs and GB small enough to tabulate, else None."""
    if not options or not all(float(v).is_integer() and float(m).is_integer() and v > 0 and m > 0
                              for v, m, _ in options):
        return None
    unit = math.gcd(*(int(m) for _, m, _ in options))
    cells = (limit * max(int(v) for v, _, _ in options) + 1) * (limit * max(int(m) for _, m, _ in options) // unit + 1)
    return _CoverTable(options, limit, unit) if cells <= MAX_TABLE_CELLS else None


@dataclass(frozen=True)
class _Catalogue:
    """A catalogue prepared for the search: options largest first, and per suffix the LP dual's vertices
    and the largest vCPUs and memory left."""

    order: tuple[int, ...]
    items: tuple[tuple[float, float, float], ...]
    bounds: tuple[tuple[tuple[float, float], ...], ...]
    max_v: tuple[float, ...]
    max_m: tuple[float, ...]


@lru_cache(maxsize=256)
def _catalogue(options: tuple[tuple[float, float, float], ...]) -> _Catalogue:
    order = tuple(sorted(range(len(options)), key=lambda i: (-options[i][0], -options[i][1], options[i][2])))
    items = tuple(options[i] for i in order)
    n = len(items)
    return _Catalogue(order, items, tuple(tuple(_dual_vertices(items[i:])) for i in range(n)),
                      tuple(max(v for v, _, _ in items[i:]) for i in range(n)),
                      tuple(max(m for _, m, _ in items[i:]) for i in range(n)))


@lru_cache(maxsize=65536)
def _cheapest_cover(options: tuple[tuple[float, float, float], ...], need_v: float, need_m: float,
                    limit: int) -> tuple[float, tuple[int, ...]] | None:
    catalogue = _catalogue(options)
    order, items, bounds, max_v, max_m = (catalogue.order, catalogue.items, catalogue.bounds, catalogue.max_v,
                                          catalogue.max_m)
    n = len(items)
    best_cost, best_size, best_counts = math.inf, limit + 1, [0] * n
    for k, (v, m, price) in enumerate(items):  # the best single flavor repeated: an incumbent to prune with
        times = max(math.ceil(need_v / v - EPS), math.ceil(need_m / m - EPS), 1)
        if times <= limit and (times * price, times) < (best_cost, best_size):
            best_cost, best_size, best_counts = times * price, times, [0] * n
            best_counts[k] = times
    counts = [0] * n

    def search(i: int, dv: float, dm: float, slots: int, cost: float, used: int) -> None:
        nonlocal best_cost, best_size, best_counts
        if dv <= EPS and dm <= EPS:
            if cost < best_cost - 1e-6 or (cost <= best_cost + 1e-6 and used < best_size):
                best_cost, best_size, best_counts = cost, used, counts.copy()
            return
        if i == n or slots == 0 or slots * max_v[i] < dv - EPS or slots * max_m[i] < dm - EPS:
            return
        bound = max(a * max(dv, 0.0) + b * max(dm, 0.0) for a, b in bounds[i])
        if cost + bound > best_cost + 1e-6:
            return
        v, m, price = items[i]
        most = min(slots, max(math.ceil(dv / v - EPS) if dv > 0 else 0, math.ceil(dm / m - EPS) if dm > 0 else 0))
        for c in range(most, -1, -1):
            counts[i] = c
            search(i + 1, dv - c * v, dm - c * m, slots - c, cost + c * price, used + c)
        counts[i] = 0

    search(0, need_v, need_m, limit, 0.0, 0)
    if math.isinf(best_cost):
        return None
    result = [0] * n
    for position, original in enumerate(order):
        result[original] = best_counts[position]
    return best_cost, tuple(result)


def _dual_vertices(items: Sequence[tuple[float, float, float]]) -> list[tuple[float, float]]:
    """Vertices (α, β) of the LP dual {α·v + β·m ≤ price for every option, α, β ≥ 0}: the cheapest
    fractional cover of (dv, dm) costs max over them of α·dv + β·dm, a lower bound for the integer one."""
    lines = [(v, m, p) for v, m, p in items]
    candidates = [(0.0, 0.0), (min(p / v for v, _, p in lines), 0.0), (0.0, min(p / m for _, m, p in lines))]
    for k, (v1, m1, p1) in enumerate(lines):
        for v2, m2, p2 in lines[k + 1:]:
            det = v1 * m2 - v2 * m1
            if abs(det) < EPS:
                continue
            a, b = (p1 * m2 - p2 * m1) / det, (v1 * p2 - v2 * p1) / det
            if a >= -EPS and b >= -EPS:
                candidates.append((max(a, 0.0), max(b, 0.0)))
    return [(a, b) for a, b in candidates if all(a * v + b * m <= p + 1e-7 for v, m, p in lines)]
