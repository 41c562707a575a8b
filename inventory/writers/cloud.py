"""Writing a cloud collector's records into the inventory's cloud side, and reading it back as the
cluster snapshot of FORMATS.md §2.

Records are matched by key (host, flavor and pool names; instance and volume ids); what the cloud no
longer has is removed, so the inventory mirrors the cloud. One audit row summarises each sync.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, SQLModel, col, select

from inventory.audit import Actor, record
from inventory.errors import ConflictError, NotFoundError
from inventory.models import (
    AuditAction,
    CloudHost,
    CloudInstance,
    CloudPlatform,
    Flavor,
    NamespaceUsage,
    PlatformKind,
    StoragePool,
    Volume,
)
from inventory.models.enums import HostState, InstanceStatus, PowerState
from inventory.platform_history import record_platform_day
from inventory.records.cloud import CloudFacts, KubeFacts
from inventory.settings import get_settings
from inventory.writers.cloud_samples import CloudUse


@dataclass
class SyncCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


def _sync(session: Session, existing: Sequence[SQLModel], key: Callable[[Any], Hashable],
          wanted: Mapping[Any, dict[str, Any]], make: Callable[[dict[str, Any]], SQLModel]) -> SyncCounts:
    counts = SyncCounts()
    current = {key(row): row for row in existing}
    for ident, values in wanted.items():
        row = current.pop(ident, None)
        if row is None:
            session.add(make(values))
            counts.created += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            session.add(row)
            counts.updated += 1
        else:
            counts.unchanged += 1
    for row in current.values():
        session.delete(row)
        counts.removed += 1
    session.flush()
    return counts


def _openstack_use(facts: CloudFacts) -> dict[str, float | None]:
    """Busy cores and memory in use from the measured servers; storage in use from the pools' free space."""
    measured = [i for i in facts.instances if i.cpu_util is not None and i.memory_util is not None]
    pools = [p for p in facts.pools if p.capacity_gb is not None and p.free_gb is not None]
    return {
        "used_vcpus": round(sum(i.vcpus * (i.cpu_util or 0.0) for i in measured), 3) if measured else None,
        "used_memory_gb": round(sum(i.memory_gb * (i.memory_util or 0.0) for i in measured), 3) if measured else None,
        "used_storage_gb": (round(sum((p.capacity_gb or 0.0) - (p.free_gb or 0.0) for p in pools), 3)
                            if pools else None),
    }


def _upsert_platform(session: Session, name: str, platform: CloudPlatform | None, totals: dict[str, Any]) -> int:
    """Create or update the platform with ``totals``; a platform of another kind is refused."""
    if platform is None:
        platform = CloudPlatform(name=name, **totals)
    elif platform.kind != totals["kind"]:
        raise ConflictError(f"platform {name!r} is {platform.kind}, not {totals['kind']}; use another --platform")
    else:
        for k, v in totals.items():
            setattr(platform, k, v)
    session.add(platform)
    session.flush()
    assert platform.id is not None
    record_platform_day(session, platform, dt.datetime.now(ZoneInfo(get_settings().timezone)).date())
    return platform.id


