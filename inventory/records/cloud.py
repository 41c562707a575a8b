"""A cloud's and a cluster's facts as the OpenStack and Kubernetes collectors return them: plain records,
in the inventory's units."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HostRecord:
    name: str
    vcpus: int
    memory_gb: float
    disk_gb: float
    cpu_ratio: float
    ram_ratio: float
    state: str
    zone: str | None


@dataclass(frozen=True)
class FlavorRecord:
    name: str
    vcpus: int
    memory_gb: float
    disk_gb: float


@dataclass(frozen=True)
class InstanceRecord:
    external_id: str
    name: str
    host: str | None
    flavor: str | None
    vcpus: int
    memory_gb: float
    disk_gb: float
    project: str | None
    status: str
    cpu_util: float | None = None  # 0..1, from the server's diagnostics when measured
    memory_util: float | None = None
    power_state: str | None = None  # PowerState; None when the cloud does not say


@dataclass(frozen=True)
class PoolRecord:
    name: str
    capacity_gb: float | None
    backend: str | None
    free_gb: float | None = None


@dataclass(frozen=True)
class VolumeRecord:
    external_id: str
    pool: str | None
    size_gb: float
    instance: str | None


@dataclass
class CloudFacts:
    collected_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    hosts: list[HostRecord] = field(default_factory=list)
    flavors: list[FlavorRecord] = field(default_factory=list)
    instances: list[InstanceRecord] = field(default_factory=list)
    pools: list[PoolRecord] = field(default_factory=list)
    volumes: list[VolumeRecord] = field(default_factory=list)


@dataclass(frozen=True)
class NodeRecord:
    name: str
    cpu: float  # allocatable cores
    memory_gb: float
    disk_gb: float  # allocatable ephemeral storage
    ready: bool
    zone: str | None
    cpu_usage: float | None = None  # cores, from the metrics API
    memory_usage_gb: float | None = None


@dataclass(frozen=True)
class NamespaceRecord:
    name: str
    pods: int
    cpu_request: float
    memory_request_gb: float
    cpu_usage: float | None
    memory_usage_gb: float | None


@dataclass
class KubeFacts:
    collected_at: dt.datetime
    nodes: list[NodeRecord] = field(default_factory=list)
    namespaces: list[NamespaceRecord] = field(default_factory=list)
    metrics_available: bool = False
