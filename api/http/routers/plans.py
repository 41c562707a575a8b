"""Migration plans (versions, the FORMATS.md §4 document, items) and migration runs with their event log,
also as a server-sent event stream for live progress."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from api.http.auth import PLANS_READ, require
from api.http.deps import SessionDep
from api.http.routers.common import MAX_ID, Id, ListQueryDep, Offset, Page, filtered, not_found, page
from inventory.db import get_engine
from inventory.errors import NotFoundError
from inventory.models import BusinessSystem, MigrationRun, Plan, PlanItem, PlanWave, RunEvent, RunItem
from inventory.models.enums import NetworkZone
from inventory.models.plans import PlanItemPublic, PlanPublic
from inventory.models.runs import MigrationRunPublic, RunEventPublic, RunStatus
from inventory.users import Principal

router = APIRouter(prefix="/api/v1", tags=["plans 迁移计划"])
Reader = Annotated[Principal, Depends(require(PLANS_READ))]


def _summaries(session: Session, plans: Sequence[Plan]) -> list[PlanPublic]:
    ids = [p.id for p in plans]
    waves = {i: n for i, n in session.execute(select(PlanWave.plan_id, sa.func.count())
                                              .where(col(PlanWave.plan_id).in_(ids)).group_by(col(PlanWave.plan_id)))}
    return [PlanPublic.model_validate(p, update={"waves": waves.get(p.id or 0, 0)}) for p in plans]


@router.get("/plans", response_model=Page[PlanPublic])
def list_plans(session: SessionDep, _: Reader, params: ListQueryDep) -> Response:
    """Plans and their versions, newest first; ``code`` is a plan's name, ``q`` finds text in the name or
    who made it."""
    query = filtered(select(Plan).options(defer(Plan.document)), Plan, params, Plan.name,  # type: ignore[arg-type]
                     (Plan.name, Plan.created_by))
    return page(session, query, params, (col(Plan.created_at).desc(), col(Plan.id).desc()),
                lambda plans: _summaries(session, plans))


@router.get("/plans/{plan_id}")
def get_plan(plan_id: Id, session: SessionDep, _: Reader) -> dict[str, Any]:
    """The plan's FORMATS.md §4 document."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise not_found("plan", plan_id)
    return plan.document


@router.get("/plans/{plan_id}/items", response_model=Page[PlanItemPublic])
def list_plan_items(plan_id: Id, session: SessionDep, _: Reader, params: ListQueryDep,
                    wave: Annotated[int | None, Query(ge=1, le=10_000)] = None,
                    status: str | None = None,
                    zone: Annotated[NetworkZone | None, Query(description="only items going to this zone")] = None
                    ) -> Response:
    """The plan's items by system code, filtered by wave, status and the network zone they go to; ``code``
    is a system's code, ``q`` finds text in the system's code or name."""
    if session.get(Plan, plan_id) is None:
        raise not_found("plan", plan_id)
    waves = {i: index for i, index in session.execute(select(PlanWave.id, PlanWave.index)
                                                        .where(PlanWave.plan_id == plan_id))}
    query = filtered(select(PlanItem, BusinessSystem.code).join(BusinessSystem, col(BusinessSystem.id) ==
                                                                PlanItem.system_id),
                     PlanItem, params, BusinessSystem.code, (BusinessSystem.code, BusinessSystem.name))
    query = query.where(col(PlanItem.plan_id) == plan_id)
    if status is not None:
        query = query.where(col(PlanItem.status) == status)
    if zone is not None:
        query = query.where(col(PlanItem.zone) == zone.value)
    if wave is not None:
        query = query.where(col(PlanItem.wave_id).in_([i for i, index in waves.items() if index == wave]))
    return page(session, query, params, col(BusinessSystem.code), lambda rows: [
        PlanItemPublic.model_validate(i, update={"system": c, "wave": waves.get(i.wave_id)}) for i, c in rows])


