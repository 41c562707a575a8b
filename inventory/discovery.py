"""Dependency discovery: from agents' outbound connections to system→system dependencies.

A connection from server A to an address that belongs to server B (the inventory's ``ip`` field,
several addresses allowed) on a port B listens on — when B's own agent reported its listeners —
means every system on A depends on every system on B, with the ports, processes and first/last
time seen as evidence. Connections to addresses outside the inventory are left out (the cloud, the
Internet); links within one system are not dependencies.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_ADDRESS_SPLIT = re.compile(r"[\s,;，、]+")


@dataclass(frozen=True)
class SeenConnection:
    server_id: int
    remote_ip: str
    remote_port: int
    process: str | None
    first_seen: dt.datetime
    last_seen: dt.datetime


@dataclass
class ObservedLink:
    system: str
    depends_on: str
    ports: set[int] = field(default_factory=set)
    processes: set[str] = field(default_factory=set)
    connections: int = 0
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None

    def evidence(self) -> dict[str, Any]:
        return {"ports": sorted(self.ports), "processes": sorted(self.processes), "connections": self.connections}


def address_owners(addresses: Iterable[tuple[int, str | None]]) -> dict[str, int]:
    """Address → server id, from (server id, the inventory's ip text) pairs."""
    owners: dict[str, int] = {}
    for server_id, text in addresses:
        for address in _ADDRESS_SPLIT.split(text or ""):
            if address:
                owners[address] = server_id
    return owners


def discover(connections: Iterable[SeenConnection], owners: dict[str, int], listeners: dict[int, set[int]],
             systems_on: dict[int, list[str]]) -> list[ObservedLink]:
    """The system→system links the connections show, merged per pair, sorted."""
    links: dict[tuple[str, str], ObservedLink] = {}
    for conn in connections:
        target = owners.get(conn.remote_ip)
        if target is None or target == conn.server_id:
            continue
        if listeners.get(target) and conn.remote_port not in listeners[target]:
            continue
        for source_system in systems_on.get(conn.server_id, []):
            for target_system in systems_on.get(target, []):
                if source_system == target_system:
                    continue
                link = links.setdefault((source_system, target_system), ObservedLink(source_system, target_system))
                link.ports.add(conn.remote_port)
                if conn.process:
                    link.processes.add(conn.process)
                link.connections += 1
                link.first_seen = min(filter(None, (link.first_seen, conn.first_seen)))
                link.last_seen = max(filter(None, (link.last_seen, conn.last_seen)))
    return [links[key] for key in sorted(links)]