def write_openstack(session: Session, platform_name: str, mlps_level: int, facts: CloudFacts,
                    actor: Actor) -> dict[str, SyncCounts]:
    """Mirror ``facts`` as platform ``platform_name`` (kind openstack) in the inventory."""
    platform = session.exec(select(CloudPlatform).where(CloudPlatform.name == platform_name)).first()
    totals: dict[str, Any] = {
        "kind": PlatformKind.OPENSTACK.value, "mlps_level": mlps_level,
        "vcpus": sum(h.vcpus for h in facts.hosts), "memory_gb": sum(h.memory_gb for h in facts.hosts),
        "storage_gb": sum(p.capacity_gb or 0.0 for p in facts.pools) or sum(h.disk_gb for h in facts.hosts),
        "allocated_vcpus": sum(i.vcpus for i in facts.instances),
        "allocated_memory_gb": sum(i.memory_gb for i in facts.instances),
        "allocated_storage_gb": sum(v.size_gb for v in facts.volumes),
        "cpu_ratio": max((h.cpu_ratio for h in facts.hosts), default=1.0),
        **_openstack_use(facts),
    }
    pid = _upsert_platform(session, platform_name, platform, totals)
    counts: dict[str, SyncCounts] = {}
    counts["hosts"] = _sync(
        session, session.exec(select(CloudHost).where(CloudHost.platform_id == pid)).all(), lambda r: r.name,
        {h.name: asdict(h) | {"state": HostState.of(h.state)} for h in facts.hosts},
        lambda v: CloudHost(platform_id=pid, **v))
    counts["flavors"] = _sync(
        session, session.exec(select(Flavor).where(Flavor.platform_id == pid)).all(), lambda r: r.name,
        {f.name: asdict(f) for f in facts.flavors}, lambda v: Flavor(platform_id=pid, **v))
    host_ids = {h.name: h.id for h in session.exec(select(CloudHost).where(CloudHost.platform_id == pid))}
    flavor_ids = {f.name: f.id for f in session.exec(select(Flavor).where(Flavor.platform_id == pid))}
    instances: dict[str, dict[str, Any]] = {
        i.external_id: {
            "external_id": i.external_id, "name": i.name, "host_id": host_ids.get(i.host or ""),
            "flavor_id": flavor_ids.get(i.flavor or ""), "vcpus": i.vcpus, "memory_gb": i.memory_gb,
            "disk_gb": i.disk_gb, "project": i.project, "status": InstanceStatus.of(i.status),
            "cpu_util": i.cpu_util, "memory_util": i.memory_util,
            "power_state": PowerState(i.power_state) if i.power_state else None,
        } for i in facts.instances}
    counts["instances"] = _sync(
        session, session.exec(select(CloudInstance).where(CloudInstance.platform_id == pid)).all(),
        lambda r: r.external_id, instances,
        lambda v: CloudInstance(platform_id=pid, **v))
    counts["pools"] = _sync(
        session, session.exec(select(StoragePool).where(StoragePool.platform_id == pid)).all(), lambda r: r.name,
        {p.name: {"name": p.name, "capacity_gb": p.capacity_gb, "backend": p.backend} for p in facts.pools},
        lambda v: StoragePool(platform_id=pid, **v))
    pool_ids = {p.name: p.id for p in session.exec(select(StoragePool).where(StoragePool.platform_id == pid))}
    instance_ids = {i.external_id: i.id for i in session.exec(select(CloudInstance).where(
        CloudInstance.platform_id == pid))}
    existing_volumes = session.exec(
        select(Volume).where(col(Volume.pool_id).in_(list(pool_ids.values()) or [-1]))).all()
    volumes: dict[str, dict[str, Any]] = {
        v.external_id: {"external_id": v.external_id, "pool_id": pool_ids[v.pool], "size_gb": v.size_gb,
                        "instance_id": instance_ids.get(v.instance or "")}
        for v in facts.volumes if v.pool in pool_ids}
    counts["volumes"] = _sync(session, existing_volumes, lambda r: r.external_id, volumes,
                              lambda v: Volume(**v))
    record(session, actor, "platform", platform_name, AuditAction.IMPORT, None,
           {"collector": "openstack", **{k: asdict(c) for k, c in counts.items()}, **totals})
    return counts


def openstack_machines(facts: CloudFacts) -> list[CloudUse]:
    """The cloud's instances as machines whose use and size may belong to inventory servers."""
    return [CloudUse(i.name, i.cpu_util, i.memory_util,
                     {"cpu_cores": i.vcpus, "memory_gb": i.memory_gb, "storage_gb": i.disk_gb or None})
            for i in facts.instances if InstanceStatus.of(i.status) is InstanceStatus.ACTIVE]


def kubernetes_machines(facts: KubeFacts) -> list[CloudUse]:
    """Nodes with measured use, as machines that may be inventory servers (bare-metal nodes often are)."""
    return [CloudUse(n.name, n.cpu_usage / n.cpu if n.cpu_usage is not None and n.cpu else None,
                     n.memory_usage_gb / n.memory_gb if n.memory_usage_gb is not None and n.memory_gb else None)
            for n in facts.nodes]


