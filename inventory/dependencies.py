"""Observed dependencies in the inventory: loading what agents saw, writing discovered links as
``observed`` dependencies (with evidence, first/last seen, audited), and comparing them with the
declared ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from inventory.audit import Actor, audit_row, jsonable, write_audit
from inventory.discovery import ObservedLink, SeenConnection, address_owners, discover
from inventory.models import (
    AuditAction,
    BusinessSystem,
    Dependency,
    DependencySource,
    ObservedConnection,
    ObservedListener,
    Server,
    SystemServer,
)
from inventory.views.public import table_of
from inventory.views.queries import pairs
from inventory.writers.survey import EntityCounts


def _codes(session: Session) -> dict[int, str]:
    systems = table_of(BusinessSystem)
    return pairs(session, sa.select(systems.c.id, systems.c.code))


def discover_links(session: Session) -> list[ObservedLink]:
    """The system→system links shown by every connection the agents reported."""
    srv, listener, placement = table_of(Server), table_of(ObservedListener), table_of(SystemServer)
    owners = address_owners(pairs(session, sa.select(srv.c.id, srv.c.ip)).items())
    listeners: dict[int, set[int]] = {}
    for server_id, port in session.execute(sa.select(listener.c.server_id, listener.c.port)):
        listeners.setdefault(server_id, set()).add(port)
    codes = _codes(session)
    systems_on: dict[int, list[str]] = {}
    for system_id, server_id in session.execute(sa.select(placement.c.system_id, placement.c.server_id)):
        systems_on.setdefault(server_id, []).append(codes[system_id])
    seen = [SeenConnection(c.server_id, c.remote_ip, c.remote_port, c.process, c.first_seen, c.last_seen)
            for c in session.exec(select(ObservedConnection))]
    return discover(seen, owners, listeners, systems_on)


def write_observed(session: Session, links: list[ObservedLink], actor: Actor) -> EntityCounts:
    """Upsert ``links`` as observed dependencies; audit what was created or changed."""
    ids = {code: ident for ident, code in _codes(session).items()}
    counts = EntityCounts()
    audits: list[dict[str, Any]] = []
    for link in links:
        key = f"{link.system}->{link.depends_on}"
        wanted: dict[str, Any] = {"evidence": link.evidence(), "first_seen": link.first_seen,
                                  "last_seen": link.last_seen}
        row = session.exec(select(Dependency).where(
            Dependency.system_id == ids[link.system], Dependency.depends_on_id == ids[link.depends_on],
            Dependency.source == DependencySource.OBSERVED)).first()
        if row is None:
            session.add(Dependency(system_id=ids[link.system], depends_on_id=ids[link.depends_on], tight=False,
                                   source=DependencySource.OBSERVED, **wanted))
            counts.created += 1
            audits.append(audit_row(actor, "dependency", f"{key} (observed)", AuditAction.CREATE, None, wanted))
            continue
        before = {k: getattr(row, k) for k in wanted}
        if jsonable(before) == jsonable(wanted):
            counts.unchanged += 1
            continue
        for name, value in wanted.items():
            setattr(row, name, value)
        session.add(row)
        counts.updated += 1
        audits.append(audit_row(actor, "dependency", f"{key} (observed)", AuditAction.UPDATE, before, wanted))
    session.flush()
    write_audit(session, audits)
    return counts


@dataclass
class DependencyDiff:
    declared_unseen: list[tuple[str, str, bool]] = field(default_factory=list)  # + whether the client has an agent
    seen_undeclared: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


def dependency_diff(session: Session) -> DependencyDiff:
    """Declared dependencies no agent saw, and observed ones no survey declared."""
    codes = _codes(session)
    listener, connection, placement = table_of(ObservedListener), table_of(ObservedConnection), table_of(SystemServer)
    reporting = {s for (s,) in session.execute(sa.select(listener.c.server_id).distinct())} | {
        s for (s,) in session.execute(sa.select(connection.c.server_id).distinct())}
    watched = {codes[system_id] for system_id, server_id in session.execute(
        sa.select(placement.c.system_id, placement.c.server_id)) if server_id in reporting}
    declared: set[tuple[str, str]] = set()
    observed: dict[tuple[str, str], dict[str, Any]] = {}
    for dep in session.exec(select(Dependency)):
        pair = (codes[dep.system_id], codes[dep.depends_on_id])
        if dep.source == DependencySource.OBSERVED:
            observed[pair] = dep.evidence or {}
        else:
            declared.add(pair)
    diff = DependencyDiff()
    diff.declared_unseen = [(a, b, a in watched) for a, b in sorted(declared - set(observed))]
    diff.seen_undeclared = [(a, b, observed[(a, b)]) for a, b in sorted(set(observed) - declared)]
    return diff
