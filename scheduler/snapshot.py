"""The cluster snapshot of FORMATS.md §2, validated and turned into arrays for the rebalancer.

Every problem is reported with the item it concerns (``instances[12] vm-0001: …``): missing fields,
negative sizes, duplicate names or ids, an instance on an unknown host, a volume in an unknown pool,
and a host already over capacity. All problems are collected, not just the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inventory.capacity import allocatable_vcpus
from inventory.errors import InvalidInputError
from inventory.models.enums import HostState, InstanceStatus, PowerState

F = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]


class HostIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1)
    vcpus: int = Field(gt=0)
    memory_mb: float = Field(gt=0)
    disk_gb: float = Field(ge=0)
    cpu_ratio: float = Field(default=1.0, gt=0)
    ram_ratio: float = Field(default=1.0, gt=0)
    state: str = "up"
    zone: str | None = None


class InstanceIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1)
    host: str = Field(min_length=1)
    vcpus: int = Field(ge=0)
    memory_mb: float = Field(ge=0)
    disk_gb: float = Field(default=0.0, ge=0)
    cpu_util: float = Field(default=0.0, ge=0, le=1)
    memory_util: float = Field(default=0.0, ge=0, le=1)
    project: str | None = None
    # An extension of §2: only a running instance (status active, hypervisor power state running) can
    # be live-migrated; any other stays put, still taking room on its host. Absent means active.
    status: str = InstanceStatus.ACTIVE
    power_state: str | None = None  # absent: the hypervisor's word is not known, the status decides


class PoolIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1)
    capacity_gb: float = Field(gt=0)
    backend: str | None = None


class VolumeIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1)
    pool: str = Field(min_length=1)
    size_gb: float = Field(ge=0)
    instance: str | None = None


class SnapshotError(InvalidInputError):
    """The snapshot is not usable; ``problems`` lists every item at fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:20]) + (f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""))
        self.problems = problems


@dataclass
class Cluster:
    """Hosts, instances, pools and volumes as parallel arrays (index = position in the lists)."""

    host_names: list[str]
    host_vcpus: F
    cap_cpu: F  # vcpus × cpu_ratio: the most vCPUs that may be allocated
    cap_ram: F  # memory_mb × ram_ratio
    cap_disk: F
    host_up: B
    host_zone: I64
    zones: list[str]
    instance_ids: list[str]
    inst_vcpus: F
    inst_ram: F
    inst_disk: F
    inst_load: F  # vcpus × cpu_util: cores actually busy
    inst_host: I64
    inst_movable: B  # running, so it may be live-migrated
    pool_names: list[str]
    pool_capacity: F
    volume_ids: list[str]
    volume_size: F
    volume_pool: I64


def _items(data: Mapping[str, Any], key: str, model: type[BaseModel], problems: list[str],
           label: str) -> list[Any]:
    raw = data.get(key, [])
    if not isinstance(raw, list):
        problems.append(f"{key}: must be a list")
        return []
    parsed = []
    for index, item in enumerate(raw):
        name = item.get(label) if isinstance(item, dict) else None
        try:
            parsed.append(model.model_validate(item))
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"])
                problems.append(f"{key}[{index}]{f' {name}' if name else ''}: {where}: {error['msg']}")
    return parsed


