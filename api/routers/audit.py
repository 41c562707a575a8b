"""The audit log (档案库): every change, who made it and when, newest first."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlmodel import col, select

from api.auth import AUDIT_READ, SessionDep, require
from api.routers.common import Offset, Page
from inventory.models import AuditLog
from inventory.users import Principal

router = APIRouter(prefix="/api/v1/audit", tags=["audit 档案库"])


class AuditOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    request_id: str | None
    entity: str
    entity_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@router.get("", response_model=Page[AuditOut])
def list_audit(session: SessionDep, _: Annotated[Principal, Depends(require(AUDIT_READ))],
               entity: Annotated[str | None, Query(max_length=64)] = None,
               entity_id: Annotated[str | None, Query(max_length=128)] = None,
               actor: Annotated[str | None, Query(max_length=128)] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Offset = 0) -> Page[AuditOut]:
    """Audit rows filtered by entity, key and actor."""
    query = select(AuditLog)
    for column, value in ((AuditLog.entity, entity), (AuditLog.entity_id, entity_id), (AuditLog.actor, actor)):
        if value is not None:
            query = query.where(column == value)
    total = session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = session.exec(query.order_by(col(AuditLog.id).desc()).limit(limit).offset(offset)).all()
    return Page(items=[AuditOut(**r.model_dump()) for r in rows], total=int(total), limit=limit, offset=offset)
