"""Right-sizing a system to a platform's flavor catalogue from measured use (DOMAIN.md).

Demand is summed over the system's servers: vCPUs = Σ p95(CPU) × cores × comfort factor, memory =
Σ p95(memory) × GB × comfort factor, over the sizing window. A system becomes one target sized for
its peak demand; summing the servers' p95 is conservative because servers rarely peak together, and
it lets consolidation pay off (ten 5 %-busy servers become one small VM). A server without samples
counts with its whole allocation, and the target says so. Disk is the used storage × headroom
(allocated storage where usage is unknown). The flavor is the cheapest single flavor that fits; only
when none is big enough, the fewest (then cheapest) ``count`` × flavor that covers the demand, up to
``MAX_INSTANCES`` — a system is not split into many small VMs just because prices are linear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from migration_plans.model import Flavor, Platform, SystemFacts, Target

CPU_PRICE_MONTH = 46.0  # CNY per vCPU-month (DOMAIN.md commercial proxy)
RAM_PRICE_MONTH = 17.0  # CNY per GB RAM-month
DISK_PRICE_MONTH = 0.5  # CNY per GB storage-month
MAX_INSTANCES = 8


@dataclass(frozen=True)
class Demand:
    vcpus: float
    memory_gb: float
    disk_gb: float
    sized_from: str  # samples | partial | allocated


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
    return Demand(max(vcpus, 0.5), max(memory, 0.5), disk, sized_from)


def flavor_price(flavor: Flavor) -> float:
    """Monthly price of a flavor: the catalogue's, or DOMAIN.md's unit prices where it has none."""
    if flavor.monthly_cny is not None:
        return flavor.monthly_cny
    disk = (flavor.disk_gb or 0.0) * DISK_PRICE_MONTH
    return flavor.vcpus * CPU_PRICE_MONTH + flavor.memory_gb * RAM_PRICE_MONTH + disk


def fit(need: Demand, platform: Platform) -> Target | None:
    """The cheapest target on ``platform`` covering ``need``; None when nothing in the catalogue does."""
    best: tuple[float, int, Flavor, int] | None = None
    for flavor in platform.flavors:
        count = max(math.ceil(need.vcpus / flavor.vcpus - 1e-9), math.ceil(need.memory_gb / flavor.memory_gb - 1e-9), 1)
        if count > MAX_INSTANCES:
            continue
        cost = count * flavor_price(flavor)
        candidate = (cost, count, flavor, flavor.vcpus)
        if best is None or (count, cost, flavor.vcpus) < (best[1], best[0], best[3]):
            best = candidate
    if best is None:
        return None
    cost, count, flavor, _ = best
    disk_extra = max(0.0, need.disk_gb - (flavor.disk_gb or 0.0) * count)
    return Target(platform.name, flavor.name, flavor.vcpus, flavor.memory_gb, round(need.disk_gb, 1), count,
                  round(cost + disk_extra * DISK_PRICE_MONTH, 2))