def parse_snapshot(data: Mapping[str, Any]) -> Cluster:
    """Validate a §2 document and build the arrays; raises ``SnapshotError`` with every problem."""
    problems: list[str] = []
    if "hosts" not in data or "instances" not in data:
        raise SnapshotError(["the snapshot needs 'hosts' and 'instances'"])
    hosts: list[HostIn] = _items(data, "hosts", HostIn, problems, "name")
    instances: list[InstanceIn] = _items(data, "instances", InstanceIn, problems, "id")
    pools: list[PoolIn] = _items(data, "pools", PoolIn, problems, "name")
    volumes: list[VolumeIn] = _items(data, "volumes", VolumeIn, problems, "id")
    host_index: dict[str, int] = {}
    for i, host in enumerate(hosts):
        if host.name in host_index:
            problems.append(f"hosts[{i}] {host.name}: duplicate host name")
        host_index.setdefault(host.name, i)
    seen: set[str] = set()
    for i, instance in enumerate(instances):
        if instance.id in seen:
            problems.append(f"instances[{i}] {instance.id}: duplicate instance id")
        seen.add(instance.id)
        if instance.host not in host_index:
            problems.append(f"instances[{i}] {instance.id}: host {instance.host!r} is not in hosts")
    pool_index = {p.name: i for i, p in enumerate(pools)}
    volume_seen: set[str] = set()
    for i, volume in enumerate(volumes):
        if volume.id in volume_seen:
            problems.append(f"volumes[{i}] {volume.id}: duplicate volume id")
        volume_seen.add(volume.id)
        if volume.pool not in pool_index:
            problems.append(f"volumes[{i}] {volume.id}: pool {volume.pool!r} is not in pools")
    if problems:
        raise SnapshotError(problems)
    zones = sorted({h.zone or "" for h in hosts})
    zone_index = {z: i for i, z in enumerate(zones)}
    cluster = Cluster(
        host_names=[h.name for h in hosts],
        host_vcpus=np.array([h.vcpus for h in hosts], dtype=np.float64),
        cap_cpu=np.array([allocatable_vcpus(h.vcpus, h.cpu_ratio) for h in hosts], dtype=np.float64),
        cap_ram=np.array([h.memory_mb * h.ram_ratio for h in hosts], dtype=np.float64),
        cap_disk=np.array([h.disk_gb for h in hosts], dtype=np.float64),
        host_up=np.array([h.state == HostState.UP for h in hosts], dtype=np.bool_),
        host_zone=np.array([zone_index[h.zone or ""] for h in hosts], dtype=np.int64),
        zones=zones,
        instance_ids=[i.id for i in instances],
        inst_vcpus=np.array([i.vcpus for i in instances], dtype=np.float64),
        inst_ram=np.array([i.memory_mb for i in instances], dtype=np.float64),
        inst_disk=np.array([i.disk_gb for i in instances], dtype=np.float64),
        inst_load=np.array([i.vcpus * i.cpu_util for i in instances], dtype=np.float64),
        inst_host=np.array([host_index[i.host] for i in instances], dtype=np.int64),
        inst_movable=np.array([_running(i) for i in instances], dtype=np.bool_),
        pool_names=[p.name for p in pools],
        pool_capacity=np.array([p.capacity_gb for p in pools], dtype=np.float64),
        volume_ids=[v.id for v in volumes],
        volume_size=np.array([v.size_gb for v in volumes], dtype=np.float64),
        volume_pool=np.array([pool_index[v.pool] for v in volumes], dtype=np.int64),
    )
    over = _over_capacity(cluster)
    if over:
        raise SnapshotError(over)
    return cluster


def _running(instance: InstanceIn) -> bool:
    return (InstanceStatus.of(instance.status) is InstanceStatus.ACTIVE
            and instance.power_state in (None, PowerState.RUNNING))


def _over_capacity(cluster: Cluster) -> list[str]:
    count = len(cluster.host_names)
    used = {
        "vCPU": (np.bincount(cluster.inst_host, cluster.inst_vcpus, count), cluster.cap_cpu),
        "memory MB": (np.bincount(cluster.inst_host, cluster.inst_ram, count), cluster.cap_ram),
        "disk GB": (np.bincount(cluster.inst_host, cluster.inst_disk, count), cluster.cap_disk),
    }
    problems = []
    for what, (allocated, capacity) in used.items():
        for h in np.flatnonzero(allocated > capacity + 1e-6):
            problems.append(f"hosts {cluster.host_names[h]}: {allocated[h]:g} {what} allocated, more than its "
                            f"capacity {capacity[h]:g} (with the overcommit ratio)")
    return problems
