"""The executor: carries out one wave of a plan, item by item and step by step, crash-safe.

Each item walks its strategy's runbook (``migration_plans.execution.runbooks``). Item states are
``inventory.models.runs.ItemState``; every transition happens here. The rules:

- Before any driver call, an item whose system is classified (涉密) is refused and the refusal is
  recorded (event + audit), whatever the plan row says (ARCHITECTURE invariant 1).
- An event row is committed before a step starts and after it ends; the step's result, the item's
  progress and the "after" event commit together (invariant 3).
- After a crash, ``resume`` reclaims items whose worker is gone: completed steps are never re-run;
  the interrupted step is re-run only if it is idempotent, otherwise the item waits for a person.
- A failing step stops its item and runs the reverts of the steps done so far (and of the failing
  step, which may have half-made its resource) in reverse order; other items go on.
- Items are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several worker
  processes can share a wave; SQLite serialises writers itself.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from drivers.errors import DriverError
from inventory import clock
from inventory.audit import Actor, record
from inventory.errors import ConflictError, NotFoundError
from inventory.models import (
    AuditAction,
    BusinessSystem,
    CloudPlatform,
    Department,
    ItemState,
    MigrationRun,
    Plan,
    PlanItem,
    PlanWave,
    Room,
    RunEvent,
    RunItem,
    RunStatus,
    Server,
    SystemServer,
    SystemStatus,
)
from inventory.models.enums import EventPhase, EventStatus, Strategy
from inventory.models.plans import ItemStatus, WaveStatus
from migration_plans.execution.actions import DriverCall, SourceServer, StepContext
from migration_plans.execution.runbooks import RUNBOOKS, Step, runbook
from migration_plans.execution.site import Site
from migration_plans.execution.verification import VerificationFailedError
from migration_plans.planning.strategies import ASSUMED_MLPS
from migration_plans.planning.windows import parse_window

ENDED = {ItemState.COMPLETED, ItemState.ROLLED_BACK, ItemState.FAILED, ItemState.REFUSED}
LEASE = dt.timedelta(hours=2)  # a claim older than this is taken over even from another machine


class ExecutionError(ConflictError):
    """A request the executor cannot carry out (a step that does not exist, a state that does not allow it)."""


class ExecutionNotFoundError(ExecutionError, NotFoundError):
    """No such run, item or wave."""

    status = 404


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claimer_gone(claimed_by: str | None, heartbeat: dt.datetime | None, now: dt.datetime) -> bool:
    if not claimed_by or heartbeat is None or now - heartbeat > LEASE:
        return True
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's worker within its lease: leave it alone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class ItemSummary:
    item_id: int
    system: str
    strategy: str
    state: str
    step: str
    error: str | None


def start_run(session: Session, plan: Plan, wave_index: int, site: Site, actor: Actor,
              systems: Sequence[str] = ()) -> MigrationRun:
    """Create the run of wave ``wave_index`` with one pending item per system (retain excluded); only the
    given ``systems`` (codes) of the wave when some are named, e.g. a wave split over two weekends."""
    wave = session.exec(select(PlanWave).where(PlanWave.plan_id == plan.id, PlanWave.index == wave_index)).first()
    if wave is None:
        raise ExecutionNotFoundError(f"plan {plan.name}@{plan.version} has no wave {wave_index}")
    rows = session.exec(select(PlanItem, BusinessSystem.code)
                        .join(BusinessSystem, col(BusinessSystem.id) == PlanItem.system_id)
                        .where(PlanItem.wave_id == wave.id, PlanItem.status != ItemStatus.DONE,
                               col(BusinessSystem.status).not_in([SystemStatus.MIGRATED, SystemStatus.RETIRED]))
                        .order_by(col(PlanItem.id))).all()
    if systems:
        unknown = sorted(set(systems) - {code for _, code in rows})
        if unknown:
            raise ExecutionError(f"system(s) {', '.join(unknown)} have nothing left to do in wave {wave_index} of "
                                 f"plan {plan.name}@{plan.version}", field="system")
    items = [item for item, code in rows if not systems or code in systems]
    if not items:
        raise ExecutionError(f"wave {wave_index} of plan {plan.name}@{plan.version} has nothing left to do")
    assert plan.id is not None
    run = MigrationRun(plan_id=plan.id, wave_index=wave_index, site=site.model_dump(mode="json"),
                       started_at=dt.datetime.now(dt.UTC), started_by=actor.name)
    session.add(run)
    session.flush()
    assert run.id is not None
    for item in items:
        assert item.id is not None
        session.add(RunItem(run_id=run.id, plan_item_id=item.id, system_id=item.system_id, strategy=item.strategy))
    wave.status = WaveStatus.STARTED
    session.add(wave)
    record(session, actor, "migration_run", str(run.id), AuditAction.CREATE, None,
           {"plan": f"{plan.name}@{plan.version}", "wave": wave_index, "items": len(items)})
    session.flush()
    return run


class Executor:
    """Works the items of one run; safe to run in several processes at once."""

    def __init__(self, engine: Engine, site: Site, actor: Actor,
                 on_progress: Callable[[int, str, str], None] | None = None) -> None:
        self.engine = engine
        self.site = site
        self.actor = actor
        self.worker = worker_name()
        self.on_progress = on_progress  # (item id, system code, message)

    # ---- claiming ------------------------------------------------------------------------------
    def claim(self, run_id: int) -> int | None:
        """Take the next pending item of the run, or None."""
        table = RunItem.__table__  # type: ignore[attr-defined]
        with Session(self.engine) as session:
            while True:
                query = (select(RunItem.id).where(RunItem.run_id == run_id, RunItem.state == ItemState.PENDING)
                         .order_by(col(RunItem.id)).limit(1).with_for_update(skip_locked=True))
                item_id = session.exec(query).first()
                if item_id is None:
                    return None
                # The state check makes the claim atomic where FOR UPDATE is not supported (SQLite).
                taken = session.execute(
                    sa.update(table).where(table.c.id == item_id, table.c.state == ItemState.PENDING.value)
                    .values(state=ItemState.RUNNING.value, claimed_by=self.worker,
                            heartbeat_at=dt.datetime.now(dt.UTC)))
                session.commit()
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    return item_id

    def reclaim(self, run_id: int) -> list[int]:
        """Put back to pending the running items whose worker died; return their ids."""
        now = dt.datetime.now(dt.UTC)
        with Session(self.engine) as session:
            items = session.exec(select(RunItem).where(RunItem.run_id == run_id, RunItem.state == ItemState.RUNNING)
                                 .with_for_update(skip_locked=True)).all()
            taken = []
            for item in items:
                if _claimer_gone(item.claimed_by, item.heartbeat_at, now):
                    item.state, item.claimed_by = ItemState.PENDING, None
                    session.add(item)
                    assert item.id is not None
                    taken.append(item.id)
            session.commit()
        return taken

    def work(self, run_id: int, parallel: int = 1) -> None:
        """Process pending items with ``parallel`` threads until none is left, then settle the run."""
        def loop() -> None:
            while (item_id := self.claim(run_id)) is not None:
                self.process(item_id)

        with ThreadPoolExecutor(max_workers=parallel) as pool:
            for future in [pool.submit(loop) for _ in range(parallel)]:
                future.result()
        self.settle(run_id)

    def settle(self, run_id: int) -> str:
        """Mark the run completed/failed when every item has ended; return its status."""
        with Session(self.engine) as session:
            run = session.get(MigrationRun, run_id)
            if run is None:
                raise ExecutionNotFoundError(f"no run {run_id}")
            states = list(session.exec(select(RunItem.state).where(RunItem.run_id == run_id)))
            if all(s in ENDED for s in states):
                run.status = RunStatus.COMPLETED if all(s == ItemState.COMPLETED for s in states) else RunStatus.FAILED
                run.finished_at = run.finished_at or dt.datetime.now(dt.UTC)
                if run.status == RunStatus.COMPLETED:
                    wave = session.exec(select(PlanWave).where(PlanWave.plan_id == run.plan_id,
                                                               PlanWave.index == run.wave_index)).one()
                    wave.status = WaveStatus.DONE
                    session.add(wave)
                session.add(run)
                session.commit()
            return run.status

    # ---- events --------------------------------------------------------------------------------
    def _event(self, session: Session, item: RunItem, step: str, phase: EventPhase, status: EventStatus,
               payload: dict[str, Any] | None = None) -> None:
        counter = session.exec(select(func.max(RunEvent.counter)).where(RunEvent.item_id == item.id)).one() or 0
        assert item.id is not None
        now = dt.datetime.now(dt.UTC)
        session.add(RunEvent(run_id=item.run_id, item_id=item.id, counter=counter + 1, at=now, step=step,
                             phase=phase, status=status, payload=payload))
        item.heartbeat_at = now
        session.add(item)

    def _say(self, ctx: StepContext, message: str) -> None:
        if self.on_progress:
            self.on_progress(ctx.item_id, ctx.system_code, message)

    # ---- one item ------------------------------------------------------------------------------
    def context(self, session: Session, item: RunItem) -> StepContext:
        system = session.get(BusinessSystem, item.system_id)
        plan_item = session.get(PlanItem, item.plan_item_id)
        assert system is not None and plan_item is not None and item.id is not None
        department = session.get(Department, system.department_id)
        servers = session.exec(
            select(Server.hostname, Server.ip, Room.code).join(SystemServer, col(SystemServer.server_id) == Server.id)
            .join(Room, col(Room.id) == Server.room_id).where(SystemServer.system_id == system.id)
            .order_by(col(Server.hostname))).all()
        same_department = session.exec(
            select(PlanItem.target).join(RunItem, col(RunItem.plan_item_id) == PlanItem.id)
            .join(BusinessSystem, col(BusinessSystem.id) == RunItem.system_id)
            .where(RunItem.run_id == item.run_id, col(RunItem.strategy).in_(Strategy.to_cloud()),
                   BusinessSystem.department_id == system.department_id)).all()
        return StepContext(run_id=item.run_id, item_id=item.id, system_code=system.code, system_name=system.name,
                           department_targets=[dict(t) for t in same_department if t],
                           department_code=department.code if department else "none", strategy=item.strategy,
                           target=plan_item.target or {},
                           servers=[SourceServer(h, ip, room) for h, ip, room in servers],
                           site=self.site, resources=dict(item.resources or {}))

    def _refusal(self, session: Session, item: RunItem) -> str | None:
        system = session.get(BusinessSystem, item.system_id)
        assert system is not None
        if system.classified and (item.strategy != Strategy.INTRANET or _planned_target(session, item)):
            return "classified (涉密) system: only to the intranet (政务内网), never to a cloud target"
        if not system.classified and item.strategy == Strategy.INTRANET:
            return "not classified: the intranet (政务内网) takes classified systems only"
        target = _planned_target(session, item) or {}
        if target.get("platform_name"):
            platform = session.exec(select(CloudPlatform).where(CloudPlatform.name == target["platform_name"])).first()
            level = system.mlps_level or ASSUMED_MLPS
            if platform is None:
                return f"target platform {target['platform_name']!r} is not in the inventory"
            if platform.mlps_level < level:
                return (f"target platform {platform.name} is MLPS level {platform.mlps_level}, below the system's "
                        f"level {level}")
        if item.strategy not in RUNBOOKS:
            return f"strategy {item.strategy!r} is not executed"
        return None

    def process(self, item_id: int) -> str:
        """Run the item's remaining steps; return its state when it stops."""
        with Session(self.engine, expire_on_commit=False) as session:
            item = _load_item(session, item_id)
            ctx = self.context(session, item)
            ctx.on_progress = lambda message: self._say(ctx, message)
            refusal = self._refusal(session, item)
            if refusal:  # before any driver call
                item.state, item.error = ItemState.REFUSED, refusal
                self._event(session, item, "-", EventPhase.REFUSE, EventStatus.REFUSED, {"reason": refusal})
                record(session, self.actor, "run_item", str(item.id), AuditAction.UPDATE, None,
                       {"state": ItemState.REFUSED.value, "system": ctx.system_code, "reason": refusal})
                session.commit()
                self._say(ctx, f"refused: {refusal}")
                return item.state
            steps = runbook(item.strategy)
            if not ctx.servers:
                return self._fail_without_steps(session, item, ctx, "the system has no servers in the inventory")
            system = session.get(BusinessSystem, item.system_id)
            window = system.downtime_window if system is not None else None
            while item.next_step < len(steps):
                step = steps[item.next_step]
                events = self._step_events(session, item, step)
                stop = self._must_wait(item, step, events) or self._outside_window(item, step, events, window)
                if stop:
                    item.state, item.error = ItemState.WAITING, stop
                    self._event(session, item, step.name, EventPhase.GATE, EventStatus.WAITING, {"reason": stop})
                    session.commit()
                    self._say(ctx, f"waiting at {step.name}: {stop}")
                    return item.state
                if step.action.driver == "ansible" and self._interrupted(events):
                    from drivers.ansible import stop_leftovers

                    stopped = stop_leftovers(ctx.artifacts_dir)
                    if stopped:
                        self._say(ctx, f"stopped {stopped} ansible-playbook process(es) left by the dead worker")
                self._event(session, item, step.name, EventPhase.BEFORE, EventStatus.STARTED,
                            {"action": step.action.name})
                session.commit()
                self._say(ctx, f"{step.name} ({step.zh}) …")
                ctx.session = session
                try:
                    made = step.action(ctx)
                except VerificationFailedError as exc:  # stop before sign-off; a person decides
                    session.rollback()
                    return self._verification_failed(session, item, ctx, step, exc)
                except Exception as exc:  # every failure ends the item cleanly, never the wave
                    session.rollback()
                    reason = _reason(exc)
                    self._event(session, item, step.name, EventPhase.AFTER, EventStatus.FAILED,
                                {"reason": reason[:2000]})
                    item.error = f"{step.name}: {reason}"[:4000]
                    session.commit()
                    self._say(ctx, f"{step.name} failed: {reason}")
                    return self._revert(session, item, ctx, steps[: item.next_step + 1])
                finally:
                    ctx.session = None
                ctx.resources |= made
                item.resources = dict(ctx.resources)
                item.next_step += 1
                payload = _public(made)
                if ctx.calls:  # a driver the site runs as a dry run: say what it would have done
                    payload["dry_run_calls"] = [str(c)[:500] for c in ctx.calls]
                    self._say(ctx, f"{step.name}: dry run, {len(ctx.calls)} call(s) recorded, not made")
                    ctx.calls.clear()
                self._event(session, item, step.name, EventPhase.AFTER, EventStatus.OK, payload)
                session.commit()
            item.state, item.error = ItemState.COMPLETED, None
            session.add(item)
            session.commit()
            self._say(ctx, "completed")
            return item.state

    def _verification_failed(self, session: Session, item: RunItem, ctx: StepContext, step: Step,
                             failed: VerificationFailedError) -> str:
        """Record every check's result (event and archive) and wait for a person: fix and check again, or
        roll back."""
        checks = [asdict(r) for r in failed.results]
        self._event(session, item, step.name, EventPhase.AFTER, EventStatus.FAILED,
                    {"reason": str(failed)[:2000], "checks": checks})
        record(session, self.actor, "system", ctx.system_code, AuditAction.VERIFY, None,
               {"run": ctx.run_id, "item": ctx.item_id, "passed": False, "checks": checks})
        item.state = ItemState.WAITING
        item.error = (f"{step.name}: {failed}; fix the cause and `shangyun migrate approve {item.id} {step.name}` "
                      f"to check again, or `shangyun migrate rollback {item.id}`")[:4000]
        session.add(item)
        session.commit()
        self._say(ctx, f"{step.name} failed, waiting for a decision: {failed}")
        return item.state

    def _fail_without_steps(self, session: Session, item: RunItem, ctx: StepContext, reason: str) -> str:
        item.state, item.error = ItemState.FAILED, reason
        self._event(session, item, "-", EventPhase.BEFORE, EventStatus.FAILED, {"reason": reason})
        session.commit()
        self._say(ctx, f"failed: {reason}")
        return item.state

    @staticmethod
    def _step_events(session: Session, item: RunItem, step: Step) -> list[RunEvent]:
        return list(session.exec(select(RunEvent).where(RunEvent.item_id == item.id, RunEvent.step == step.name)
                                 .order_by(col(RunEvent.counter))))

    @staticmethod
    def _interrupted(events: list[RunEvent]) -> bool:
        """A worker started the step and never finished it (approvals in between do not count)."""
        phases = [e.phase for e in events if e.phase in (EventPhase.BEFORE, EventPhase.AFTER)]
        return bool(phases) and phases[-1] == EventPhase.BEFORE

    def _must_wait(self, item: RunItem, step: Step, events: list[RunEvent]) -> str | None:
        """Why the step may not run now (a gate without approval, or an interrupted non-idempotent step)."""
        approvals = [e.counter for e in events if e.phase == EventPhase.APPROVE]
        if step.gate and not approvals:
            return f"needs approval: shangyun migrate approve {item.id} {step.name}"
        if self._interrupted(events) and not step.idempotent:
            last_start = max(e.counter for e in events if e.phase == EventPhase.BEFORE)
            if max(approvals, default=0) < last_start:
                return (f"interrupted during {step.name}, which is not safe to repeat: check the systems, then "
                        f"`shangyun migrate approve {item.id} {step.name}` to run it again or "
                        f"`shangyun migrate rollback {item.id}`")
        return None

    def _outside_window(self, item: RunItem, step: Step, events: list[RunEvent], window: str | None) -> str | None:
        """Why a step that takes the system down may not run today (the business day, in the configured time
        zone): its downtime window does not allow it, and no operator approved running it outside."""
        if not step.windowed:
            return None
        rule, _ = parse_window(window)
        today = clock.today()
        if rule is None or rule(today):
            return None
        if any(e.phase == EventPhase.APPROVE and (e.payload or {}).get("outside_window") for e in events):
            return None
        upcoming = next((today + dt.timedelta(days=k) for k in range(1, 367) if rule(today + dt.timedelta(days=k))),
                        None)
        when = f"its next allowed day is {upcoming}" if upcoming else "it allows no day in the coming year"
        return (f"outside the downtime window ({window}) today {today}: {when}; `shangyun migrate resume` then, or "
                f"`shangyun migrate approve {item.id} {step.name} --outside-window --reason …` to go on now")

    def _revert(self, session: Session, item: RunItem, ctx: StepContext, done: tuple[Step, ...]) -> str:
        """Run the reverts of ``done`` in reverse order; the item ends rolled back, or failed if one fails."""
        item.state = ItemState.RUNNING
        failures = []
        for step in reversed(done):
            if step.revert is None:
                continue
            self._event(session, item, step.name, EventPhase.REVERT_BEFORE, EventStatus.STARTED,
                        {"action": step.revert.name})
            session.commit()
            self._say(ctx, f"reverting {step.name} …")
            try:
                made = step.revert(ctx)
            except Exception as exc:  # keep reverting the rest; a person finishes the job
                session.rollback()
                reason = _reason(exc)
                failures.append(f"{step.name}: {reason}")
                self._event(session, item, step.name, EventPhase.REVERT_AFTER, EventStatus.FAILED,
                            {"reason": reason[:2000]})
                session.commit()
                continue
            ctx.resources |= made
            item.resources = dict(ctx.resources)
            self._event(session, item, step.name, EventPhase.REVERT_AFTER, EventStatus.OK, _public(made))
            session.commit()
        item.state = ItemState.FAILED if failures else ItemState.ROLLED_BACK
        if failures:
            item.error = f"{item.error}; revert failed: {'; '.join(failures)}"[:4000]
        item.next_step = 0 if not failures else item.next_step
        session.add(item)
        session.commit()
        self._say(ctx, f"{item.state}")
        return item.state

    # ---- operators -----------------------------------------------------------------------------
    def approve(self, item_id: int, step_name: str, *, outside_window: bool = False,
                reason: str | None = None) -> RunItem:
        """Record a person's approval of ``step_name`` (``outside_window``: to run it on a day the system's
        downtime window does not allow, with the ``reason``, audited); a waiting item becomes pending again."""
        if outside_window and not (reason or "").strip():
            raise ExecutionError("--outside-window needs --reason: why the system may go down outside its window")
        with Session(self.engine, expire_on_commit=False) as session:
            item = _load_item(session, item_id)
            names = [s.name for s in runbook(item.strategy)]
            if step_name not in names:
                raise ExecutionError(f"item {item_id} ({item.strategy}) has no step {step_name!r}; steps: "
                                     + ", ".join(names))
            if item.state in ENDED:
                raise ExecutionError(f"item {item_id} has ended ({item.state})")
            extra = {"outside_window": True, "reason": (reason or "").strip()[:500]} if outside_window else {}
            self._event(session, item, step_name, EventPhase.APPROVE, EventStatus.APPROVED,
                        {"by": self.actor.name, **extra})
            record(session, self.actor, "run_item", str(item_id), AuditAction.UPDATE, None,
                   {"approved": step_name, **extra})
            if item.state == ItemState.WAITING:
                item.state, item.error = ItemState.PENDING, None
            session.add(item)
            session.commit()
            return item

    def rollback(self, item_id: int) -> str:
        """Undo what a not-completed item made (reverts of its done steps, newest first)."""
        with Session(self.engine, expire_on_commit=False) as session:
            item = _load_item(session, item_id)
            if item.state == ItemState.COMPLETED:
                raise ExecutionError(f"item {item_id} is completed: its source was decommissioned, there is "
                                     "nothing to go back to")
            if item.state in (ItemState.ROLLED_BACK, ItemState.REFUSED):
                return item.state
            if item.state == ItemState.RUNNING and not _claimer_gone(item.claimed_by, item.heartbeat_at,
                                                                     dt.datetime.now(dt.UTC)):
                raise ExecutionError(f"item {item_id} is being worked by {item.claimed_by}")
            item.claimed_by = self.worker
            ctx = self.context(session, item)
            steps = runbook(item.strategy)
            started = item.next_step + (1 if item.next_step < len(steps) and _started(session, item,
                                                                                      steps[item.next_step]) else 0)
            record(session, self.actor, "run_item", str(item_id), AuditAction.UPDATE, None, {"rollback": True})
            session.commit()
            return self._revert(session, item, ctx, steps[:started])

    def items(self, run_id: int) -> list[ItemSummary]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(RunItem, BusinessSystem.code).join(BusinessSystem, col(BusinessSystem.id) == RunItem.system_id)
                .where(RunItem.run_id == run_id).order_by(col(RunItem.id))).all()
            out = []
            for item, code in rows:
                steps = RUNBOOKS.get(item.strategy, ())
                step = steps[item.next_step].name if item.next_step < len(steps) else "-"
                assert item.id is not None
                out.append(ItemSummary(item.id, code, item.strategy, item.state, step, item.error))
            return out


