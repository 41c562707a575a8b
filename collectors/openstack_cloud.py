"""The OpenStack collector: the cloud side of the inventory, read through openstacksdk.

Returns plain records, no database. Host sizes and overcommit ratios come from Placement (Nova's
hypervisor API no longer reports them at current microversions); zones from the compute
availability zones; instances with their flavor sizes from Nova (all projects); volumes and storage
pools from Cinder; project names from Keystone. Foreign errors become ``CloudError`` with a message
that never contains credentials.
"""

from __future__ import annotations

from typing import Any

from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as os_exceptions

from inventory.errors import ExternalError
from inventory.models.enums import PowerState
from inventory.records.cloud import CloudFacts, FlavorRecord, HostRecord, InstanceRecord, PoolRecord, VolumeRecord


class CloudError(ExternalError):
    """The cloud could not be read; the message is safe to show (no credentials)."""














def _capacity(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):  # 'infinite' / 'unknown' from drivers that do not know
        return None


def collect_openstack(conn: Any, measure: bool = True) -> CloudFacts:
    """Read hypervisors, flavors, servers, volumes, pools and projects from ``conn``; with ``measure``,
    each active server's CPU and memory use from its diagnostics (one admin call per server)."""
    try:
        return _collect(conn, measure)
    except os_exceptions.HttpException as exc:
        raise CloudError(f"the cloud refused a request: HTTP {exc.status_code} {exc.details or ''}".strip()) from None
    except (os_exceptions.SDKException, ks_exceptions.ClientException) as exc:
        kind = type(exc).__name__
        raise CloudError(f"cannot reach or authenticate to the cloud ({kind}); check clouds.yaml") from None


def _use(conn: Any, server: Any) -> tuple[float | None, float | None]:
    """CPU and memory use (0..1) from Nova's server diagnostics; unknown when the driver does not say."""
    try:
        diagnostics = conn.compute.get_server_diagnostics(server)
    except os_exceptions.HttpException:  # e.g. not supported by this hypervisor driver
        return None, None
    cpus = [c.get("utilisation") for c in diagnostics.cpu_details or [] if c.get("utilisation") is not None]
    memory = diagnostics.memory_details or {}
    cpu = sum(cpus) / len(cpus) / 100 if cpus else None
    used, maximum = memory.get("used"), memory.get("maximum")
    return cpu, (used / maximum if used is not None and maximum else None)


# Nova's power_state codes (nova/compute/power_state.py); 0 is NOSTATE, e.g. an instance the hypervisor lost.
POWER_STATES = {0: PowerState.NO_STATE, 1: PowerState.RUNNING, 3: PowerState.PAUSED, 4: PowerState.SHUTDOWN,
                6: PowerState.CRASHED, 7: PowerState.SUSPENDED}


def _collect(conn: Any, measure: bool) -> CloudFacts:
    facts = CloudFacts()
    zones = {host: zone.name for zone in conn.compute.availability_zones(details=True)
             for host in (zone.hosts or {}) if zone.name != "internal"}
    states = {h.name: h.state for h in conn.compute.hypervisors(details=True)}
    for provider in conn.placement.resource_providers():
        if provider.name not in states:
            continue
        inventory = {i.resource_class: i for i in conn.placement.resource_provider_inventories(provider)}
        vcpu, memory, disk = inventory.get("VCPU"), inventory.get("MEMORY_MB"), inventory.get("DISK_GB")
        facts.hosts.append(HostRecord(
            provider.name, int(vcpu.total) if vcpu else 0, (memory.total / 1024) if memory else 0.0,
            float(disk.total) if disk else 0.0, float(vcpu.allocation_ratio) if vcpu else 1.0,
            float(memory.allocation_ratio) if memory else 1.0, states[provider.name] or "unknown",
            zones.get(provider.name)))
    for flavor in conn.compute.flavors(is_public=None):
        facts.flavors.append(FlavorRecord(flavor.name, flavor.vcpus, flavor.ram / 1024, float(flavor.disk or 0)))
    projects = {p.id: p.name for p in conn.identity.projects()}
    for server in conn.compute.servers(details=True, all_projects=True):
        flavor = server.flavor or {}
        cpu, memory = _use(conn, server) if measure and server.status == "ACTIVE" else (None, None)
        facts.instances.append(InstanceRecord(
            server.id, server.name, server.compute_host, flavor.get("original_name") or flavor.get("name"),
            int(flavor.get("vcpus") or 0), (flavor.get("ram") or 0) / 1024, float(flavor.get("disk") or 0),
            projects.get(server.project_id, server.project_id), server.status, cpu, memory,
            POWER_STATES.get(server.power_state) if server.power_state is not None else None))
    for pool in conn.block_storage.backend_pools():
        capabilities = pool.capabilities or {}
        facts.pools.append(PoolRecord(pool.name, _capacity(capabilities.get("total_capacity_gb")),
                                      capabilities.get("volume_backend_name"),
                                      _capacity(capabilities.get("free_capacity_gb"))))
    for volume in conn.block_storage.volumes(details=True, all_projects=True):
        attached = [a.get("server_id") for a in volume.attachments or [] if a.get("server_id")]
        facts.volumes.append(VolumeRecord(volume.id, volume.host, float(volume.size),
                                          attached[0] if attached else None))
    return facts
