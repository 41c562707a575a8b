"""Migration plans (versions, the FORMATS.md §4 document, items) and migration runs with their event log,
also as a server-sent event stream for live progress."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlmodel import Session, col, select

from api.auth import PLANS_READ, SessionDep, require
from api.routers.common import MAX_ID, Id, Offset, Page, not_found
from inventory.db import get_engine
from inventory.models import BusinessSystem, MigrationRun, Plan, PlanItem, PlanWave, RunEvent, RunItem
from inventory.users import Principal

router = APIRouter(prefix="/api/v1", tags=["plans 迁移计划"])
Reader = Annotated[Principal, Depends(require(PLANS_READ))]


class PlanSummary(BaseModel):
    id: int
    name: str
    version: int
    status: str
    created_at: dt.datetime
    created_by: str
    start: dt.date
    waves: int
    objective_cny: float
    upper_bound_cny: float


class PlanItemOut(BaseModel):
    id: int
    system: str
    wave: int | None
    strategy: str
    status: str
    target: dict[str, Any] | None
    reason_zh: str
    reason_en: str


class RunOut(BaseModel):
    id: int
    plan: str
    wave: int
    status: str
    dry_run: bool
    started_at: dt.datetime
    finished_at: dt.datetime | None
    started_by: str
    items: dict[str, int]  # state → count


class RunEventOut(BaseModel):
    id: int
    item_id: int
    system: str
    at: dt.datetime
    step: str
    phase: str
    status: str
    payload: dict[str, Any] | None


def _summary(session: Session, plan: Plan) -> PlanSummary:
    waves = len(session.exec(select(PlanWave.id).where(PlanWave.plan_id == plan.id)).all())
    return PlanSummary(id=plan.id or 0, name=plan.name, version=plan.version, status=plan.status,
                       created_at=plan.created_at, created_by=plan.created_by, start=plan.start, waves=waves,
                       objective_cny=plan.objective_cny, upper_bound_cny=plan.upper_bound_cny)


@router.get("/plans", response_model=Page[PlanSummary])
def list_plans(session: SessionDep, _: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Offset = 0) -> Page[PlanSummary]:
    """Plans and their versions, newest first."""
    plans = session.exec(select(Plan).order_by(col(Plan.created_at).desc(), col(Plan.id).desc())).all()
    return Page(items=[_summary(session, p) for p in plans[offset:offset + limit]], total=len(plans), limit=limit,
                offset=offset)


@router.get("/plans/{plan_id}")
def get_plan(plan_id: Id, session: SessionDep, _: Reader) -> dict[str, Any]:
    """The plan's FORMATS.md §4 document."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise not_found("plan", plan_id)
    return plan.document


@router.get("/plans/{plan_id}/items", response_model=Page[PlanItemOut])
def list_plan_items(plan_id: Id, session: SessionDep, _: Reader,
                    wave: Annotated[int | None, Query(ge=1, le=10_000)] = None, status: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Offset = 0) -> Page[PlanItemOut]:
    """The plan's items, filtered by wave and status."""
    if session.get(Plan, plan_id) is None:
        raise not_found("plan", plan_id)
    waves = {w.id: w.index for w in session.exec(select(PlanWave).where(PlanWave.plan_id == plan_id))}
    query = select(PlanItem, BusinessSystem.code).join(BusinessSystem, col(BusinessSystem.id) == PlanItem.system_id) \
        .where(PlanItem.plan_id == plan_id).order_by(col(BusinessSystem.code))
    if status is not None:
        query = query.where(PlanItem.status == status)
    rows = [(i, c) for i, c in session.exec(query) if wave is None or waves.get(i.wave_id) == wave]
    return Page(items=[PlanItemOut(id=i.id or 0, system=c, wave=waves.get(i.wave_id), strategy=i.strategy,
                                   status=i.status, target=i.target, reason_zh=i.reason_zh, reason_en=i.reason_en)
                       for i, c in rows[offset:offset + limit]], total=len(rows), limit=limit, offset=offset)


