"""`shangyun db copy`, `db backup`, `db restore`: every row of every table arrives, on both backends.

Each comparison reads both databases row by row with plain SQLAlchemy (``tests.dbcopy_estate.every_row``),
never through the copy's own digest.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command

from collectors.sample.estate import SCALES, generate, write_estate
from inventory.db import alembic_config, create_db_engine, current_revision, head_revision, normalize_url
from inventory.settings import SchedulerSettings
from scheduler.service import ScheduleError, triggers
from tests.conftest import PG_URL, SHANGYUN, run_cli, run_cli_here
from tests.dbcopy_estate import every_row, populate

STAGE = "import_stage_sample"  # an import's short-lived staging rows (inventory.writers.staged_samples)


@pytest.fixture
def fresh_pg(request: pytest.FixtureRequest, worker_id: str) -> Iterator[Callable[[], str]]:
    """Make empty PostgreSQL schemas (no tables at all) on the test server; dropped afterwards."""
    request.getfixturevalue("pg_url")  # skips, or fails under SHANGYUN_REQUIRE_PG, without a server
    admin = sa.create_engine(normalize_url(PG_URL))
    made: list[str] = []

    def make() -> str:
        schema = f"shangyun_copy_{worker_id}_{os.getpid()}_{len(made)}"
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        made.append(schema)
        separator = "&" if "?" in PG_URL else "?"
        return f"{PG_URL}{separator}options=-csearch_path%3D{schema}"

    yield make
    with admin.begin() as conn:
        for schema in made:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


def _migrated_sqlite(path: Path, template: Path) -> str:
    shutil.copy(template, path)
    return _sqlite(path)


def _counts(db_url: str) -> dict[str, int]:
    return {name: len(rows) for name, rows in every_row(db_url).items()}


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_copy_carries_every_row_through_postgresql_and_back_and_the_copies_work(
        tmp_path: Path, tiny_estate: Path, sqlite_template: Path, fresh_pg: Callable[[], str]) -> None:
    source = _migrated_sqlite(tmp_path / "source.db", sqlite_template)
    populate(source, tiny_estate)
    expected = every_row(source)
    assert all(expected[name] for name in expected if name not in (STAGE, "cloud_host", "cloud_instance", "volume",
                                                                    "storage_pool", "namespace_usage",
                                                                    "observed_listener", "server_observation",
                                                                    "platform_expansion", "dependency"))
    first, second, back = fresh_pg(), fresh_pg(), _sqlite(tmp_path / "back.db")
    for origin, target in ((source, first), (first, second), (second, back)):
        out = _ok(run_cli("db", "copy", "--from", origin, "--to", target, db_url=origin))
        assert "verified" in out and "DIFFERS" not in out
        assert every_row(target) == expected, f"{origin} → {target}"
    assert current_revision(create_db_engine(back)) == head_revision()
    # The copies are working databases: their id sequences continue after the copied ids, and reports agree.
    for target in (second, back):
        _ok(run_cli_here("user", "add", "new-user", "--role", "viewer", "--password-stdin", db_url=target,
                         stdin="another-long-password\n"))
        ids = [row[0] for row in every_row(target)["app_user"]]
        assert max(ids) == max(row[0] for row in expected["app_user"]) + 1
    assert _ok(run_cli_here("plan", "show", "t", db_url=back)) == _ok(run_cli_here("plan", "show", "t", db_url=source))


def test_a_target_that_holds_rows_is_refused_unless_forced(db_url: str, tmp_path: Path, tiny_estate: Path,
                                                            sqlite_template: Path) -> None:
    source = _migrated_sqlite(tmp_path / "source.db", sqlite_template)
    _ok(run_cli_here("import", str(tiny_estate), db_url=source))
    _ok(run_cli_here("user", "add", "already-here", "--role", "viewer", "--password-stdin", db_url=db_url,
                     stdin="another-long-password\n"))
    before = every_row(db_url)
    refused = run_cli_here("db", "copy", "--from", source, "--to", db_url, db_url=source)
    assert refused.returncode == 2 and "not empty" in refused.stderr and "--force" in refused.stderr
    assert every_row(db_url) == before
    _ok(run_cli_here("db", "copy", "--from", source, "--to", db_url, "--force", db_url=source))
    assert every_row(db_url) == every_row(source)


def test_a_copy_that_does_not_verify_is_rolled_back_and_shown(db_url: str, tmp_path: Path, tiny_estate: Path,
                                                               sqlite_template: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that loses one utilization sample: verification names the table and the target stays empty."""
    from inventory.dbcopy import copy as dbcopy

    source = _migrated_sqlite(tmp_path / "source.db", sqlite_template)
    _ok(run_cli_here("import", str(tiny_estate), db_url=source))
    real_writer = dbcopy._writer

    def lossy(dst: sa.Connection, table: sa.Table) -> dbcopy.Writer:
        write = real_writer(dst, table)
        return (lambda batch: write(batch[:-1])) if table.name == "utilization_sample" else write

    monkeypatch.setattr(dbcopy, "_writer", lossy)
    with pytest.raises(dbcopy.CopyVerificationError, match="verification failed for utilization_sample;") as failed:
        dbcopy.copy_database(source, db_url)
    bad = [check for check in failed.value.report.checks if not check.ok]
    batches = -(-len(every_row(source)["utilization_sample"]) // dbcopy.BATCH_ROWS)
    assert [(c.table, c.source_rows - c.target_rows) for c in bad] == [("utilization_sample", batches)]
    assert not any(_counts(db_url).values())


def test_backup_verify_and_restore_onto_the_other_backend(db_url: str, tmp_path: Path, tiny_estate: Path,
                                                          request: pytest.FixtureRequest) -> None:
    populate(db_url, tiny_estate)
    expected = every_row(db_url)
    backup = tmp_path / "estate.sqlite"
    out = _ok(run_cli("db", "backup", str(backup), "--from", db_url, db_url=db_url))
    assert f"revision {head_revision()}" in out and not list(tmp_path.glob("*.partial"))
    assert "verified" in _ok(run_cli_here("db", "verify", str(backup), db_url=db_url))
    on_postgresql = db_url.startswith("postgresql")
    target = _sqlite(tmp_path / "restored.db") if on_postgresql else request.getfixturevalue("fresh_pg")()
    out = _ok(run_cli("db", "restore", str(backup), "--to", target, db_url=db_url))
    assert "verified" in out
    assert every_row(target) == expected


def test_an_older_backup_is_upgraded_on_restore_and_a_newer_one_refused(tmp_path: Path, tiny_estate: Path,
                                                                        sqlite_template: Path) -> None:
    """The older backup is the planned estate downgraded to 0017; restored, the upgrade refills each plan
    item's zone and destination from its plan, so it equals the estate as it was before the downgrade."""
    source = _migrated_sqlite(tmp_path / "source.db", sqlite_template)
    for args in (("import", str(tiny_estate)), ("plan", "create", "--name", "t", "--start", "2026-12-07")):
        _ok(run_cli_here(*args, db_url=source))
    expected = every_row(source)
    engine = create_db_engine(source)
    command.downgrade(alembic_config(engine), "0017")
    engine.dispose()
    old = tmp_path / "old.sqlite"
    assert "revision 0017" in _ok(run_cli_here("db", "backup", str(old), "--from", source, db_url=source))
    restored = _sqlite(tmp_path / "restored.db")
    _ok(run_cli_here("db", "restore", str(old), "--to", restored, db_url=source))
    assert current_revision(create_db_engine(restored)) == head_revision()
    assert every_row(restored) == expected

    newer = tmp_path / "newer.sqlite"
    shutil.copy(old, newer)
    with sqlite3.connect(newer) as conn:  # as a later Shangyun would stamp it
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.execute("UPDATE shangyun_backup SET value = '9999' WHERE key = 'revision'")
    conn.close()
    target = tmp_path / "never.db"
    refused = run_cli_here("db", "restore", str(newer), "--to", _sqlite(target), db_url=source)
    assert refused.returncode == 2 and "newer than this Shangyun" in refused.stderr
    assert not target.exists()


def test_bad_input_is_named_and_nothing_is_written(tmp_path: Path, tiny_estate: Path, sqlite_template: Path) -> None:
    source = _migrated_sqlite(tmp_path / "source.db", sqlite_template)
    _ok(run_cli_here("import", str(tiny_estate), db_url=source))
    backup = tmp_path / "good.sqlite"
    _ok(run_cli_here("db", "backup", str(backup), "--from", source, db_url=source))

    unreachable = run_cli_here("db", "copy", "--from", source, "--to", "postgresql://shangyun:s3cret-pw@127.0.0.1:1/x",
                               db_url=source)
    assert unreachable.returncode == 2 and "cannot open the target database" in unreachable.stderr
    assert "s3cret-pw" not in unreachable.stderr + unreachable.stdout

    other_revision = tmp_path / "other.db"
    shutil.copy(sqlite_template, other_revision)
    engine = create_db_engine(_sqlite(other_revision))
    command.downgrade(alembic_config(engine), "0017")
    engine.dispose()
    refused = run_cli_here("db", "copy", "--from", source, "--to", _sqlite(other_revision), db_url=source)
    assert refused.returncode == 2 and "revision 0017" in refused.stderr
    assert current_revision(create_db_engine(_sqlite(other_revision))) == "0017"

    not_a_backup = tmp_path / "notes.sqlite"
    not_a_backup.write_text("这不是备份\n")
    truncated = tmp_path / "truncated.sqlite"
    truncated.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    altered = tmp_path / "altered.sqlite"
    shutil.copy(backup, altered)
    with sqlite3.connect(altered) as conn:
        conn.execute("UPDATE server SET cpu_cores = cpu_cores + 1 WHERE id = (SELECT MIN(id) FROM server)")
    conn.close()
    plain_sqlite = tmp_path / "plain.sqlite"
    shutil.copy(sqlite_template, plain_sqlite)
    for file, message in ((tmp_path / "missing.sqlite", "no backup file"), (not_a_backup, "not an SQLite file"),
                          (truncated, "damaged"), (altered, "does not match its manifest (server)"),
                          (plain_sqlite, "no shangyun_backup manifest")):
        target = tmp_path / f"target-{file.stem}.db"
        result = run_cli_here("db", "restore", str(file), "--to", _sqlite(target), db_url=source)
        assert result.returncode == 2 and message in result.stderr, (file, result.stderr)
        assert not target.exists()


def _kill_when(args: list[str], db_url: str, line: str) -> None:
    """Start ``shangyun *args`` and SIGKILL it as soon as it prints ``line``."""
    env = os.environ | {"SHANGYUN_DATABASE_URL": db_url, "COLUMNS": "200"}
    process = subprocess.Popen([SHANGYUN, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert process.stdout is not None
    seen = []
    for out in process.stdout:
        seen.append(out)
        if line in out:
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen)


@pytest.mark.parametrize(("verb", "kind"), [("restore", "sqlite"),
                                           pytest.param("copy", "postgresql", marks=pytest.mark.postgres)])
def test_a_copy_or_restore_killed_midway_leaves_the_target_empty_then_completes(
        verb: str, kind: str, tmp_path: Path, tiny_estate: Path, sqlite_template: Path,
        request: pytest.FixtureRequest) -> None:
    """A restore is a copy from the backup (``copy_database``), so each verb is killed once, on each backend
    once: the target's single transaction is what is under test."""
    source = _migrated_sqlite(tmp_path / "source.db", sqlite_template)
    _ok(run_cli_here("import", str(tiny_estate), db_url=source))
    expected = every_row(source)
    backup = tmp_path / "estate.sqlite"
    _ok(run_cli_here("db", "backup", str(backup), "--from", source, db_url=source))
    where = request.getfixturevalue("fresh_pg")() if kind == "postgresql" else _sqlite(tmp_path / "target.db")
    # 30,000 samples in batches of 20 after utilization_daily: the kill lands while they are written.
    args = (["db", "copy", "--from", source] if verb == "copy" else ["db", "restore", str(backup)]) + [
        "--batch-rows", "20", "--to", where]
    _kill_when(args, source, "copied utilization_daily")
    assert not any(_counts(where).values()), f"{verb} left rows behind"
    assert "verified" in _ok(run_cli(*args, db_url=source))
    assert every_row(where) == expected


def test_a_backup_taken_while_an_import_runs_restores_to_a_consistent_state(
        db_url: str, tmp_path: Path, tiny_estate: Path) -> None:
    """Each backup taken during the import equals, table by table, the estate before the import or the
    estate after it (its staging table aside), never a mixture."""
    _ok(run_cli_here("import", str(tiny_estate), db_url=db_url))
    before = every_row(db_url)
    second = tmp_path / "estate-8"
    write_estate(generate(SCALES["tiny"], seed=8), second)
    env = os.environ | {"SHANGYUN_DATABASE_URL": db_url}
    importing = subprocess.Popen([SHANGYUN, "import", str(second)], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
    from inventory.dbcopy.backup import backup

    taken: list[Path] = []
    while importing.poll() is None and len(taken) < 4:
        path = tmp_path / f"during-{len(taken)}.sqlite"
        backup(db_url, path)
        taken.append(path)
        time.sleep(0.2)
    _, errors = importing.communicate(timeout=120)
    assert importing.returncode == 0, errors
    after = every_row(db_url)
    assert after["server"] != before["server"]
    assert taken, "the import ended before a backup was taken"
    restored = _sqlite(tmp_path / "restored.db")  # the restore path once; the other backups are read as they are
    _ok(run_cli_here("db", "restore", str(taken[0]), "--to", restored, db_url=db_url))
    states = []
    for source in [restored, *(_sqlite(path) for path in taken[1:])]:
        rows = every_row(source)
        rows.pop(STAGE)
        states.append("before" if rows == {k: v for k, v in before.items() if k != STAGE} else
                      "after" if rows == {k: v for k, v in after.items() if k != STAGE} else "MIXED")
    assert "MIXED" not in states, states


def test_the_scheduled_backup_job_writes_keeps_the_newest_and_records_each_run(
        tmp_path: Path, tiny_estate: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_url = _migrated_sqlite(tmp_path / "source.db", sqlite_template)
    _ok(run_cli_here("import", str(tiny_estate), db_url=db_url))
    folder = tmp_path / "backups"
    with pytest.raises(ScheduleError, match="SHANGYUN_SCHEDULER_BACKUP_DIR is not"):
        triggers(SchedulerSettings(backup="every 1h"), ZoneInfo("Asia/Shanghai"))
    monkeypatch.setenv("SHANGYUN_SCHEDULER_BACKUP_DIR", str(folder))
    monkeypatch.setenv("SHANGYUN_SCHEDULER_BACKUP_KEEP", "2")
    for _ in range(3):
        _ok(run_cli_here("scheduler", "run", "--job", "backup", db_url=db_url))
        time.sleep(1.1)  # backups are named by the second
    kept = sorted(folder.glob("shangyun-*.sqlite"))
    assert len(kept) == 2
    for path in kept:
        assert "verified" in _ok(run_cli_here("db", "verify", str(path), db_url=db_url))
    engine = create_db_engine(db_url)
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT status, summary FROM job_run WHERE job = 'backup' ORDER BY id")).all()
    engine.dispose()
    assert [status for status, _ in runs] == ["ok"] * 3
    assert "1 older backup(s) removed" in runs[2][1] and kept[-1].name in runs[2][1]
