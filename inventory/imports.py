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
from inventory.survey_writer import ImportReport, SheetProgress, SurveyWriter


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
        else:
            session.rollback()
        return ImportOutcome(report, keep, dry_run)
