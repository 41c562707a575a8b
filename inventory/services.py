"""Create, update and delete inventory records with an audit row for each change.

Callers (CLI, API, collectors' writers) pass ``session=`` and an ``Actor``; the caller owns the
transaction, so a change and its audit row commit or roll back together.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session, SQLModel

from inventory.audit import Actor, record
from inventory.models import AuditAction

ModelT = TypeVar("ModelT", bound=SQLModel)

# The human key each entity is audited under (falls back to the numeric id).
AUDIT_KEYS = {"department": "code", "room": "code", "server": "hostname", "system": "code", "platform": "name"}
# One entity name per kind in the audit log, the survey importer's: a system is "system" wherever it changed.
ENTITY_NAMES = {"business_system": "system", "cloud_platform": "platform"}


def entity_name(obj: SQLModel) -> str:
    table = str(obj.__tablename__)
    return ENTITY_NAMES.get(table, table)


def audit_key(obj: SQLModel) -> str:
    key = AUDIT_KEYS.get(entity_name(obj), "id")
    return str(getattr(obj, key))


def snapshot(obj: SQLModel) -> dict[str, Any]:
    """The record's column values, as stored."""
    return obj.model_dump()


def create(*, session: Session, actor: Actor, obj: ModelT) -> ModelT:
    """Add ``obj`` and audit its creation."""
    session.add(obj)
    session.flush()
    record(session, actor, entity_name(obj), audit_key(obj), AuditAction.CREATE, None, snapshot(obj))
    return obj


def update(*, session: Session, actor: Actor, obj: ModelT, changes: dict[str, Any]) -> ModelT:
    """Apply ``changes`` to ``obj``; audit the fields that really changed (nothing if none did)."""
    unknown = set(changes) - set(type(obj).model_fields)
    if unknown:
        raise ValueError(f"unknown field(s) for {entity_name(obj)}: {', '.join(sorted(unknown))}")
    before = {k: getattr(obj, k) for k in changes if getattr(obj, k) != changes[k]}
    if not before:
        return obj
    for key in before:
        setattr(obj, key, changes[key])
    session.add(obj)
    session.flush()
    record(session, actor, entity_name(obj), audit_key(obj), AuditAction.UPDATE, before,
           {k: changes[k] for k in before})
    return obj


def delete(*, session: Session, actor: Actor, obj: SQLModel) -> None:
    """Delete ``obj`` and audit what it was."""
    before = snapshot(obj)
    key = audit_key(obj)
    session.delete(obj)
    session.flush()
    record(session, actor, entity_name(obj), key, AuditAction.DELETE, before, None)
