"""The cloud as one pool: platforms with allocation and use, capacity forecasts, rebalance proposals
(approve or reject; an approved one is applied in the background with its event log)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from api.http.auth import CLOUD_READ, CLOUD_WRITE, DASHBOARD, require
from api.http.deps import SessionDep
from api.http.routers.common import Id, ListQueryDep, Page, StrictBody, filtered, not_found, page
from inventory import clock
from inventory.audit import Actor
from inventory.capacity import allocated, allocation_ratios, overcommit, use_ratios, used
from inventory.db import get_engine
from inventory.errors import ConflictError
from inventory.models import CloudPlatform, ProposalEvent, ProposalStatus, RebalanceProposal
from inventory.models.cloud import CloudPlatformPublic
from inventory.models.rebalancing import ProposalEventPublic, RebalanceProposalDetail, RebalanceProposalPublic
from inventory.settings import get_scheduler_settings
from inventory.users import Principal

router = APIRouter(prefix="/api/v1", tags=["cloud 云资源"])


class SeriesOut(BaseModel):
    """One forecast series (``scheduler.forecast.ResourceForecast``), read from its attributes."""

    model_config = ConfigDict(from_attributes=True)
    resource: str
    measure: str = Field(description="allocation | usage")
    capacity: float = Field(description="today")
    capacity_at_horizon: float = Field(description="with the planned expansions in service by the horizon")
    now: float = Field(validation_alias="allocated_now")
    share_now: float
    trend_per_day: float
    share_at_horizon: float
    reaches: dict[str, dt.date | None] = Field(validation_alias="crossing",
                                                description='"75%" / "90%" → first day at or above it')
    days_until: dict[str, int | None]


class ExpansionOut(BaseModel):
    """A planned expansion as the forecast counts it (``scheduler.forecast.PlannedAddition``)."""

    model_config = ConfigDict(from_attributes=True)
    day: dt.date = Field(description="in service from")
    amount: dict[str, float] = Field(description="per series: allocation (vCPUs × overcommit) and physical")


class ForecastOut(BaseModel):
    """A platform's forecast (``scheduler.forecast.PlatformForecast``), read from its attributes."""

    model_config = ConfigDict(from_attributes=True)
    platform: str
    model: str
    horizon_days: int
    expansion_hosts: int = Field(description="hosts to add beyond the planned expansions")
    series: list[SeriesOut] = Field(validation_alias="resources")
    expansions: list[ExpansionOut] = Field(description="planned expansions (扩容计划) within the horizon")


class RejectIn(StrictBody):
    reason: str = Field(min_length=1, max_length=1000)


@router.get("/platforms", response_model=list[CloudPlatformPublic])
def list_platforms(session: SessionDep,
                   _: Annotated[Principal, Depends(require(DASHBOARD))]) -> list[CloudPlatformPublic]:
    """Cloud platforms with capacity, allocation and measured use."""
    return [CloudPlatformPublic.model_validate(p, update={
        "cpu_ratio": overcommit(p.cpu_ratio), "allocated": allocated(p), "used": used(p),
        "allocation_ratio": allocation_ratios(p), "use_ratio": use_ratios(p)})
        for p in session.exec(select(CloudPlatform).order_by(col(CloudPlatform.name)))]


@router.get("/forecasts", response_model=list[ForecastOut])
def list_forecasts(session: SessionDep, _: Annotated[Principal, Depends(require(DASHBOARD))],
                   horizon: Annotated[int, Query(ge=7, le=3650, description="days ahead")] = 730,
                   platform: str | None = None) -> list[ForecastOut]:
    """Per platform: when allocation and measured use cross 75% and 90%, and hosts to add (figures up to
    15 s old)."""
    from api.http.routers.dashboard import FIGURES

    found: list[ForecastOut] = FIGURES.get(("forecasts", horizon, platform),
                                           lambda: _forecasts(session, horizon, platform))
    return found


def _forecasts(session: Session, horizon: int, platform: str | None) -> list[ForecastOut]:
    from scheduler.forecast_data import platform_forecasts
    from scheduler.room_data import newest_current_plan

    forecasts = platform_forecasts(session, newest_current_plan(session), clock.today(), horizon, platform)
    return [ForecastOut.model_validate(f) for f in forecasts]


def _proposal_out(p: RebalanceProposal, names: dict[int, str]) -> RebalanceProposalPublic:
    return RebalanceProposalPublic.model_validate(p, update=_proposal_figures(p, names))


