"""Backups: one portable SQLite file holding every Shangyun table and a manifest that proves it whole.

``backup`` snapshots a running database. From SQLite it uses SQLite's online backup API (one step, a
consistent snapshot while writers go on); from PostgreSQL it is ``copy_database`` into a new SQLite
file. Either way the file gets a ``shangyun_backup`` table: the format, the schema revision, when and
from where it was taken, and every table's row count and digest. The file is written beside its final
name and renamed into place once complete, so a killed backup leaves no file that looks like one.

``verify_backup`` checks a file before anything is restored from it: that it is SQLite, intact
(``quick_check``), a Shangyun backup, at a revision this code knows, and that every table still
matches its manifest (a truncated or altered file fails here). ``restore`` then works on a private copy
of the file, upgrades it when it is older than the code, and copies it into the target with
``copy_database``'s verification. A backup newer than the code is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from inventory.db import create_db_engine, current_revision, head_revision, is_sqlite, upgrade
from inventory.dbcopy.copy import (
    BATCH_ROWS,
    CopyReport,
    Progress,
    SchemaRevisionError,
    copy_database,
    known_revision,
    open_engine,
    require_head,
    shown,
)
from inventory.dbcopy.digest import table_digest
from inventory.errors import ConflictError, InvalidInputError

FORMAT = "shangyun-backup/1"
MANIFEST = "shangyun_backup"
SQLITE_MAGIC = b"SQLite format 3\x00"


class NotABackupError(InvalidInputError):
    """A file that is not a Shangyun backup, or one that is damaged."""


@dataclass(frozen=True)
class Manifest:
    """What a backup says about itself."""

    revision: str
    taken_at: str
    source: str
    tables: dict[str, tuple[int, str]]

    @property
    def rows(self) -> int:
        return sum(rows for rows, _ in self.tables.values())


def _digests(engine: Engine) -> dict[str, tuple[int, str]]:
    """Every table's (rows, digest) in a SQLite file, read as the file's own schema declares it."""
    meta = sa.MetaData()
    with engine.connect() as conn:
        meta.reflect(conn)
        return {name: table_digest(conn, table) for name, table in sorted(meta.tables.items())
                if name not in (MANIFEST, "alembic_version")}


def _write_manifest(path: Path, source: str) -> Manifest:
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        revision = current_revision(engine)
        assert revision is not None
        manifest = Manifest(revision, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), source,
                            _digests(engine))
    finally:
        engine.dispose()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(f"CREATE TABLE {MANIFEST} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.executemany(f"INSERT INTO {MANIFEST} VALUES (?, ?)", [
            ("format", FORMAT), ("revision", manifest.revision), ("taken_at", manifest.taken_at),
            ("source", manifest.source), ("tables", json.dumps(manifest.tables, sort_keys=True))])
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    return manifest


def _sqlite_file(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise InvalidInputError("an in-memory database cannot be backed up", field="from")
    return Path(database)


def backup(source_url: str, path: Path, *, force: bool = False, progress: Progress | None = None) -> Manifest:
    """Write a verified backup of ``source_url`` to ``path``; refuse an existing file unless ``force``."""
    if path.exists() and not force:
        raise ConflictError(f"{path} exists; give --force to replace it", field="file")
    if not path.parent.is_dir():
        raise InvalidInputError(f"no folder {path.parent}", field="file")
    source = open_engine(source_url, "source")
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if is_sqlite(source):
            revision = current_revision(source)
            if revision is None or not known_revision(revision):
                require_head(source, "source")  # names what is wrong

            with closing(sqlite3.connect(_sqlite_file(source))) as src, closing(sqlite3.connect(partial)) as dst:
                src.backup(dst)  # all pages in one step: a single consistent snapshot
        else:
            require_head(source, "source")
            copy_database(source_url, f"sqlite:///{partial}", batch_rows=BATCH_ROWS, progress=progress)
        manifest = _write_manifest(partial, shown(source))
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
        return manifest
    finally:
        source.dispose()
        partial.unlink(missing_ok=True)


def _read_manifest(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise NotABackupError(f"no backup file {path}", field="file")
    with open(path, "rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise NotABackupError(f"{path} is not a Shangyun backup (not an SQLite file)", field="file")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise NotABackupError(f"{path} is damaged ({problems[0]}); it may be truncated", field="file")
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MANIFEST,))
            if found.fetchone() is None:
                raise NotABackupError(f"{path} is not a Shangyun backup (no {MANIFEST} manifest)", field="file")
            return dict(conn.execute(f"SELECT key, value FROM {MANIFEST}").fetchall())
    except sqlite3.DatabaseError as exc:
        raise NotABackupError(f"{path} is damaged ({exc}); it may be truncated", field="file") from exc


def verify_backup(path: Path) -> Manifest:
    """Check ``path`` is a whole Shangyun backup this code can restore; return its manifest."""
    with tempfile.TemporaryDirectory(prefix="shangyun-verify-") as folder:
        return _verified(path, Path(folder))


def _verified(path: Path, folder: Path) -> Manifest:
    """``verify_backup``, leaving the private copy it checked in ``folder`` (``backup.sqlite``)."""
    entries = _read_manifest(path)
    if entries.get("format") != FORMAT:
        raise NotABackupError(f"{path} is a backup of format {entries.get('format')!r}, this Shangyun reads "
                              f"{FORMAT!r}", field="file")
    manifest = Manifest(entries["revision"], entries["taken_at"], entries["source"],
                        {name: (int(rows), digest) for name, (rows, digest) in json.loads(entries["tables"]).items()})
    if not known_revision(manifest.revision):
        raise SchemaRevisionError(f"{path} is at schema revision {manifest.revision}, newer than this Shangyun "
                                  f"({head_revision()}): restore it with the Shangyun that took it or a newer one",
                                  field="file")
    engine = create_db_engine(f"sqlite:///{_private_copy(path, folder)}")
    try:
        found = _digests(engine)
        stamped = current_revision(engine)
    except sa.exc.DatabaseError as exc:
        raise NotABackupError(f"{path} is damaged ({type(exc.orig).__name__}: {exc.orig})", field="file") from exc
    finally:
        engine.dispose()
    if stamped != manifest.revision:
        raise NotABackupError(f"{path} says revision {manifest.revision} but its schema is at {stamped}: it was "
                              "altered after it was taken", field="file")
    differing = sorted(name for name in manifest.tables.keys() | found.keys()
                       if manifest.tables.get(name) != found.get(name))
    if differing:
        raise NotABackupError(f"{path} does not match its manifest ({', '.join(differing[:5])}): it was altered or "
                              "damaged after it was taken", field="file")
    return manifest


def _private_copy(path: Path, folder: Path) -> Path:
    working = folder / "backup.sqlite"
    shutil.copyfile(path, working)
    return working


def restore(path: Path, target_url: str, *, force: bool = False, batch_rows: int = BATCH_ROWS,
            progress: Progress | None = None) -> tuple[Manifest, CopyReport]:
    """Restore the backup at ``path`` into ``target_url`` (upgrading an older one), verified."""
    with tempfile.TemporaryDirectory(prefix="shangyun-restore-") as folder:
        manifest = _verified(path, Path(folder))
        working = Path(folder) / "backup.sqlite"
        if manifest.revision != head_revision():
            engine = create_db_engine(f"sqlite:///{working}")
            try:
                upgrade(engine)
            finally:
                engine.dispose()
        report = copy_database(f"sqlite:///{working}", target_url, force=force, batch_rows=batch_rows,
                               progress=progress)
    report.source = str(path)
    return manifest, report


def prune(folder: Path, keep: int, pattern: str = "shangyun-*.sqlite") -> list[Path]:
    """Delete all but the newest ``keep`` backups named like ``pattern`` in ``folder``; return those removed."""
    found = sorted(folder.glob(pattern))
    removed = found[:-keep] if keep > 0 else found
    for old in removed:
        old.unlink()
    return removed