def write_kubernetes(session: Session, platform_name: str, mlps_level: int, facts: KubeFacts,
                     actor: Actor) -> dict[str, SyncCounts]:
    """Mirror a Kubernetes cluster as platform ``platform_name`` (kind kubernetes): nodes as hosts,
    allocation as the sum of pods' requests, and each namespace's requests and use."""
    platform = session.exec(select(CloudPlatform).where(CloudPlatform.name == platform_name)).first()
    totals: dict[str, Any] = {
        "kind": PlatformKind.KUBERNETES.value, "mlps_level": mlps_level,
        "vcpus": int(sum(n.cpu for n in facts.nodes)), "memory_gb": round(sum(n.memory_gb for n in facts.nodes), 3),
        "storage_gb": round(sum(n.disk_gb for n in facts.nodes), 3),
        "allocated_vcpus": math.ceil(sum(ns.cpu_request for ns in facts.namespaces)),
        "allocated_memory_gb": round(sum(ns.memory_request_gb for ns in facts.namespaces), 3),
        "allocated_storage_gb": None, "cpu_ratio": 1.0,
        "used_vcpus": (round(sum(ns.cpu_usage or 0.0 for ns in facts.namespaces), 3)
                       if facts.metrics_available else None),
        "used_memory_gb": (round(sum(ns.memory_usage_gb or 0.0 for ns in facts.namespaces), 3)
                           if facts.metrics_available else None),
        "used_storage_gb": None,
    }
    pid = _upsert_platform(session, platform_name, platform, totals)
    counts = {
        "nodes": _sync(
            session, session.exec(select(CloudHost).where(CloudHost.platform_id == pid)).all(), lambda r: r.name,
            {n.name: {"name": n.name, "vcpus": int(n.cpu), "memory_gb": n.memory_gb, "disk_gb": n.disk_gb,
                      "state": HostState.UP if n.ready else HostState.DOWN, "zone": n.zone} for n in facts.nodes},
            lambda v: CloudHost(platform_id=pid, **v)),
        "namespaces": _sync(
            session, session.exec(select(NamespaceUsage).where(NamespaceUsage.platform_id == pid)).all(),
            lambda r: r.namespace,
            {ns.name: {"namespace": ns.name, "pods": ns.pods, "cpu_request": ns.cpu_request,
                       "memory_request_gb": ns.memory_request_gb, "cpu_usage": ns.cpu_usage,
                       "memory_usage_gb": ns.memory_usage_gb, "collected_at": facts.collected_at}
             for ns in facts.namespaces},
            lambda v: NamespaceUsage(platform_id=pid, **v)),
    }
    record(session, actor, "platform", platform_name, AuditAction.IMPORT, None,
           {"collector": "kubernetes", "metrics_api": facts.metrics_available,
            **{k: asdict(c) for k, c in counts.items()}, **totals})
    return counts


def cluster_snapshot(session: Session, platform_name: str) -> dict[str, Any]:
    """FORMATS.md §2 for one platform, from the inventory."""
    platform = session.exec(select(CloudPlatform).where(CloudPlatform.name == platform_name)).first()
    if platform is None or platform.id is None:
        raise NotFoundError(f"no cloud platform {platform_name!r}; `shangyun collect openstack` first")
    pid = platform.id
    hosts = session.exec(select(CloudHost).where(CloudHost.platform_id == pid).order_by(col(CloudHost.name))).all()
    host_names = {h.id: h.name for h in hosts}
    instances = session.exec(select(CloudInstance).where(CloudInstance.platform_id == pid)
                             .order_by(col(CloudInstance.external_id))).all()
    instance_names = {i.id: i.external_id for i in instances}
    pools = session.exec(
        select(StoragePool).where(StoragePool.platform_id == pid).order_by(col(StoragePool.name))).all()
    pool_names = {p.id: p.name for p in pools}
    volumes = session.exec(select(Volume).where(col(Volume.pool_id).in_(list(pool_names) or [-1]))).all()
    # A pool whose driver reports no capacity (thin, "infinite") cannot be balanced: it and its volumes stay out.
    sized = [p for p in pools if p.capacity_gb is not None]
    sized_ids = {p.id for p in sized}
    return {
        "hosts": [{"name": h.name, "vcpus": h.vcpus, "memory_mb": round(h.memory_gb * 1024), "disk_gb": h.disk_gb,
                   "cpu_ratio": h.cpu_ratio, "ram_ratio": h.ram_ratio, "state": h.state, "zone": h.zone}
                  for h in hosts],
        "instances": [{"id": i.external_id, "host": host_names.get(i.host_id), "vcpus": i.vcpus,
                       "memory_mb": round(i.memory_gb * 1024), "disk_gb": i.disk_gb,
                       "cpu_util": i.cpu_util if i.cpu_util is not None else 0.0,
                       "memory_util": i.memory_util if i.memory_util is not None else 0.0, "project": i.project,
                       "status": i.status, "power_state": i.power_state}
                      for i in instances if i.host_id in host_names],
        "pools": [{"name": p.name, "capacity_gb": p.capacity_gb, "backend": p.backend} for p in sized],
        "volumes": [{"id": v.external_id, "pool": pool_names[v.pool_id], "size_gb": v.size_gb,
                     "instance": instance_names.get(v.instance_id)} for v in volumes if v.pool_id in sized_ids],
    }