def _run_out(session: Session, run: MigrationRun) -> RunOut:
    plan = session.get(Plan, run.plan_id)
    states: dict[str, int] = {}
    for state in session.exec(select(RunItem.state).where(RunItem.run_id == run.id)):
        states[state] = states.get(state, 0) + 1
    return RunOut(id=run.id or 0, plan=f"{plan.name}@{plan.version}" if plan else "?", wave=run.wave_index,
                  status=run.status, dry_run=run.dry_run, started_at=run.started_at, finished_at=run.finished_at,
                  started_by=run.started_by, items=states)


@router.get("/runs", response_model=Page[RunOut])
def list_runs(session: SessionDep, _: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 50,
              offset: Offset = 0) -> Page[RunOut]:
    """Migration runs, newest first, with their items' states."""
    runs = session.exec(select(MigrationRun).order_by(col(MigrationRun.id).desc())).all()
    return Page(items=[_run_out(session, r) for r in runs[offset:offset + limit]], total=len(runs), limit=limit,
                offset=offset)


@router.get("/runs/{run_id}", response_model=RunOut)
def get_run(run_id: Id, session: SessionDep, _: Reader) -> RunOut:
    run = session.get(MigrationRun, run_id)
    if run is None:
        raise not_found("run", run_id)
    return _run_out(session, run)


def _events_after(session: Session, run_id: int, after: int, limit: int) -> list[RunEventOut]:
    rows = session.exec(select(RunEvent, BusinessSystem.code).join(RunItem, col(RunItem.id) == RunEvent.item_id)
                        .join(BusinessSystem, col(BusinessSystem.id) == RunItem.system_id)
                        .where(RunEvent.run_id == run_id, col(RunEvent.id) > after)
                        .order_by(col(RunEvent.id)).limit(limit)).all()
    return [RunEventOut(id=e.id or 0, item_id=e.item_id, system=code, at=e.at, step=e.step, phase=e.phase,
                        status=e.status, payload=e.payload) for e, code in rows]


@router.get("/runs/{run_id}/events", response_model=list[RunEventOut])
def list_run_events(run_id: Id, session: SessionDep, _: Reader, after: Offset = 0,
                    limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[RunEventOut]:
    """The run's events in order; ``after`` an event id for the next page."""
    if session.get(MigrationRun, run_id) is None:
        raise not_found("run", run_id)
    return _events_after(session, run_id, after, limit)


@router.get("/runs/{run_id}/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream_run_events(
        run_id: Id, request: Request, _: Reader,
        last_event_id: Annotated[int, Query(ge=0, le=MAX_ID, alias="after")] = 0) -> StreamingResponse:
    """Server-sent events: every event of the run as it is written (``id:`` is the event id, so a client
    reconnects with ``Last-Event-ID`` or ``?after=``); a final ``end`` event when the run has settled."""
    with Session(get_engine()) as session:
        if session.get(MigrationRun, run_id) is None:
            raise HTTPException(404, f"no run {run_id}")
    header = request.headers.get("last-event-id", "")
    start = int(header) if header.isdigit() else last_event_id

    async def events() -> AsyncIterator[str]:
        after = start
        while not await request.is_disconnected():
            with Session(get_engine()) as session:
                batch = _events_after(session, run_id, after, 500)
                run = session.get(MigrationRun, run_id)
                settled = run is not None and run.status != "running"
            for event in batch:
                after = event.id
                data = json.dumps(event.model_dump(mode="json"), ensure_ascii=False)
                yield f"id: {event.id}\nevent: step\ndata: {data}\n\n"
            if settled and not batch:
                yield f"event: end\ndata: {json.dumps({'run': run_id, 'status': run.status if run else None})}\n\n"
                return
            await asyncio.sleep(1.0)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
