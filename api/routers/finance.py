"""Savings for finance: the report as JSON and as the same xlsx workbook ``shangyun report savings`` writes."""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.auth import COSTS_READ, SessionDep, require
from inventory.settings import get_cost_defaults
from inventory.users import Principal
from migration_plans.finance import SavingsReport, savings_report
from migration_plans.store import PlanNotFoundError, named_or_current

router = APIRouter(prefix="/api/v1/savings", tags=["finance 财务"])
Finance = Annotated[Principal, Depends(require(COSTS_READ))]
PlanQuery = Annotated[str | None, Query(max_length=140, description="NAME or NAME@VERSION (default: newest current)")]


class CostPartOut(BaseModel):
    cny: float
    basis: str


class RoomSavingOut(BaseModel):
    room: str
    name: str
    department: str
    status: str
    parts: dict[str, CostPartOut]
    annual_cost_cny: float
    closes_after_wave: int | None
    closes_on: dt.date | None
    cloud_cost_cny: float
    net_saving_cny: float
    blocked_by: list[str]


class YearOut(BaseModel):
    year: int
    baseline_cny: float
    room_cost_paid_cny: float
    cloud_cost_cny: float
    saving_cny: float
    rooms_closed: list[str]


class SavingsOut(BaseModel):
    plan: str
    rooms: list[RoomSavingOut]
    years: list[YearOut]


def _report(session: SessionDep, plan: str | None) -> SavingsReport:
    try:
        document = named_or_current(session, plan).document
    except PlanNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    return savings_report(session, document, get_cost_defaults())


@router.get("", response_model=SavingsOut)
def get_savings(session: SessionDep, _: Finance, plan: PlanQuery = None) -> SavingsOut:
    """Per room and per fiscal year (a room closed in year N is paid through N)."""
    report = _report(session, plan)
    return SavingsOut(plan=report.plan, years=[YearOut(**vars(y)) for y in report.years], rooms=[
        RoomSavingOut(room=r.code, name=r.name, department=r.department, status=r.status,
                      parts={k: CostPartOut(cny=v, basis=b) for k, (v, b) in r.parts.items()},
                      annual_cost_cny=r.annual_cost_cny, closes_after_wave=r.closes_after_wave, closes_on=r.closes_on,
                      cloud_cost_cny=r.cloud_cost_cny, net_saving_cny=r.net_saving_cny, blocked_by=r.blocked_by)
        for r in report.rooms])


@router.get("/xlsx", response_class=StreamingResponse,
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def download_savings(session: SessionDep, _: Finance, plan: PlanQuery = None) -> StreamingResponse:
    """The savings workbook (rooms and fiscal years), as ``shangyun report savings --xlsx`` writes it."""
    from migration_plans.export import finance_workbook

    report = _report(session, plan)
    buffer = io.BytesIO()
    finance_workbook(report, buffer)
    buffer.seek(0)
    return StreamingResponse(buffer, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             headers={"Content-Disposition": f'attachment; filename="savings-{report.plan}.xlsx"'})
