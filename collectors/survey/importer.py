"""Import a survey file into the inventory in one transaction (FORMATS.md §1).

All-or-nothing by default: if any row is bad, every error is reported and nothing is written. With
``skip_bad_rows`` the good rows are written and the bad ones reported. ``dry_run`` reports what
would change and writes nothing.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from collectors.survey.parse import parse_survey
from inventory.audit import Actor
from inventory.settings import get_settings
from inventory.writers.survey import ImportReport, SheetProgress, SurveyWriter


@dataclass
class ImportOutcome:
    report: ImportReport
    written: bool
    dry_run: bool


def import_survey(path: Path, *, engine: Engine, actor: Actor, dry_run: bool = False,
                  skip_bad_rows: bool = False, progress: SheetProgress | None = None) -> ImportOutcome:
    """Parse ``path`` and upsert it; commit only when it is clean (or bad rows may be skipped)."""
    tz = ZoneInfo(get_settings().timezone)
    with ExitStack() as stack, Session(engine) as session:
        survey = parse_survey(path, stack, tz)
        report = SurveyWriter(session, survey, actor, tz, progress).run()
        keep = not dry_run and (skip_bad_rows or not report.errors)
        if keep:
            session.commit()
            if engine.dialect.name == "postgresql" and _rows_written(report) >= ANALYZE_AFTER_ROWS:
                _analyze(engine)
        else:
            session.rollback()
        return ImportOutcome(report, keep, dry_run)


ANALYZE_AFTER_ROWS = 10_000
ANALYZED = ("department", "room", "server", "business_system", "system_server", "dependency", "utilization_sample",
            "utilization_daily")


def _rows_written(report: ImportReport) -> int:
    return report.samples_inserted + sum(c.created + c.updated for c in report.counts.values())


def _analyze(engine: Engine) -> None:
    """Vacuum and analyse after a big load, so the first queries get good plans and counts can use
    index-only scans (autovacuum would do so only minutes later)."""
    import sqlalchemy as sa

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM (ANALYZE) " + ", ".join(ANALYZED)))
