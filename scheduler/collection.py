"""One collection of a cloud into the inventory — what ``shangyun collect openstack|kubernetes`` and the
scheduler's collection job both run: read the cloud, mirror it, record measured use as samples of the
matching inventory servers and re-judge their systems' zombie evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from inventory.audit import Actor
from inventory.errors import ConflictError, ExternalError, InvalidInputError
from inventory.models import CloudPlatform
from inventory.writers.cloud import SyncCounts


class CollectionError(ExternalError):
    """The cloud could not be read or written; the message is safe to show (no credentials)."""


@dataclass
class Collected:
    platform: str
    counts: dict[str, SyncCounts]
    measured_servers: int
    metrics_available: bool = True

    def summary(self) -> str:
        return (f"{self.platform}: " + "; ".join(f"{k} +{c.created} ~{c.updated} ={c.unchanged} -{c.removed}"
                                                 for k, c in self.counts.items())
                + f"; {self.measured_servers} inventory server(s) measured"
                + ("" if self.metrics_available else " (no metrics API: use unknown)"))


def platform_level(session: Session, name: str, given: int | None) -> int:
    """The platform's 等保 level: as given, else as the inventory knows it."""
    level = given or session.exec(select(CloudPlatform.mlps_level).where(CloudPlatform.name == name)).first()
    if level is None:
        raise CollectionError(f"give --mlps-level: the inventory does not know {name!r}'s 等保 level")
    return int(level)


def collect_openstack_cloud(session: Session, cloud: str, platform: str | None, mlps_level: int | None,
                            actor: Actor) -> Collected:
    """Mirror clouds.yaml cloud ``cloud`` as ``platform`` (default: the cloud's name); not committed."""
    from keystoneauth1 import exceptions as ks_exceptions
    from openstack import exceptions as os_exceptions

    from collectors.openstack_cloud import collect_openstack
    from drivers.openstack import open_connection
    from inventory.writers.cloud import openstack_machines, write_openstack

    name = platform or cloud
    level = platform_level(session, name, mlps_level)
    try:
        conn = open_connection(cloud)
        facts = collect_openstack(conn)
    except ExternalError as exc:
        raise CollectionError(str(exc)) from None
    except (os_exceptions.SDKException, ks_exceptions.ClientException) as exc:
        raise CollectionError(f"cloud {cloud!r} not usable ({type(exc).__name__})") from None
    try:
        counts = write_openstack(session, name, level, facts, actor)
    except ConflictError as exc:  # the name belongs to a platform of another kind
        raise CollectionError(str(exc)) from None
    matched = record_machines(session, "openstack", facts.collected_at, openstack_machines(facts), actor)
    return Collected(name, counts, matched)


def collect_kubernetes_cluster(session: Session, kubeconfig: str | None, context: str | None, platform: str | None,
                               mlps_level: int | None, actor: Actor) -> Collected:
    """Mirror a Kubernetes cluster as ``platform`` (default: the context's name); not committed."""
    from collectors.kubernetes_cluster import collect_kubernetes
    from drivers.kubernetes import api_client_from_kubeconfig
    from inventory.writers.cloud import kubernetes_machines, write_kubernetes

    try:
        client, context_name = api_client_from_kubeconfig(kubeconfig, context)
        name = platform or context_name
        level = platform_level(session, name, mlps_level)
        facts = collect_kubernetes(client)
        counts = write_kubernetes(session, name, level, facts, actor)
    except (ExternalError, InvalidInputError, ConflictError) as exc:
        raise CollectionError(str(exc)) from None
    matched = record_machines(session, "kubernetes", facts.collected_at, kubernetes_machines(facts), actor)
    return Collected(name, counts, matched, facts.metrics_available)


def record_machines(session: Session, source: str, at: Any, machines: list[Any], actor: Actor) -> int:
    """Samples and facts of cloud machines that are inventory servers, then their systems' zombie verdicts."""
    from zoneinfo import ZoneInfo

    from inventory.settings import get_settings
    from inventory.writers.cloud_samples import record_cloud_use
    from migration_plans.store import refresh_zombies_of_server

    touched = record_cloud_use(session, source, at, machines, ZoneInfo(get_settings().timezone), actor)
    for server_id in touched:
        refresh_zombies_of_server(session, server_id, actor)
    return len(touched)
