"""CLI: ``shangyun migrate`` — carry out a plan's waves (run, status, resume, approve, rollback, events)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from inventory.errors import InvalidInputError, NotFoundError
from inventory.models.runs import ItemState

migrate_app = typer.Typer(help="Carry out a plan's waves step by step (迁移执行).", no_args_is_help=True)
console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(emoji=False, stderr=True)




def _executor(site: Any, progress: Any = None) -> Any:
    from inventory.audit import Actor
    from inventory.db import get_engine
    from migration_plans.execution.executor import Executor

    def say(item_id: int, system: str, message: str) -> None:
        target = progress.console if progress is not None else console
        target.print(f"[dim]{time.strftime('%H:%M:%S')}[/] item {item_id} {system}: {message}", highlight=False)

    return Executor(get_engine(), site, Actor.cli(), on_progress=say)


def _work(run_id: int, site: Any, parallel: int, reclaim: bool = False) -> None:
    """Work the run's items with a live progress bar, then print its status."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from migration_plans.execution.executor import ENDED

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        executor = _executor(site, progress)
        if reclaim:
            taken = executor.reclaim(run_id)
            if taken:
                progress.console.print(f"resuming item(s) {', '.join(map(str, taken))} whose worker stopped")
        items = executor.items(run_id)
        task = progress.add_task(f"run {run_id}", total=len(items),
                                 completed=sum(1 for i in items if i.state in ENDED))
        original = executor.on_progress

        def tick(item_id: int, system: str, message: str) -> None:
            original(item_id, system, message)
            progress.update(task, completed=sum(1 for i in executor.items(run_id) if i.state in ENDED))

        executor.on_progress = tick
        executor.work(run_id, parallel=parallel)
        progress.update(task, completed=sum(1 for i in executor.items(run_id) if i.state in ENDED))
    _status_table(run_id)


@migrate_app.command("run")
def run_command(
    plan: Annotated[str, typer.Option(help="plan name or name@version")],
    wave: Annotated[int, typer.Option(min=1, help="wave number")],
    site: Annotated[Path | None, typer.Option(help="site profile YAML: how sources and clouds are reached")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print every driver call; change nothing")] = False,
    parallel: Annotated[int, typer.Option(min=1, help="items worked at the same time")] = 1,
    detach: Annotated[bool, typer.Option("--detach", help="only start the run: `shangyun migrate worker` "
                                         "processes work it")] = False,
    system: Annotated[list[str] | None, typer.Option(help="only this system of the wave (repeatable), e.g. a "
                                                     "wave split over two weekends")] = None,
) -> None:
    """Carry out one wave: every item through its runbook, with events, gates and reverts."""
    from inventory.audit import Actor
    from inventory.db import session_scope
    from migration_plans.execution.executor import dry_run as plan_calls
    from migration_plans.execution.executor import start_run
    from migration_plans.execution.site import load_site
    from migration_plans.store import resolve

    profile = load_site(site)
    if dry_run:
        with session_scope() as session:
            calls = [c for c in plan_calls(session, resolve(session, plan), wave, profile)
                     if not system or c[0] in system]
            session.rollback()
        _print_calls(calls)
        return
    with session_scope() as session:
        run = start_run(session, resolve(session, plan), wave, profile, Actor.cli(), systems=system or ())
        run_id = run.id
    assert run_id is not None
    console.print(f"run {run_id}: plan {plan}, wave {wave}" + (" — left to the workers" if detach else ""))
    if not detach:
        _work(run_id, profile, parallel)


@migrate_app.command("worker")
def worker_command(
    parallel: Annotated[int, typer.Option(min=1, help="items worked at the same time")] = 1,
    poll: Annotated[float, typer.Option(min=0.1, help="seconds between looks for work")] = 10.0,
    once: Annotated[bool, typer.Option("--once", help="work what is there, then exit")] = False,
) -> None:
    """Work the pending items of every running run, and take over items whose worker stopped, until
    stopped (SIGTERM). Any number of workers may run at once: each item is claimed by exactly one."""
    import signal
    import threading

    from sqlmodel import col, select

    from inventory.db import session_scope
    from inventory.models import MigrationRun, RunStatus

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set():
        with session_scope() as session:
            runs = list(session.exec(select(MigrationRun.id).where(MigrationRun.status == RunStatus.RUNNING)
                                     .order_by(col(MigrationRun.id))))
        for run_id in runs:
            if stop.is_set():
                break
            assert run_id is not None
            executor = _executor(_run_site(run_id))
            taken = executor.reclaim(run_id)
            if taken:
                console.print(f"run {run_id}: taking over item(s) {', '.join(map(str, taken))}")
            executor.work(run_id, parallel=parallel)
        if once:
            break
        stop.wait(poll)


def _print_calls(calls: list[tuple[str, str, list[Any]]]) -> None:
    console.print("[bold]dry run[/]: nothing below is executed or written")
    for system, step, recorded in calls:
        if not recorded:
            console.print(f"{system}  {step}", highlight=False, markup=False)
        for call in recorded:
            console.print(f"{system}  {step}: {call}", highlight=False, markup=False)


def _latest_run(run: int | None) -> int:
    from sqlmodel import col, select

    from inventory.db import session_scope
    from inventory.models import MigrationRun

    if run is not None:
        return run
    with session_scope() as session:
        found = session.exec(select(MigrationRun.id).order_by(col(MigrationRun.id).desc())).first()
    if found is None:
        raise NotFoundError("no migration run yet; `shangyun migrate run --plan P --wave N` starts one")
    return found


def _run_site(run_id: int) -> Any:
    from inventory.db import session_scope
    from inventory.models import MigrationRun
    from migration_plans.execution.site import Site

    with session_scope() as session:
        run = session.get(MigrationRun, run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id}")
        return Site.model_validate(run.site)


def _status_table(run_id: int) -> Table:
    from inventory.audit import Actor
    from inventory.db import get_engine
    from migration_plans.execution.executor import Executor
    from migration_plans.execution.site import Site

    items = Executor(get_engine(), Site(), Actor.cli()).items(run_id)
    table = Table(title=f"run {run_id} 迁移执行")
    for column in ("item", "system", "strategy", "state", "next step", "reason"):
        table.add_column(column)
    colours = {"completed": "green", "waiting": "yellow", "rolled_back": "magenta", "failed": "red", "refused": "red"}
    for i in items:
        state = f"[{colours[i.state]}]{i.state}[/]" if i.state in colours else i.state
        table.add_row(str(i.item_id), i.system, i.strategy, state, i.step, i.error or "")
    console.print(table)
    return table


@migrate_app.command("status")
def status_command(
    run: Annotated[int | None, typer.Option(help="run id (default: the newest)")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="refresh every 2 s until every item has ended")] = False,
) -> None:
    """Items of a run with their state, next step and reason."""
    from inventory.audit import Actor
    from inventory.db import get_engine
    from migration_plans.execution.executor import ENDED, Executor
    from migration_plans.execution.site import Site

    run_id = _latest_run(run)
    if not watch:
        _status_table(run_id)
        return
    from rich.live import Live

    executor = Executor(get_engine(), Site(), Actor.cli())
    with Live(console=console, refresh_per_second=2) as live:
        while True:
            items = executor.items(run_id)
            table = Table(title=f"run {run_id}")
            for column in ("item", "system", "state", "next step", "reason"):
                table.add_column(column)
            for i in items:
                table.add_row(str(i.item_id), i.system, i.state, i.step, i.error or "")
            live.update(table)
            if all(i.state in ENDED or i.state == ItemState.WAITING for i in items):
                return
            time.sleep(2)