def _runs_out(session: Session, runs: Sequence[MigrationRun]) -> list[MigrationRunPublic]:
    ids = [r.id for r in runs]
    plans = {i: f"{name}@{version}" for i, name, version in session.execute(
        select(Plan.id, Plan.name, Plan.version).where(col(Plan.id).in_({r.plan_id for r in runs})))}
    states: dict[int, dict[str, int]] = {}
    for run_id, state, n in session.execute(select(RunItem.run_id, RunItem.state, sa.func.count())
                                            .where(col(RunItem.run_id).in_(ids))
                                            .group_by(col(RunItem.run_id), col(RunItem.state))):
        states.setdefault(run_id, {})[state] = n
    return [MigrationRunPublic.model_validate(r, update={"plan": plans.get(r.plan_id, "?"), "wave": r.wave_index,
                                                         "items": states.get(r.id or 0, {})}) for r in runs]


@router.get("/runs", response_model=Page[MigrationRunPublic])
def list_runs(session: SessionDep, _: Reader, params: ListQueryDep,
              status: str | None = None) -> Response:
    """Migration runs, newest first, with their items' states; ``code`` is a plan's name, ``q`` finds text
    in who started them."""
    query = filtered(select(MigrationRun), MigrationRun, params,
                     lambda name: col(MigrationRun.plan_id).in_(select(Plan.id).where(col(Plan.name) == name)),
                     (MigrationRun.started_by,))
    if status is not None:
        query = query.where(col(MigrationRun.status) == status)
    return page(session, query, params, col(MigrationRun.id).desc(), lambda runs: _runs_out(session, runs))


@router.get("/runs/{run_id}", response_model=MigrationRunPublic)
def get_run(run_id: Id, session: SessionDep, _: Reader) -> MigrationRunPublic:
    """One migration run with its items' states."""
    run = session.get(MigrationRun, run_id)
    if run is None:
        raise not_found("run", run_id)
    return _runs_out(session, [run])[0]


def _events_after(session: Session, run_id: int, after: int, limit: int) -> list[RunEventPublic]:
    rows = session.exec(select(RunEvent, BusinessSystem.code).join(RunItem, col(RunItem.id) == RunEvent.item_id)
                        .join(BusinessSystem, col(BusinessSystem.id) == RunItem.system_id)
                        .where(RunEvent.run_id == run_id, col(RunEvent.id) > after)
                        .order_by(col(RunEvent.id)).limit(limit)).all()
    return [RunEventPublic.model_validate(e, update={"system": code}) for e, code in rows]


@router.get("/runs/{run_id}/events", response_model=list[RunEventPublic])
def list_run_events(run_id: Id, session: SessionDep, _: Reader, after: Offset = 0,
                    limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[RunEventPublic]:
    """The run's events in order; ``after`` an event id for the next page."""
    if session.get(MigrationRun, run_id) is None:
        raise not_found("run", run_id)
    return _events_after(session, run_id, after, limit)


def _run_status(run_id: int) -> str | None:
    with Session(get_engine()) as session:
        run = session.get(MigrationRun, run_id)
        return None if run is None else run.status


def _next_events(run_id: int, after: int) -> tuple[list[RunEventPublic], str | None]:
    """The run's next events after ``after`` and its status (read after them, so none is missed)."""
    with Session(get_engine()) as session:
        batch = _events_after(session, run_id, after, 500)
        run = session.get(MigrationRun, run_id)
        return batch, None if run is None else run.status


@router.get("/runs/{run_id}/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream_run_events(
        run_id: Id, request: Request, _: Reader,
        last_event_id: Annotated[int, Query(ge=0, le=MAX_ID, alias="after")] = 0) -> StreamingResponse:
    """Server-sent events: every event of the run as it is written (``id:`` is the event id, so a client
    reconnects with ``Last-Event-ID`` or ``?after=``); a final ``end`` event when the run has settled."""
    if await run_in_threadpool(_run_status, run_id) is None:
        raise NotFoundError(what="run", key=run_id)
    header = request.headers.get("last-event-id", "")
    start = int(header) if header.isdigit() else last_event_id

    async def events() -> AsyncIterator[str]:
        after = start
        while not await request.is_disconnected():
            batch, status = await run_in_threadpool(_next_events, run_id, after)
            settled = status != RunStatus.RUNNING
            for event in batch:
                after = event.id
                data = json.dumps(event.model_dump(mode="json"), ensure_ascii=False)
                yield f"id: {event.id}\nevent: step\ndata: {data}\n\n"
            if settled and not batch:
                yield f"event: end\ndata: {json.dumps({'run': run_id, 'status': status})}\n\n"
                return
            await asyncio.sleep(1.0)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
