"""Rebalance proposals: store a rebalancer result, let an operator approve or reject it, and apply it.

Applying goes move by move through a ``MoveOps`` (the OpenStack driver: live migration, volume
migration). Before each move the cloud is asked where the instance or volume is now: already at the
target counts as done (a re-run after a crash), anywhere but the move's source makes the proposal
``stale`` and stops it. The first failed move stops the proposal as ``failed``; the moves before it
stay done and recorded. Each move writes an event before and after, and the inventory follows each
done move so the next snapshot is right. See ``inventory.models.rebalancing`` for the states.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlmodel import Session, col, select

from drivers.errors import DriverError
from drivers.protocols import MoveOps
from inventory.audit import Actor, record
from inventory.errors import ConflictError, NotFoundError
from inventory.models import (
    AuditAction,
    CloudHost,
    CloudInstance,
    CloudPlatform,
    ProposalEvent,
    ProposalStatus,
    RebalanceProposal,
    StoragePool,
    Volume,
)
from inventory.models.enums import EventStatus, RebalanceGoal
from inventory.models.rebalancing import ProposalEventKind
from scheduler.rebalance import Result


class ProposalError(ConflictError):
    """The proposal is not in a state that allows the action."""


class ProposalNotFoundError(ProposalError, NotFoundError):
    """No proposal with that id."""

    status = 404


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _event(session: Session, proposal: RebalanceProposal, kind: ProposalEventKind,
           status: EventStatus | ProposalStatus, message: str = "", move_index: int | None = None) -> None:
    assert proposal.id is not None
    session.add(ProposalEvent(proposal_id=proposal.id, at=_now(), move_index=move_index, kind=kind, status=status,
                              message=message[:4000]))


def store_proposal(session: Session, platform: str, result: Result, max_load: float, max_moves: int | None,
                   actor: Actor) -> RebalanceProposal:
    """Keep ``result`` (planned on ``platform``'s snapshot) as a proposal awaiting approval."""
    row = session.exec(select(CloudPlatform).where(CloudPlatform.name == platform)).first()
    if row is None or row.id is None:
        raise ProposalNotFoundError(f"no cloud platform {platform!r}")
    proposal = RebalanceProposal(platform_id=row.id, goal=RebalanceGoal(result.goal), max_load=max_load,
                                 max_moves=max_moves, result=result.as_json(), created_at=_now(), created_by=actor.name)
    session.add(proposal)
    session.flush()
    _event(session, proposal, ProposalEventKind.PROPOSED, EventStatus.OK,
           f"{len(result.moves)} move(s) for goal {result.goal}")
    record(session, actor, "rebalance_proposal", str(proposal.id), AuditAction.CREATE, None,
           {"platform": platform, "goal": result.goal, "moves": len(result.moves)})
    session.flush()
    return proposal


def get_proposal(session: Session, proposal_id: int) -> RebalanceProposal:
    proposal = session.get(RebalanceProposal, proposal_id)
    if proposal is None:
        raise ProposalNotFoundError(f"no rebalance proposal {proposal_id}")
    return proposal


def list_proposals(session: Session, status: str | None = None) -> list[RebalanceProposal]:
    query = select(RebalanceProposal).order_by(col(RebalanceProposal.id).desc())
    if status is not None:
        query = query.where(RebalanceProposal.status == status)
    return list(session.exec(query))


def events(session: Session, proposal_id: int) -> list[ProposalEvent]:
    return list(session.exec(select(ProposalEvent).where(ProposalEvent.proposal_id == proposal_id)
                             .order_by(col(ProposalEvent.id))))


def reject(session: Session, proposal_id: int, actor: Actor, reason: str) -> RebalanceProposal:
    """Decline a proposal that has not run."""
    proposal = get_proposal(session, proposal_id)
    if proposal.status != ProposalStatus.PROPOSED:
        raise ProposalError(f"proposal {proposal_id} is {proposal.status}; only a proposed one can be rejected")
    proposal.status, proposal.decided_by, proposal.decided_at = ProposalStatus.REJECTED, actor.name, _now()
    proposal.error = reason
    _event(session, proposal, ProposalEventKind.REJECTED, EventStatus.OK, reason)
    record(session, actor, "rebalance_proposal", str(proposal_id), AuditAction.UPDATE,
           {"status": ProposalStatus.PROPOSED}, {"status": ProposalStatus.REJECTED, "reason": reason})
    session.add(proposal)
    session.commit()
    return proposal


def approve(session: Session, proposal_id: int, actor: Actor) -> RebalanceProposal:
    """Mark a proposal approved (``running``); ``apply`` then carries it out. A ``running`` one (an
    interrupted apply) is accepted as is, so approving again resumes it."""
    proposal = get_proposal(session, proposal_id)
    if proposal.status == ProposalStatus.RUNNING:
        return proposal
    if proposal.status != ProposalStatus.PROPOSED:
        raise ProposalError(f"proposal {proposal_id} is {proposal.status}; only a proposed one can be approved")
    proposal.status, proposal.decided_by, proposal.decided_at = ProposalStatus.RUNNING, actor.name, _now()
    _event(session, proposal, ProposalEventKind.APPROVED, EventStatus.OK, f"by {actor.name}")
    record(session, actor, "rebalance_proposal", str(proposal_id), AuditAction.UPDATE,
           {"status": ProposalStatus.PROPOSED}, {"status": ProposalStatus.RUNNING})
    session.add(proposal)
    session.commit()
    return proposal


def apply(session: Session, proposal_id: int, driver: MoveOps,
          progress: Callable[[int, dict[str, str], str], None] | None = None) -> RebalanceProposal:
    """Carry out an approved proposal from its first move not done; commits after every move."""
    proposal = get_proposal(session, proposal_id)
    if proposal.status != ProposalStatus.RUNNING:
        raise ProposalError(f"proposal {proposal_id} is {proposal.status}; approve it first")
    moves: list[dict[str, str]] = proposal.result.get("moves", [])
    for index in range(proposal.moves_done, len(moves)):
        move = moves[index]
        item = move.get("instance") or move.get("volume") or ""
        _event(session, proposal, ProposalEventKind.MOVE, EventStatus.STARTED, _describe(move), index)
        session.commit()
        try:
            where = driver.server_host(item) if move["kind"] == "live_migrate" else driver.volume_pool(item)
            if where == move["to"]:
                message = f"{item} is already on {move['to']}"
            elif where != move["from"]:
                return _stop(session, proposal, index, ProposalStatus.STALE,
                             f"{item} is on {where}, not {move['from']}: the cloud changed since the proposal; "
                             "plan a new one")
            else:
                if move["kind"] == "live_migrate":
                    driver.live_migrate(item, host=move["to"])
                else:
                    driver.migrate_volume(item, move["to"])
                message = _describe(move)
        except DriverError as exc:
            return _stop(session, proposal, index, ProposalStatus.FAILED, str(exc))
        _follow_in_inventory(session, proposal.platform_id, move)
        proposal.moves_done = index + 1
        _event(session, proposal, ProposalEventKind.MOVE, EventStatus.OK, message, index)
        session.add(proposal)
        session.commit()
        if progress is not None:
            progress(index, move, "ok")
    proposal.status = ProposalStatus.COMPLETED
    _event(session, proposal, ProposalEventKind.FINISHED, EventStatus.OK, f"{len(moves)} move(s) done")
    session.add(proposal)
    session.commit()
    return proposal


def _describe(move: dict[str, str]) -> str:
    item = move.get("instance") or move.get("volume")
    return f"{move['kind']} {item}: {move['from']} → {move['to']}"


def _stop(session: Session, proposal: RebalanceProposal, index: int, status: ProposalStatus,
          message: str) -> RebalanceProposal:
    proposal.status, proposal.error = status, message[:4000]
    outcome = ProposalStatus.STALE if status == ProposalStatus.STALE else EventStatus.FAILED
    _event(session, proposal, ProposalEventKind.MOVE, outcome, message, index)
    _event(session, proposal, ProposalEventKind.FINISHED, status,
           f"stopped at move {index + 1} of {len(proposal.result.get('moves', []))}; {proposal.moves_done} done")
    session.add(proposal)
    session.commit()
    return proposal


def _follow_in_inventory(session: Session, platform_id: int, move: dict[str, str]) -> None:
    """Record a done move on the inventory's copy of the cloud (until the next collection)."""
    if move["kind"] == "live_migrate":
        instance = session.exec(select(CloudInstance).where(CloudInstance.platform_id == platform_id,
                                                            CloudInstance.external_id == move["instance"])).first()
        host = session.exec(select(CloudHost).where(CloudHost.platform_id == platform_id,
                                                    CloudHost.name == move["to"])).first()
        if instance is not None and host is not None:
            instance.host_id = host.id
            session.add(instance)
        return
    pool = session.exec(select(StoragePool).where(StoragePool.platform_id == platform_id,
                                                  StoragePool.name == move["to"])).first()
    volume = session.exec(select(Volume).join(StoragePool, col(StoragePool.id) == Volume.pool_id)
                          .where(StoragePool.platform_id == platform_id,
                                 Volume.external_id == move["volume"])).first()
    if volume is not None and pool is not None and pool.id is not None:
        volume.pool_id = pool.id
        session.add(volume)
