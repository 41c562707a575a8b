"""The scheduler's jobs. Each opens its own session, writes a ``JobRun`` row (runner, start, end, status,
summary) and never raises: a failed job is recorded and logged, and the next run tries again.

collect          the clouds and Kubernetes contexts named in the scheduler settings
rollups          rebuild the last two days' daily rollups; prune raw samples past retention
rebalance_audit  per platform with hosts, plan the settings' goal; a plan with moves becomes a proposal
                 (unless one is already open); ``rebalance_auto`` applies it on the platform's cloud
forecast         record each platform's day of history; note the 75%/90% crossings within 90 days
room_flags       rank the rooms to close next
requests         decide queued capacity requests again (e.g. after an expansion); count overdue ones
backup           back the database up to the configured folder; keep the newest N (off by default)
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from inventory import clock
from inventory.audit import Actor
from inventory.db import get_engine
from inventory.models import CloudHost, CloudPlatform, JobRun, ProposalStatus, RebalanceProposal, UtilizationSample
from inventory.models.enums import JobStatus
from inventory.settings import get_cost_defaults, get_room_weights, get_scheduler_settings, get_settings

log = logging.getLogger("shangyun.scheduler")
ACTOR = Actor("scheduler")


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(name: str) -> JobRun:
    """Run job ``name`` now, recording it; returns its ``JobRun``."""
    job = JOBS[name]
    with Session(get_engine(), expire_on_commit=False) as session:
        record = JobRun(job=name, runner=runner_name(), started_at=dt.datetime.now(dt.UTC))
        session.add(record)
        session.commit()
        try:
            record.summary = job(session)[:4000]
            record.status = JobStatus.OK
        except Exception as exc:  # a job failure is recorded, never fatal to the scheduler
            session.rollback()
            record.status, record.summary = JobStatus.FAILED, f"{type(exc).__name__}: {exc}"[:4000]
            log.exception("job %s failed", name)
        record.finished_at = dt.datetime.now(dt.UTC)
        session.add(record)
        session.commit()
    log.info("job %s %s: %s", name, record.status, record.summary)
    return record


def collect(session: Session) -> str:
    from scheduler.collection import CollectionError, collect_kubernetes_cluster, collect_openstack_cloud

    settings = get_scheduler_settings()
    done: list[str] = []
    for cloud in settings.openstack_clouds:
        try:
            done.append(collect_openstack_cloud(session, cloud, None, None, ACTOR).summary())
            session.commit()
        except CollectionError as exc:
            session.rollback()
            done.append(f"{cloud}: failed — {exc}")
    for context in settings.kubernetes_contexts:
        try:
            done.append(collect_kubernetes_cluster(session, None, context, None, None, ACTOR).summary())
            session.commit()
        except CollectionError as exc:
            session.rollback()
            done.append(f"{context}: failed — {exc}")
    return "; ".join(done) or "no clouds configured (SHANGYUN_SCHEDULER_OPENSTACK_CLOUDS, …_KUBERNETES_CONTEXTS)"


def rollups(session: Session) -> str:
    from inventory.retention import prune_samples
    from inventory.rollups import recompute_rollups

    settings = get_settings()
    end = dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(days=2)
    ids = list(session.exec(select(UtilizationSample.server_id).where(col(UtilizationSample.at) >= start)
                            .distinct()))
    rows = recompute_rollups(session, ids, start, end, ZoneInfo(settings.timezone)) if ids else 0
    pruned = prune_samples(session, settings.sample_retention_days, ACTOR)
    session.commit()
    return f"{rows} rollup row(s) for {len(ids)} server(s); {pruned} raw sample(s) pruned"


def rebalance_audit(session: Session) -> str:
    from inventory.writers.cloud import cluster_snapshot
    from scheduler.rebalance import rebalance
    from scheduler.snapshot import SnapshotError, parse_snapshot

    settings = get_scheduler_settings()
    notes = []
    platforms = session.exec(select(CloudPlatform).where(
        col(CloudPlatform.id).in_(select(CloudHost.platform_id).distinct())).order_by(col(CloudPlatform.name))).all()
    for platform in platforms:
        open_one = session.exec(select(RebalanceProposal.id).where(
            RebalanceProposal.platform_id == platform.id,
            col(RebalanceProposal.status).in_([ProposalStatus.PROPOSED, ProposalStatus.RUNNING]))).first()
        if open_one is not None:
            notes.append(f"{platform.name}: proposal #{open_one} still open")
            continue
        try:
            cluster = parse_snapshot(cluster_snapshot(session, platform.name))
        except SnapshotError as exc:
            notes.append(f"{platform.name}: snapshot unusable ({exc})")
            continue
        result = rebalance(cluster, settings.rebalance_goal,
                           max_moves=settings.rebalance_max_moves)
        if not result.moves:
            notes.append(f"{platform.name}: nothing to move")
            continue
        notes.append(f"{platform.name}: " + _propose(session, platform.name, result))
    return "; ".join(notes) or "no platform with hosts"


def _propose(session: Session, platform: str, result: object) -> str:
    from drivers.errors import DriverError
    from drivers.openstack import OpenStackDriver
    from scheduler.proposals import apply, approve, store_proposal

    settings = get_scheduler_settings()
    proposal = store_proposal(session, platform, result, 0.8, settings.rebalance_max_moves, ACTOR)  # type: ignore[arg-type]
    session.commit()
    assert proposal.id is not None
    moves = len(proposal.result["moves"])
    if not (settings.rebalance_auto and platform in settings.openstack_clouds):
        return f"proposal #{proposal.id} with {moves} move(s) awaits approval"
    try:
        approve(session, proposal.id, ACTOR)
        done = apply(session, proposal.id, OpenStackDriver.connect(platform))
    except DriverError as exc:
        return f"proposal #{proposal.id} not applied: {exc}"
    return f"proposal #{proposal.id} applied automatically: {done.status}, {done.moves_done}/{moves} move(s)"


def forecast(session: Session) -> str:
    from inventory.platform_history import record_all_platforms
    from scheduler.forecast_data import platform_forecasts
    from scheduler.room_data import newest_current_plan

    settings = get_settings()
    recorded = record_all_platforms(session, ZoneInfo(settings.timezone))
    session.commit()
    today = clock.today()
    warnings = []
    for f in platform_forecasts(session, newest_current_plan(session), today, 730):
        for r in f.resources:
            days = r.days_until.get("75%")
            if days is not None and days <= 90:
                warnings.append(f"{f.platform} {r.resource} reaches 75% in {days} d")
    return f"{recorded} platform day(s) recorded; " + ("; ".join(warnings) or "no crossing of 75% within 90 days")


def room_flags(session: Session) -> str:
    from scheduler.room_data import load_room_inputs, newest_current_plan
    from scheduler.room_flags import score_rooms

    today = clock.today()
    flags = score_rooms(load_room_inputs(session, get_cost_defaults(), newest_current_plan(session), today),
                        get_room_weights())
    return f"{len(flags)} active room(s); next to close: " + ", ".join(f"{f.code} ({f.score:.2f})" for f in flags[:3])


def requests(session: Session) -> str:
    from scheduler.requests import list_requests, raise_quota_with, review_queued

    now = dt.datetime.now(dt.UTC)
    changed = review_queued(session, ACTOR, now, raise_quota_with(get_scheduler_settings().quota_cloud))
    session.commit()
    overdue = list_requests(session, now.astimezone(ZoneInfo(get_settings().timezone)).date(), overdue_only=True)
    decided = ", ".join(f"#{rid} {status}" for rid, status in changed) or "none"
    return f"{len(changed)} queued request(s) decided again ({decided}); {len(overdue)} overdue"


def backup(session: Session) -> str:
    from inventory.dbcopy.backup import backup as take_backup
    from inventory.dbcopy.backup import prune

    settings = get_scheduler_settings()
    folder = settings.backup_dir
    if folder is None:
        raise ValueError("SHANGYUN_SCHEDULER_BACKUP_DIR is not set: name the folder backups go to")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"shangyun-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.sqlite"
    manifest = take_backup(get_settings().database_url, path)
    removed = prune(folder, settings.backup_keep)
    return (f"{path.name}: revision {manifest.revision}, {len(manifest.tables)} tables, {manifest.rows} rows, "
            f"{path.stat().st_size / 2**20:.1f} MiB; {len(removed)} older backup(s) removed, "
            f"keeping {settings.backup_keep}")


JOBS: dict[str, Callable[[Session], str]] = {
    "collect": collect, "rollups": rollups, "rebalance_audit": rebalance_audit, "forecast": forecast,
    "room_flags": room_flags, "requests": requests, "backup": backup,
}
