"""Writing Ansible's host facts into the inventory: one upsert per host, reconciled with provenance.

A host already in the inventory (same hostname) gets its facts as ``ansible`` observations; a new
host is created when its Ansible inventory names the room it stands in (``shangyun_room``), and is
reported as not stored otherwise: a server without a room would break the cost model.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session, select

from inventory import services
from inventory.audit import Actor
from inventory.models import Room, Server
from inventory.reconcile import observe
from inventory.records.hosts import HostFacts, HostFailure
from inventory.writers.agent import record_listeners


@dataclass
class HostFactsResult:
    created: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    not_stored: list[HostFailure] = field(default_factory=list)


def write_host_facts(session: Session, facts: list[HostFacts], at: dt.datetime, actor: Actor) -> HostFactsResult:
    """Upsert each host's facts in the caller's transaction; hosts that cannot be stored are listed."""
    result = HostFactsResult()
    for host in facts:
        values = {"cpu_cores": host.cpu_cores, "memory_gb": host.memory_gb, "storage_gb": host.storage_gb,
                  "os": host.os, "ip": host.ip, "model": host.model, "serial": host.serial,
                  "hypervisor": host.hypervisor, "virtualization": host.virtualization}
        server = session.exec(select(Server).where(Server.hostname == host.hostname)).first()
        if server is None:
            room = session.exec(select(Room).where(Room.code == host.room)).first() if host.room else None
            if room is None or room.id is None or host.cpu_cores is None or host.memory_gb is None:
                why = (f"unknown room {host.room!r}" if host.room else
                       "not in the inventory; set the host variable shangyun_room to its room code")
                result.not_stored.append(HostFailure(host.inventory_name, f"{host.hostname}: {why}"))
                continue
            server = services.create(session=session, actor=actor, obj=Server(
                hostname=host.hostname, room_id=room.id, department_id=room.department_id,
                cpu_cores=host.cpu_cores, memory_gb=host.memory_gb))
            result.created.append(host.hostname)
        assert server.id is not None
        changes = observe(session, server, "ansible", values, at, actor)
        record_listeners(session, server.id, host.listening, at)
        if host.hostname in result.created:
            continue
        if changes:
            result.updated[host.hostname] = sorted(changes)
        else:
            result.unchanged.append(host.hostname)
    return result