def _proposal_figures(p: RebalanceProposal, names: dict[int, str]) -> dict[str, Any]:
    """What a proposal's public shape adds to its row: the platform's name and the result's summary."""
    return {"platform": names.get(p.platform_id, "?"), "moves": len(p.result.get("moves", [])),
            "before": p.result.get("before", {}), "after": p.result.get("after", {})}


def _names(session: Session) -> dict[int, str]:
    return {p.id: p.name for p in session.exec(select(CloudPlatform)) if p.id is not None}


@router.get("/rebalance-proposals", response_model=Page[RebalanceProposalPublic])
def list_proposals(session: SessionDep, _: Annotated[Principal, Depends(require(CLOUD_READ))],
                   params: ListQueryDep, status: str | None = None) -> Response:
    """Rebalance proposals, newest first; ``code`` is a platform's name, ``q`` finds text in the platform's
    name, the goal or who proposed it."""
    query = filtered(select(RebalanceProposal, CloudPlatform.name).join(
        CloudPlatform, col(CloudPlatform.id) == RebalanceProposal.platform_id), RebalanceProposal, params,
        CloudPlatform.name, (CloudPlatform.name, RebalanceProposal.goal, RebalanceProposal.created_by))
    if status is not None:
        query = query.where(col(RebalanceProposal.status) == status)
    return page(session, query, params, col(RebalanceProposal.id).desc(),
                lambda rows: [_proposal_out(p, {p.platform_id: name}) for p, name in rows])


@router.get("/rebalance-proposals/{proposal_id}", response_model=RebalanceProposalDetail)
def get_proposal(proposal_id: Id, session: SessionDep,
                 _: Annotated[Principal, Depends(require(CLOUD_READ))]) -> RebalanceProposalDetail:
    """One proposal with its moves (FORMATS.md §3) and event log."""
    proposal = session.get(RebalanceProposal, proposal_id)
    if proposal is None:
        raise not_found("rebalance proposal", proposal_id)
    events = session.exec(select(ProposalEvent).where(ProposalEvent.proposal_id == proposal_id)
                          .order_by(col(ProposalEvent.id))).all()
    return RebalanceProposalDetail.model_validate(proposal, update=_proposal_figures(proposal, _names(session)) | {
        "events": [ProposalEventPublic.model_validate(e) for e in events]})


@router.post("/rebalance-proposals/{proposal_id}/reject", response_model=RebalanceProposalPublic)
def reject_proposal(proposal_id: Id, body: RejectIn, session: SessionDep,
                    principal: Annotated[Principal, Depends(require(CLOUD_WRITE))]) -> RebalanceProposalPublic:
    """Decline a proposed rebalance with the reason; nothing runs."""
    from scheduler.proposals import reject

    proposal = reject(session, proposal_id, Actor(f"api:{principal.username}"), body.reason)
    return _proposal_out(proposal, _names(session))


@router.post("/rebalance-proposals/{proposal_id}/approve", response_model=RebalanceProposalPublic, status_code=202)
def approve_proposal(proposal_id: Id, session: SessionDep, background: BackgroundTasks,
                     principal: Annotated[Principal, Depends(require(CLOUD_WRITE))]) -> RebalanceProposalPublic:
    """Approve and apply in the background on the platform's cloud (a clouds.yaml cloud of the same name
    listed in ``SHANGYUN_SCHEDULER_OPENSTACK_CLOUDS``); follow it at ``GET …/{id}``."""
    from scheduler.proposals import approve

    proposal = session.get(RebalanceProposal, proposal_id)
    if proposal is None:
        raise not_found("rebalance proposal", proposal_id)
    platform = _names(session).get(proposal.platform_id, "?")
    if platform not in get_scheduler_settings().openstack_clouds:
        raise ConflictError(f"no cloud configured for platform {platform!r}: add it to "
                            "SHANGYUN_SCHEDULER_OPENSTACK_CLOUDS (or approve with `shangyun schedule approve`)")
    proposal = approve(session, proposal_id, Actor(f"api:{principal.username}"))
    background.add_task(_apply, proposal_id, platform)
    return _proposal_out(proposal, _names(session))


def _apply(proposal_id: int, cloud: str) -> None:
    from drivers.errors import DriverError
    from drivers.openstack import OpenStackDriver
    from scheduler.proposals import apply

    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            apply(session, proposal_id, OpenStackDriver.connect(cloud))
        except DriverError as exc:  # could not even connect: record it on the proposal
            proposal = session.get(RebalanceProposal, proposal_id)
            if proposal is not None:
                proposal.status, proposal.error = ProposalStatus.FAILED, str(exc)
                session.add(proposal)
                session.commit()



