"""A survey's samples staged in short transactions, then moved in by the import's closing transaction.

Parsing and writing a million samples takes tens of seconds; on SQLite, holding the write lock that long
makes every other writer wait and then fail. So the import streams its samples into
``import_stage_sample`` one batch per transaction (the lock is held for one batch at a time), and its
single closing transaction — the entity sheets, then one ``INSERT … SELECT`` from the stage, the daily
rollups and the audit — keeps the import all-or-nothing. The stage rows are deleted afterwards on every
path; rows left by a crashed import are removed by the next import once they are a day old.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from inventory.bulk import append_rows
from inventory.records.survey import ParsedSurvey, RowError

SheetProgress = Callable[[str, int, int | None], None]  # sheet, rows done, rows in all (when known)
STAGE_TABLE = "import_stage_sample"
STAGE_COLUMNS = ("stage_id", "row", "hostname", "at", "cpu_util", "memory_util", "disk_used_gb")
STALE_AFTER = dt.timedelta(days=1)
DELETE_CHUNK = 50_000
_STAMP = "%Y%m%dT%H%M%SZ"


@dataclass
class StagedSamples:
    """What an import has staged: its id, the rows, the hosts they name and the times they span."""

    stage_id: str
    rows: int = 0
    hostnames: set[str] = field(default_factory=set)
    first: dt.datetime | None = None
    last: dt.datetime | None = None


def new_stage_id(now: dt.datetime) -> str:
    """A stage id that sorts by the UTC time the import began."""
    return f"{now.astimezone(dt.UTC):{_STAMP}}-{uuid.uuid4().hex[:12]}"


def stage_samples(engine: Engine, survey: ParsedSurvey, known_hostnames: Iterable[str], stage_id: str,
                  progress: SheetProgress | None = None) -> StagedSamples:
    """Stream the survey's samples into the stage, one committed batch at a time. A sample naming a host
    that is neither in the inventory nor in the survey's servers sheet is a row error and is not staged."""
    known = set(known_hostnames)
    staged = StagedSamples(stage_id)
    parsed, total = 0, survey.samples_total_rows
    sheet, column = survey.samples_location("hostname")
    for batch in survey.iter_samples():
        rows = []
        for sample in batch:
            if sample.hostname not in known:
                survey.errors.append(RowError(sheet, sample.row, column, sample.hostname,
                                              "unknown server: not in this survey nor in the inventory"))
                continue
            rows.append((stage_id, sample.row, sample.hostname, sample.at, sample.cpu_util, sample.memory_util,
                         sample.disk_used_gb))
            staged.hostnames.add(sample.hostname)
            staged.first = sample.at if staged.first is None or sample.at < staged.first else staged.first
            staged.last = sample.at if staged.last is None or sample.at > staged.last else staged.last
        with Session(engine) as session:
            staged.rows += append_rows(session, STAGE_TABLE, STAGE_COLUMNS, rows)
            session.commit()
        parsed += len(batch)
        if progress:
            progress("samples", parsed, total)
    return staged


_MOVE = f"""
INSERT INTO utilization_sample (server_id, at, cpu_util, memory_util, disk_used_gb, source)
SELECT s.id, st.at, st.cpu_util, st.memory_util, st.disk_used_gb, 'survey'
FROM {STAGE_TABLE} st JOIN server s ON s.hostname = st.hostname
WHERE st.stage_id = :stage
ON CONFLICT (server_id, at) DO NOTHING
"""
_ORPHANS = f"""
SELECT st.row, st.hostname FROM {STAGE_TABLE} st LEFT JOIN server s ON s.hostname = st.hostname
WHERE st.stage_id = :stage AND s.id IS NULL ORDER BY st.row
"""


def move_staged(session: Session, staged: StagedSamples) -> tuple[int, list[tuple[int, str]]]:
    """Inside the import's transaction: insert the staged samples whose server exists (a (server, time)
    already stored is kept); (rows inserted, (row, hostname) of staged samples with no server)."""
    inserted = session.execute(sa.text(_MOVE), {"stage": staged.stage_id}).rowcount  # type: ignore[attr-defined]
    orphans = [(int(r), str(h)) for r, h in session.execute(sa.text(_ORPHANS), {"stage": staged.stage_id})]
    return int(inserted), orphans


def _delete_where(engine: Engine, condition: str, params: dict[str, str]) -> None:
    """Delete stage rows: on SQLite in chunks, each its own short transaction (the write lock is held for
    one chunk at a time); PostgreSQL's row locks do not stop other writers, so there in one statement."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text(f"DELETE FROM {STAGE_TABLE} WHERE {condition}"), params)
        return
    chunk = (f"DELETE FROM {STAGE_TABLE} WHERE id IN (SELECT id FROM {STAGE_TABLE} WHERE {condition} "
             f"LIMIT {DELETE_CHUNK})")
    while True:
        with engine.begin() as connection:
            if connection.execute(sa.text(chunk), params).rowcount < DELETE_CHUNK:
                return


def drop_stage(engine: Engine, stage_id: str) -> None:
    """Remove an import's stage rows (after its commit or rollback)."""
    _delete_where(engine, "stage_id = :stage", {"stage": stage_id})


def drop_stale_stages(engine: Engine, now: dt.datetime) -> None:
    """Remove rows that imports which never finished left more than ``STALE_AFTER`` ago."""
    _delete_where(engine, "stage_id < :cutoff", {"cutoff": f"{(now - STALE_AFTER).astimezone(dt.UTC):{_STAMP}}"})
