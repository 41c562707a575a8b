"""Capacity requests: departments ask, admission decides at once (approved / queued / rejected with the
reason); operators see the queue, overdue requests and re-decide the queue."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field
from sqlmodel import col, select

from api.http.auth import REQUESTS_DECIDE, REQUESTS_READ, REQUESTS_WRITE, require, scope_department
from api.http.deps import SessionDep
from api.http.routers.common import Id, ListQueryDep, Page, StrictBody, filtered, not_found, page
from inventory import clock
from inventory.audit import Actor
from inventory.errors import PermissionDenied
from inventory.models import CapacityRequest, CloudPlatform, Department
from inventory.models.cloud import CapacityRequestPublic
from inventory.settings import get_scheduler_settings
from inventory.users import Principal
from scheduler.requests import (
    ForSystem,
    QuotaRaiser,
    RequestRow,
    raise_quota_with,
    request_rows,
    requests_query,
    review_queued,
    submit,
)

router = APIRouter(prefix="/api/v1/capacity-requests", tags=["capacity 容量申请"])


class RequestIn(StrictBody):
    department_code: str = Field(min_length=1, max_length=64)
    platform: str = Field(min_length=1, max_length=128)
    vcpus: int = Field(0, ge=0, le=100_000)
    memory_gb: float = Field(0.0, ge=0, le=10_000_000)
    storage_gb: float = Field(0.0, ge=0, le=100_000_000)
    purpose: str = Field(min_length=1, max_length=500)
    system: str | None = Field(None, min_length=1, max_length=64, description="the system the capacity is for "
                               "(its MLPS level and classification come from the inventory)")
    mlps_level: int | None = Field(None, ge=1, le=4, description="required without a system: the MLPS level it needs")
    classified: bool | None = Field(None, description="required without a system: whether it is classified (涉密)")


def _out(row: RequestRow) -> CapacityRequestPublic:
    zh, _, en = (row.request.reason or "").partition(" / ")  # stored as "中文 / English"
    return CapacityRequestPublic.model_validate(row.request, update={
        "department_code": row.department, "platform": row.platform, "system_code": row.system, "reason_zh": zh or None,
        "reason_en": en or zh or None, "due": row.due, "overdue": row.overdue})


@router.get("", response_model=Page[CapacityRequestPublic])
def list_capacity_requests(
    session: SessionDep, principal: Annotated[Principal, Depends(require(REQUESTS_READ))], params: ListQueryDep,
    status: Annotated[str | None, Query(description="approved | queued | rejected | pending")] = None,
    overdue: Annotated[bool, Query(description="only those past their 5-working-day due date")] = False,
) -> Response:
    """Requests, newest first (a department user: its own); ``code`` is a department's code, ``q`` finds
    text in the purpose, the department's code or the platform's name."""
    today = clock.today()
    query = filtered(requests_query(scope_department(principal), today if overdue else None), CapacityRequest,
                     params, Department.code, (CapacityRequest.purpose, Department.code, CloudPlatform.name))
    if status is not None:
        query = query.where(col(CapacityRequest.status) == status)
    return page(session, query, params, (col(CapacityRequest.requested_at).desc(), col(CapacityRequest.id).desc()),
                lambda rows: [_out(r) for r in request_rows(rows, today)])


@router.get("/{request_id}", response_model=CapacityRequestPublic)
def get_capacity_request(request_id: Id, session: SessionDep,
                         principal: Annotated[Principal, Depends(require(REQUESTS_READ))]) -> CapacityRequestPublic:
    """One capacity request with its answer and due date (a department user: its own)."""
    query = requests_query(scope_department(principal)).where(col(CapacityRequest.id) == request_id)
    if (row := session.execute(query).first()) is None:
        raise not_found("capacity request", request_id)
    return _out(request_rows([row], clock.today())[0])


@router.post("", response_model=CapacityRequestPublic, status_code=201)
def create_capacity_request(body: RequestIn, session: SessionDep,
                            principal: Annotated[Principal, Depends(require(REQUESTS_WRITE))]
                            ) -> CapacityRequestPublic:
    """Ask for capacity; the answer (approved / queued / rejected with the reason) comes at once."""
    own = scope_department(principal)
    if own is not None:
        department = session.exec(select(Department).where(Department.code == body.department_code)).first()
        if department is None or department.id != own:
            raise PermissionDenied("a department user asks only for its own department", field="department_code",
                                   status=403)
    now = dt.datetime.now(dt.UTC)
    amount = {"vcpus": float(body.vcpus), "memory_gb": body.memory_gb, "storage_gb": body.storage_gb}
    request, _ = submit(session, body.department_code, body.platform, amount, body.purpose,
                        Actor(f"api:{principal.username}"), now, _raiser(),
                        ForSystem(body.system, body.mlps_level, body.classified))
    session.commit()
    return get_capacity_request(request.id or 0, session, principal)


@router.post("/review", response_model=list[CapacityRequestPublic])
def review_capacity_queue(session: SessionDep, principal: Annotated[Principal, Depends(require(REQUESTS_DECIDE))]
                          ) -> list[CapacityRequestPublic]:
    """Decide the queued requests again (e.g. after an expansion); returns those decided."""
    changed = review_queued(session, Actor(f"api:{principal.username}"), dt.datetime.now(dt.UTC), _raiser())
    session.commit()
    query = requests_query(scope_department(principal)).where(col(CapacityRequest.id).in_([i for i, _ in changed]))
    rows = session.execute(query.order_by(col(CapacityRequest.requested_at), col(CapacityRequest.id)))
    return [_out(r) for r in request_rows(rows, clock.today())]


def _raiser() -> QuotaRaiser | None:
    """Approvals raise quotas on the cloud named by ``SHANGYUN_SCHEDULER_QUOTA_CLOUD`` (else: recorded only)."""
    return raise_quota_with(get_scheduler_settings().quota_cloud)


