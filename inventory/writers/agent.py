"""Storing an agent report: one utilization sample of a known server, and its day's rollup.

Idempotent by host and time (the sample's key), so replayed reports are stored once. The server
must already be in the inventory (from a survey): an agent on an unknown host is refused rather
than creating a server without a room. The report's hardware facts are reconciled with the other
sources' (``inventory.reconcile``: measured beats declared).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from inventory.audit import Actor
from inventory.bulk import insert_samples
from inventory.clock import today
from inventory.errors import InvalidInputError
from inventory.models import ObservedConnection, ObservedListener, Server
from inventory.reconcile import observe
from inventory.records.agent import AgentReport, Listening
from inventory.rollups import recompute_rollups
from inventory.settings import get_settings

FUTURE_TOLERANCE = dt.timedelta(minutes=5)


class IngestError(InvalidInputError):
    """A report the inventory cannot take; ``field`` names the part of the report at fault."""

    msg_format = "{reason}"


def ingest_report(session: Session, report: AgentReport, tz: ZoneInfo, now: dt.datetime | None = None) -> str:
    """Store ``report``'s sample in the caller's transaction; ``stored`` or ``duplicate``."""
    now = now or dt.datetime.now(dt.UTC)
    if report.collected_at > now + FUTURE_TOLERANCE:
        raise IngestError(field="collected_at", reason=f"{report.collected_at.isoformat()} is more than "
                          f"{int(FUTURE_TOLERANCE.total_seconds() // 60)} minutes in the future; check the clock")
    # The oldest day kept is counted from the business day, as the retention job counts it.
    oldest = dt.datetime.combine(today() - dt.timedelta(days=get_settings().sample_retention_days), dt.time(),
                                 tzinfo=tz)
    if report.collected_at < oldest:
        raise IngestError(field="collected_at", reason=f"{report.collected_at.isoformat()} is older than the "
                          f"{get_settings().sample_retention_days} days samples are kept; check the clock")
    server = session.exec(select(Server).where(Server.hostname == report.hostname)).first()
    if server is None or server.id is None:
        raise IngestError(field="hostname", reason=f"{report.hostname!r} is not in the inventory; import it in a "
                          "survey first",
                          status=404)
    disk = sum(d.used_gb for d in report.disks) if report.disks else None
    at = report.collected_at.astimezone(dt.UTC)
    if not insert_samples(session, [(server.id, at, report.cpu_util, report.memory_util, disk, "agent")]):
        return "duplicate"
    recompute_rollups(session, [server.id], at, at, tz)
    record_listeners(session, server.id, report.listening, at)
    record_connections(session, server.id, report, at)
    observe(session, server, "agent", agent_facts(report), at, Actor(f"agent:{report.hostname}"))
    return "stored"


def agent_facts(report: AgentReport) -> dict[str, Any]:
    """The server facts a report measures, in the inventory's units."""
    return {
        "cpu_cores": report.cpu_cores,
        "memory_gb": round(report.memory_mb / 1024, 2),
        "storage_gb": round(sum(d.size_gb for d in report.disks), 2) if report.disks else None,
        "os": report.os,
    }


def split_remote(remote: str) -> tuple[str, int] | None:
    """``10.1.2.3:5432`` or ``[::1]:5432`` → (ip, port); None when there is no port."""
    host, _, port = remote.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        return None
    return host.strip("[]"), int(port)


def _seen(row: ObservedListener | ObservedConnection, at: dt.datetime, process: str | None) -> None:
    row.first_seen = min(row.first_seen, at)
    row.last_seen = max(row.last_seen, at)
    row.process = process or row.process


def record_listeners(session: Session, server_id: int, listening: Iterable[Listening], at: dt.datetime) -> None:
    """Keep listening ports (from an agent or Ansible) with first/last seen."""
    for listener in listening:
        found = session.get(ObservedListener, (server_id, listener.port))
        if found is None:
            session.add(ObservedListener(server_id=server_id, port=listener.port, process=listener.process,
                                         first_seen=at, last_seen=at))
        else:
            _seen(found, at, listener.process)
    session.flush()


def record_connections(session: Session, server_id: int, report: AgentReport, at: dt.datetime) -> None:
    """Keep the report's outbound connections with first/last seen."""
    for connection in report.connections:
        remote = split_remote(connection.remote)
        if remote is None:
            continue
        ip, port = remote
        existing = session.exec(select(ObservedConnection).where(
            ObservedConnection.server_id == server_id, ObservedConnection.remote_ip == ip,
            ObservedConnection.remote_port == port)).first()
        if existing is None:
            session.add(ObservedConnection(server_id=server_id, remote_ip=ip, remote_port=port,
                                           process=connection.process, first_seen=at, last_seen=at))
        else:
            _seen(existing, at, connection.process)
    session.flush()
