"""The audit log (档案库): every change, who made it and when, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlmodel import col, select

from api.http.auth import AUDIT_READ, require
from api.http.deps import SessionDep
from api.http.routers.common import ListQueryDep, Page, filtered, page
from inventory.models.audit import AuditLog, AuditLogPublic
from inventory.users import Principal

router = APIRouter(prefix="/api/v1/audit", tags=["audit 档案库"])


@router.get("", response_model=Page[AuditLogPublic])
def list_audit(session: SessionDep, _: Annotated[Principal, Depends(require(AUDIT_READ))], params: ListQueryDep,
               entity: Annotated[str | None, Query(max_length=64)] = None,
               entity_id: Annotated[str | None, Query(max_length=128)] = None,
               actor: Annotated[str | None, Query(max_length=128)] = None) -> Response:
    """Audit rows, newest first, filtered by entity, key and actor; ``code`` is the record's key too, and
    ``q`` finds text in the key or the actor."""
    query = filtered(select(AuditLog), AuditLog, params, AuditLog.entity_id, (AuditLog.entity_id, AuditLog.actor))
    for column, value in ((AuditLog.entity, entity), (AuditLog.entity_id, entity_id), (AuditLog.actor, actor)):
        if value is not None:
            query = query.where(col(column) == value)
    return page(session, query, params, col(AuditLog.id).desc(),
                lambda rows: [AuditLogPublic.model_validate(r) for r in rows])
