"""Savings for finance: the plan's savings model as JSON (万元) and as the same xlsx workbook
``shangyun report savings --xlsx`` writes."""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.http.auth import COSTS_READ, require
from api.http.deps import SessionDep
from api.http.routers.common import XLSX, attachment, from_object
from inventory.users import Principal
from migration_plans.finance import SavingsReport, savings_report
from migration_plans.store import named_or_current

router = APIRouter(prefix="/api/v1/savings", tags=["finance 财务"])
Finance = Annotated[Principal, Depends(require(COSTS_READ))]
PlanQuery = Annotated[str | None, Query(max_length=140, description="NAME or NAME@VERSION (default: newest current)")]
WAN = "万元 (10,000 CNY)"


class RoomCostPartOut(BaseModel):
    wan: float = Field(description=f"{WAN} per year")
    basis: str = Field(description="data: the room's own figure; default: a placeholder")


class FiscalYearOut(BaseModel):
    year: int
    baseline_wan: float = Field(description=f"{WAN}: every planned room's annual cost plus the hardware refresh "
                                "of servers past depreciation, without the plan")
    room_cost_paid_wan: float = Field(description=f"{WAN}: rooms still paid (a room closed in year N is paid "
                                      "through N), less the energy and upkeep of servers that left, plus lines "
                                      "still under contract")
    lines_carried_wan: float = Field(description=f"{WAN}: the part of room cost paid for closed rooms' leased lines")
    refresh_due_wan: float = Field(description=f"{WAN}: hardware refresh of servers past depreciation still in use")
    cloud_cost_wan: float = Field(description=f"{WAN}: cloud items from the month after their wave")
    hosting_cost_wan: float = Field(description=f"{WAN}: relocated hardware in the cloud data centre, or carried "
                                    "to the intranet's room")
    net_saving_wan: float = Field(description=f"{WAN}: baseline − room cost paid − refresh due − cloud − hosting")
    rooms_closed: list[str] = Field(description="rooms closing this year (they stop costing from the next)")


class RoomSavingOut(BaseModel):
    """A room's part of the savings (``migration_plans.planning.savings.RoomSaving``)."""

    room: str
    name: str
    department: str
    status: str = Field(description="the room's status now (decommissioning/closed: emptied for real)")
    parts: dict[str, RoomCostPartOut]
    annual_cost_wan: float = Field(description=f"{WAN} per year, as the plan costed it")
    closes_after_wave: int | None
    closes_on: dt.date | None
    stops_costing_from: int | None = Field(description="fiscal year from which the room is no longer paid")
    lines_paid_until: dt.date | None = Field(description="after closing, leased lines under contract until")
    lines_note: str
    cloud_cost_wan: float = Field(description=f"{WAN} per year: cloud cost of the systems leaving it")
    servers_leaving: int
    blocked_by: list[str]


class SavingsOut(BaseModel):
    plan: str = Field(description="NAME@VERSION")
    unit: str = Field(description="every money figure: 万元 (10,000 CNY)")
    headline: str
    total_net_wan: float = Field(description=f"{WAN}: net saving over the fiscal years shown")
    steady_state_net_wan: float = Field(description=f"{WAN}: net saving of the last year shown (the first full "
                                        "year after the last wave)")
    years: list[FiscalYearOut]
    rooms: list[RoomSavingOut]
    assumptions: list[str] = Field(description="defaults the figures rest on, in the language asked for")
    warnings: list[str]


def _report(session: SessionDep, plan: str | None) -> SavingsReport:
    return savings_report(session, named_or_current(session, plan))


@router.get("", response_model=SavingsOut)
def get_savings(session: SessionDep, _: Finance, plan: PlanQuery = None,
                lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh") -> SavingsOut:
    """The plan's savings in 万元: per fiscal year (a room closed in year N is paid through N) and per room."""
    report = _report(session, plan)
    model = report.model
    return SavingsOut(
        plan=report.plan, unit=model.unit, headline=model.headline(lang), total_net_wan=model.total_net_wan,
        steady_state_net_wan=model.steady_state.net_saving_wan,
        years=[from_object(FiscalYearOut, y) for y in model.years],
        rooms=[from_object(RoomSavingOut, r, status=report.status.get(r.room, ""),
                           parts={k: RoomCostPartOut(wan=v, basis=b) for k, (v, b) in r.parts.items()},
                           lines_note=r.lines_note_zh if lang == "zh" else r.lines_note_en) for r in model.rooms],
        assumptions=model.assumptions_zh if lang == "zh" else model.assumptions,
        warnings=model.warnings_zh if lang == "zh" else model.warnings)


@router.get("/xlsx", response_class=StreamingResponse,
            responses={200: {"content": {XLSX: {}}}})
def download_savings(session: SessionDep, _: Finance, plan: PlanQuery = None) -> StreamingResponse:
    """The savings workbook (fiscal years, rooms, assumptions, in 万元), as ``shangyun report savings --xlsx``."""
    from migration_plans.export import finance_workbook

    report = _report(session, plan)
    buffer = io.BytesIO()
    finance_workbook(report.model, report.status, buffer)
    buffer.seek(0)
    name = report.plan.replace("@", "-")
    return StreamingResponse(buffer, media_type=XLSX,
                             headers=attachment(f"savings-{name}.xlsx"))