def _load_item(session: Session, item_id: int) -> RunItem:
    item = session.get(RunItem, item_id)
    if item is None:
        raise ExecutionNotFoundError(f"no run item {item_id}")
    return item


def _reason(exc: Exception) -> str:
    """A driver's message is safe to show; anything else is a bug, named by its type."""
    return str(exc) if isinstance(exc, DriverError) else f"internal error: {type(exc).__name__}: {exc}"


def _started(session: Session, item: RunItem, step: Step) -> bool:
    return session.exec(select(RunEvent.id).where(RunEvent.item_id == item.id, RunEvent.step == step.name,
                                                  RunEvent.phase == EventPhase.BEFORE)).first() is not None


def _public(made: dict[str, Any]) -> dict[str, Any]:
    """Step results as event payload (ids and names only; nothing secret is ever in them)."""
    return {k: v for k, v in made.items() if isinstance(v, str | int | float | bool | type(None) | list | dict)}


def dry_run(session: Session, plan: Plan, wave_index: int, site: Site) -> list[tuple[str, str, list[DriverCall]]]:
    """Every driver call each item of the wave would make, step by step; nothing is written or called."""
    wave = session.exec(select(PlanWave).where(PlanWave.plan_id == plan.id, PlanWave.index == wave_index)).first()
    if wave is None:
        raise ExecutionNotFoundError(f"plan {plan.name}@{plan.version} has no wave {wave_index}")
    executor = Executor(session.get_bind(), site, Actor("dry-run"))  # type: ignore[arg-type]
    out: list[tuple[str, str, list[DriverCall]]] = []
    for plan_item in session.exec(select(PlanItem).where(PlanItem.wave_id == wave.id).order_by(col(PlanItem.id))):
        assert plan_item.id is not None
        probe = RunItem(id=0, run_id=0, plan_item_id=plan_item.id, system_id=plan_item.system_id,
                        strategy=plan_item.strategy)
        ctx = executor.context(session, probe)
        ctx.dry_run = True
        refusal = executor._refusal(session, probe)
        if refusal:
            out.append((ctx.system_code, f"refused: {refusal}", []))
            continue
        for step in runbook(plan_item.strategy):
            if step.gate:
                out.append((ctx.system_code, f"{step.name}: gate, waits for approval", []))
                continue
            first = len(ctx.calls)
            ctx.resources |= step.action(ctx)
            out.append((ctx.system_code, step.name, ctx.calls[first:]))
    return out


def _planned_target(session: Session, item: RunItem) -> dict[str, Any] | None:
    """The cloud target the item's plan row names (None or empty when it names none)."""
    plan_item = session.get(PlanItem, item.plan_item_id)
    return plan_item.target if plan_item is not None else None
