"""A long survey import and the embedded database's one writer lock (issue 15 §9).

Attack reproduced: a 60 s import held SQLite's write lock from its first row to its commit, so every
other writer (agents, capacity requests, logins) waited and then failed. Now the samples are staged in
short transactions and only the closing transaction holds the lock; it stays all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.models import ImportStageSample, UtilizationSample
from tests.survey_files import snapshot

ACTOR = Actor("test:staged-import")
HOURS = 4000  # × 60 servers: 240,000 samples, several seconds of import on this machine


def _long_survey(tiny_estate: Path, out: Path, *, bad_room: bool = False) -> int:
    """The tiny estate with ``HOURS`` hourly samples per server; optionally a room naming no department."""
    shutil.copytree(tiny_estate, out)
    lines = (out / "samples.csv").read_text(encoding="utf-8-sig").splitlines()
    hosts = sorted({line.split(",")[0] for line in lines[1:]})
    start = dt.datetime(2026, 1, 1)
    rows = [lines[0]] + [f"{h},{start + dt.timedelta(hours=k):%Y-%m-%dT%H:%M:%S},{k % 90 + 1}.5,{k % 70 + 10}.25,"
                         f"{100 + k % 7}" for h in hosts for k in range(HOURS)]
    (out / "samples.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    if bad_room:
        rooms = (out / "rooms.csv").read_text(encoding="utf-8-sig").splitlines()
        header = rooms[0].split(",")
        cells = rooms[-1].split(",")
        cells[next(i for i, h in enumerate(header) if "部门" in h or "department" in h.lower())] = "NO-SUCH-DEPT"
        (out / "rooms.csv").write_text("\n".join([*rooms[:-1], ",".join(cells)]) + "\n", encoding="utf-8")
    return len(rows) - 1


def test_a_long_import_leaves_the_write_lock_free_most_of_the_time(sqlite_template: Path, tiny_estate: Path,
                                                                  tmp_path: Path) -> None:
    """A second writer probes the lock every 20 ms through the whole import. Held from first write to
    commit (the old way), it would be unavailable in one stretch of nearly the whole import; staged, it is
    taken in short bursts (a batch each), and the longest stretch is the closing transaction's."""
    path = tmp_path / "shangyun.db"
    shutil.copy(sqlite_template, path)
    engine = sa.create_engine(f"sqlite:///{path}")
    samples = _long_survey(tiny_estate, tmp_path / "survey")
    probes: list[tuple[float, bool]] = []
    done = threading.Event()

    def probe() -> None:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        while not done.is_set():
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                probes.append((time.monotonic(), True))
            except sqlite3.OperationalError:  # database is locked
                probes.append((time.monotonic(), False))
            time.sleep(0.02)
        other.close()

    watcher = threading.Thread(target=probe)
    started = time.monotonic()
    watcher.start()
    try:
        outcome = import_survey(tmp_path / "survey", engine=engine, actor=ACTOR)
    finally:
        done.set()
        watcher.join()
    took = time.monotonic() - started
    assert outcome.written and outcome.report.samples_inserted == samples
    longest, since, openings = 0.0, None, 0
    for at, free in probes:
        if not free and since is None:
            since = at
        if free and since is not None:
            longest, since, openings = max(longest, at - since), None, openings + 1
    assert took > 2 and longest < 0.35 * took and openings >= 5, (took, longest, openings)
    with Session(engine) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(ImportStageSample)).scalar_one() == 0
    engine.dispose()


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_failed_or_dry_import_leaves_no_sample_and_no_stage(engine: Engine, tiny_estate: Path, tmp_path: Path,
                                                              dry_run: bool) -> None:
    """All-or-nothing although the samples were committed to the stage: a bad row in another sheet (or a
    dry run) writes no sample, and the stage is emptied."""
    _long_survey(tiny_estate, tmp_path / "survey", bad_room=not dry_run)
    before = snapshot(engine)
    outcome = import_survey(tmp_path / "survey", engine=engine, actor=ACTOR, dry_run=dry_run)
    assert not outcome.written
    assert dry_run or any(e.value == "NO-SUCH-DEPT" for e in outcome.report.errors)
    assert snapshot(engine) == before


def test_rows_a_crashed_import_left_are_removed_after_a_day(engine: Engine, tiny_estate: Path) -> None:
    """Stage rows whose import began more than a day ago are removed by the next import; a running
    import's (begun an hour ago) are left alone."""
    now = dt.datetime.now(dt.UTC)
    left = {f"{now - dt.timedelta(days=2):%Y%m%dT%H%M%SZ}-crashed00000": 3,
            f"{now - dt.timedelta(hours=1):%Y%m%dT%H%M%SZ}-running00000": 2}
    with Session(engine) as session:
        for stage, count in left.items():
            session.add_all(ImportStageSample(stage_id=stage, row=k + 2, hostname="h", at=now, cpu_util=0.1,
                                              memory_util=0.1) for k in range(count))
        session.commit()
    outcome = import_survey(tiny_estate, engine=engine, actor=ACTOR)
    assert outcome.written and outcome.report.samples_inserted > 0
    with Session(engine) as session:
        stages = session.execute(sa.select(col(ImportStageSample.stage_id), sa.func.count()).group_by(
            col(ImportStageSample.stage_id))).all()
        samples = session.execute(sa.select(sa.func.count()).select_from(UtilizationSample)).scalar_one()
    assert dict(stages) == {stage: n for stage, n in left.items() if "running" in stage}
    assert samples == outcome.report.samples_inserted
