"""Measured use and sizes that a cloud API reports for inventory servers.

A cloud instance or Kubernetes node whose name is an inventory hostname is the same machine: its
use becomes a utilization sample (source ``openstack``/``kubernetes``), rolled up per day exactly as
survey and agent samples are, and its size is reconciled with the other sources' facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from inventory.audit import Actor
from inventory.bulk import insert_samples
from inventory.models import Server
from inventory.reconcile import observe
from inventory.rollups import recompute_rollups


@dataclass(frozen=True)
class CloudUse:
    """One machine as a cloud sees it: ``hostname`` is the instance or node name."""

    hostname: str
    cpu_util: float | None  # 0..1 of its own capacity
    memory_util: float | None
    facts: Mapping[str, Any] = field(default_factory=dict)


def record_cloud_use(session: Session, source: str, at: dt.datetime, machines: Sequence[CloudUse], tz: ZoneInfo,
                     actor: Actor) -> list[int]:
    """Store samples and facts of the machines that are inventory servers; return their server ids."""
    names = {m.hostname for m in machines}
    servers = {s.hostname: s for s in session.exec(select(Server).where(col(Server.hostname).in_(sorted(names))))}
    touched: list[int] = []
    samples = []
    for machine in machines:
        server = servers.get(machine.hostname)
        if server is None or server.id is None:
            continue
        touched.append(server.id)
        if machine.facts:
            observe(session, server, source, machine.facts, at, actor)
        if machine.cpu_util is not None and machine.memory_util is not None:
            cpu, memory = (min(max(v, 0.0), 1.0) for v in (machine.cpu_util, machine.memory_util))
            samples.append((server.id, at, cpu, memory, None, source))
    if samples:
        insert_samples(session, samples)
        recompute_rollups(session, [s[0] for s in samples], at, at, tz)
    return touched
