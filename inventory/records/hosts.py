"""Hosts as Ansible described them (``collectors.ansible_facts`` fills them in)."""

from __future__ import annotations

from dataclasses import dataclass, field

from inventory.records.agent import Listening


@dataclass(frozen=True)
class HostFacts:
    """What Ansible learnt of one host, in the inventory's units."""

    inventory_name: str
    hostname: str
    cpu_cores: int | None
    memory_gb: float | None
    storage_gb: float | None
    os: str | None
    ip: str | None
    serial: str | None
    vendor: str | None
    model: str | None
    hypervisor: bool | None
    virtualization: str | None
    room: str | None = None
    listening: list[Listening] = field(default_factory=list)


@dataclass(frozen=True)
class HostFailure:
    inventory_name: str
    reason: str
