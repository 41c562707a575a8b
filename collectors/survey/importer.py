"""Import a survey file into the inventory (FORMATS.md §1): samples staged in short transactions, then
everything applied in one closing transaction (``inventory/writers/staged_samples.py``).

All-or-nothing by default: if any row is bad, every error is reported and nothing is written. With
``skip_bad_rows`` the good rows are written and the bad ones reported. ``dry_run`` reports what
would change and writes nothing (its staged samples are removed like any import's).
"""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from collectors.survey.parse import parse_survey
from inventory.audit import Actor
from inventory.models import Server
from inventory.records.sheets import SheetKind
from inventory.records.survey import ParsedSurvey
from inventory.settings import get_settings
from inventory.writers.staged_samples import (
    SheetProgress,
    drop_stage,
    drop_stale_stages,
    new_stage_id,
    stage_samples,
)
from inventory.writers.survey import ImportReport, SurveyWriter


@dataclass
class ImportOutcome:
    report: ImportReport
    written: bool
    dry_run: bool


def import_survey(path: Path, *, engine: Engine, actor: Actor, dry_run: bool = False,
                  skip_bad_rows: bool = False, progress: SheetProgress | None = None) -> ImportOutcome:
    """Parse ``path`` and upsert it; commit only when it is clean (or bad rows may be skipped)."""
    tz = ZoneInfo(get_settings().timezone)
    now = dt.datetime.now(dt.UTC)
    with ExitStack() as stack:
        survey = parse_survey(path, stack, tz)
        staged = None
        if survey.has_samples:
            drop_stale_stages(engine, now)
            stage_id = new_stage_id(now)
            stack.callback(drop_stage, engine, stage_id)  # after the commit or rollback, on every path
            staged = stage_samples(engine, survey, _known_hostnames(engine, survey), stage_id, progress)
        with Session(engine) as session:
            report = SurveyWriter(session, survey, actor, tz, progress, staged).run()
            keep = not dry_run and (skip_bad_rows or not report.errors)
            if keep:
                session.commit()
            else:
                session.rollback()
        if keep and engine.dialect.name == "postgresql" and _rows_written(report) >= ANALYZE_AFTER_ROWS:
            _analyze(engine)
        return ImportOutcome(report, keep, dry_run)


def _known_hostnames(engine: Engine, survey: ParsedSurvey) -> set[str]:
    """Hosts a sample may name: the inventory's servers and the survey's own servers sheet."""
    with Session(engine) as session:
        known = set(session.execute(sa.select(Server.hostname)).scalars())  # type: ignore[call-overload]
    return known | {str(row.values["hostname"]) for row in survey.rows.get(SheetKind.SERVERS, [])
                    if row.values.get("hostname")}


ANALYZE_AFTER_ROWS = 10_000
ANALYZED = ("department", "room", "server", "business_system", "system_server", "dependency", "utilization_sample",
            "utilization_daily")


def _rows_written(report: ImportReport) -> int:
    return report.samples_inserted + sum(c.created + c.updated for c in report.counts.values())


def _analyze(engine: Engine) -> None:
    """Vacuum and analyse after a big load, so the first queries get good plans and counts can use
    index-only scans (autovacuum would do so only minutes later)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM (ANALYZE) " + ", ".join(ANALYZED)))
