"""Writing and reading the audit log (档案库).

Every create, update and delete that goes through the services or an import writes one row:
who (``Actor``), when, which entity and key, the action, and the before/after values as JSON.
"""

from __future__ import annotations

import datetime as dt
import getpass
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from inventory.logs import REQUEST_ID
from inventory.models import AuditLog


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and the request (CLI command or API call) it belongs to."""

    name: str
    request_id: str = field(default_factory=lambda: REQUEST_ID.get() or uuid.uuid4().hex[:16])

    @classmethod
    def cli(cls) -> Actor:
        """The operating-system user running a CLI command."""
        try:
            user = getpass.getuser()
        except Exception:  # no user database entry, e.g. in a bare container
            user = "unknown"
        return cls(f"cli:{user}")


def jsonable(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A copy of ``values`` that JSON can hold: dates and times as ISO strings, sets as sorted lists."""
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dt.date | dt.datetime):
            out[key] = value.isoformat()
        elif isinstance(value, set | frozenset):
            out[key] = sorted(value)
        else:
            out[key] = value
    return out


def audit_row(actor: Actor, entity: str, entity_id: str, action: str, before: Mapping[str, Any] | None,
              after: Mapping[str, Any] | None, at: dt.datetime | None = None) -> dict[str, Any]:
    """One audit row as a plain dict, for bulk writing."""
    return {
        "at": at or dt.datetime.now(dt.UTC),
        "actor": actor.name,
        "request_id": actor.request_id,
        "entity": entity,
        "entity_id": entity_id,
        "action": action,
        "before": jsonable(before),
        "after": jsonable(after),
    }


def write_audit(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert audit rows in one statement batch."""
    if rows:
        session.execute(sa.insert(AuditLog), list(rows))


def record(session: Session, actor: Actor, entity: str, entity_id: str, action: str,
           before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None) -> None:
    """Write one audit row in the session's transaction."""
    write_audit(session, [audit_row(actor, entity, entity_id, action, before, after)])


def list_audit(session: Session, *, entity: str | None = None, entity_id: str | None = None,
               limit: int = 100) -> list[AuditLog]:
    """Newest audit rows first, optionally for one entity type and key."""
    query = select(AuditLog)
    if entity:
        query = query.where(AuditLog.entity == entity)
    if entity_id:
        query = query.where(AuditLog.entity_id == entity_id)
    query = query.order_by(col(AuditLog.id).desc()).limit(limit)
    return list(session.exec(query))