@migrate_app.command("resume")
def resume_command(
    run: Annotated[int | None, typer.Option(help="run id (default: the newest)")] = None,
    parallel: Annotated[int, typer.Option(min=1, help="items worked at the same time")] = 1,
) -> None:
    """Take over items whose worker stopped (crash, kill) and go on from their last completed step."""
    run_id = _latest_run(run)
    _work(run_id, _run_site(run_id), parallel, reclaim=True)


@migrate_app.command("approve")
def approve_command(
    item: Annotated[int, typer.Argument(help="run item id (see `migrate status`)")],
    step: Annotated[str, typer.Argument(help="the step to approve, e.g. signoff")],
    outside_window: Annotated[bool, typer.Option("--outside-window", help="let a cutover or switch-off run on a "
                                                 "day the system's downtime window does not allow")] = False,
    reason: Annotated[str | None, typer.Option(help="why (required with --outside-window; audited, first 500 "
                                               "characters)")] = None,
) -> None:
    """Record an operator's approval of a gate (or of re-running an interrupted step, or of going down outside
    the system's downtime window); then `migrate resume`."""

    found = _executor(None).approve(item, step, outside_window=outside_window, reason=reason)
    console.print(f"approved {step} of item {item}; it is {found.state} — `shangyun migrate resume --run "
                  f"{found.run_id}` goes on")


@migrate_app.command("rollback")
def rollback_command(
    item: Annotated[int | None, typer.Argument(help="run item id")] = None,
    wave: Annotated[int | None, typer.Option(help="roll back every unfinished item of this wave's newest run")]
    = None,
    plan: Annotated[str | None, typer.Option(help="with --wave: the plan (default: the newest run's)")] = None,
) -> None:
    """Run the reverts of an item's done steps, newest first (or of every unfinished item of a wave)."""
    from sqlmodel import col, select

    from inventory.db import session_scope
    from inventory.models import MigrationRun, RunItem
    from migration_plans.execution.executor import ENDED
    from migration_plans.store import resolve

    if (item is None) == (wave is None):
        raise InvalidInputError("give an ITEM or --wave N")
    with session_scope() as session:
        if item is not None:
            found = session.get(RunItem, item)
            if found is None:
                raise NotFoundError(f"no run item {item}")
            targets, run_id = [item], found.run_id
        else:
            query = select(MigrationRun).where(MigrationRun.wave_index == wave)
            if plan:
                query = query.where(MigrationRun.plan_id == resolve(session, plan).id)
            run = session.exec(query.order_by(col(MigrationRun.id).desc())).first()
            if run is None or run.id is None:
                raise NotFoundError(f"no run of wave {wave}")
            run_id = run.id
            targets = [i.id for i in session.exec(select(RunItem).where(RunItem.run_id == run.id))
                       if i.state not in ENDED and i.id is not None]
    executor = _executor(_run_site(run_id))
    for target in targets:
        console.print(f"item {target}: {executor.rollback(target)}")
    executor.settle(run_id)


@migrate_app.command("events")
def events_command(item: Annotated[int, typer.Argument(help="run item id")]) -> None:
    """The event log of one item: every step before and after, reverts, gates and approvals."""
    import json

    from sqlmodel import col, select

    from inventory.db import session_scope
    from inventory.models import RunEvent

    with session_scope() as session:
        events = session.exec(select(RunEvent).where(RunEvent.item_id == item).order_by(col(RunEvent.counter))).all()
    table = Table(title=f"item {item} events")
    for column in ("#", "at (UTC)", "step", "phase", "status", "payload"):
        table.add_column(column)
    for e in events:
        table.add_row(str(e.counter), f"{e.at:%Y-%m-%d %H:%M:%S}", e.step, e.phase, e.status,
                      json.dumps(e.payload, ensure_ascii=False) if e.payload else "")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(migrate_app, name="migrate")
