"""CLI: ``shangyun scheduler`` — run the scheduled jobs (collection, rollups, rebalance audits, forecasts,
room flags, the request queue), alone or one job at once."""

from __future__ import annotations

import contextlib
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from inventory.errors import InvalidInputError
from inventory.models.enums import JobStatus

scheduler_app = typer.Typer(help="Scheduled jobs (定时任务).", no_args_is_help=True)
console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(emoji=False, stderr=True)


@scheduler_app.command("run")
def run_command(
    job: Annotated[str | None, typer.Option(help="run this one job now and exit (collect, rollups, "
                                            "rebalance_audit, forecast, room_flags, requests, backup)")] = None,
) -> None:
    """Run the scheduler in the foreground until stopped (SIGTERM/Ctrl-C). With several instances on one
    PostgreSQL database exactly one is active; the others wait as standbys and take over if it stops."""
    import signal
    from zoneinfo import ZoneInfo

    from inventory.db import get_engine
    from inventory.logs import configure_logging
    from inventory.settings import get_scheduler_settings, get_settings
    from scheduler.jobs import JOBS, run_job
    from scheduler.service import SchedulerService

    configure_logging(get_settings().log_format, get_settings().log_level)
    if job is not None:
        if job not in JOBS:
            raise InvalidInputError(f"--job must be one of {', '.join(JOBS)}")
        record = run_job(job)
        console.print(f"{job}: {record.status} — {record.summary}", markup=False, highlight=False)
        raise typer.Exit(0 if record.status == JobStatus.OK else 1)
    service = SchedulerService(get_engine(), get_scheduler_settings(), ZoneInfo(get_settings().timezone))
    signal.signal(signal.SIGTERM, lambda *_: service.stop_soon())
    with contextlib.suppress(KeyboardInterrupt):
        service.run()


@scheduler_app.command("jobs")
def jobs_command(limit: Annotated[int, typer.Option(min=1, help="recent runs shown")] = 20) -> None:
    """The jobs with their schedules and next run (from the job store), and the most recent runs."""
    from zoneinfo import ZoneInfo

    import sqlalchemy as sa
    from sqlmodel import col, select

    from inventory.db import session_scope
    from inventory.models import JobRun
    from inventory.settings import get_scheduler_settings, get_settings
    from scheduler.jobs import JOBS

    settings = get_scheduler_settings()
    tz = ZoneInfo(get_settings().timezone)
    table = Table(title="scheduled jobs 定时任务")
    for column in ("job", "schedule", "next run", "last run", "status", "summary"):
        table.add_column(column)
    with session_scope() as session:
        try:
            stored = dict(session.execute(sa.text("SELECT id, next_run_time FROM apscheduler_jobs")).all())
        except sa.exc.DatabaseError:  # no scheduler has run against this database yet
            session.rollback()
            stored = {}
        runs = session.exec(select(JobRun).order_by(col(JobRun.id).desc()).limit(limit)).all()
        for name in JOBS:
            last = next((r for r in runs if r.job == name), None)
            next_run = stored.get(name)
            table.add_row(name, getattr(settings, name) or "off",
                          str(_local(next_run, tz)) if next_run else "—",
                          last.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if last else "—",
                          last.status if last else "", (last.summary if last else "")[:100])
    console.print(table)


def _local(epoch: float, tz: object) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(float(epoch), tz=tz).strftime("%Y-%m-%d %H:%M:%S")  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    app.add_typer(scheduler_app, name="scheduler")
