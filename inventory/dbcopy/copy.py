"""Copy every table of Shangyun's schema from one database to another, then verify it.

The source is read in one snapshot (PostgreSQL ``REPEATABLE READ READ ONLY``; SQLite one read
transaction), so a copy taken while imports run is consistent. The target is written in one
transaction, committed only after every table's row count and digest (``digest.table_digest``) match
the source's: a copy that is killed, fails or does not verify leaves the target as it was (empty, or
its old rows under ``--force``), never half-written. Rows stream in batches of ``batch_rows``, so
memory stays bounded whatever the size of the samples table. Ids are copied as they are, PostgreSQL
sequences are moved past them, and self-references (a department's parent) are set once every row
of the table exists. Timestamps travel as aware UTC datetimes, so no time zone setting shifts them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from inventory.db import (
    MIGRATIONS_DIR,
    create_db_engine,
    current_revision,
    head_revision,
    is_sqlite,
    normalize_url,
    upgrade,
)
from inventory.dbcopy.digest import MODULUS, digest_form, is_json, read_columns, row_hash, row_reader, table_digest
from inventory.errors import ConflictError, ExternalError, InvalidInputError, ShangyunError

BATCH_ROWS = 5000
Progress = Callable[[str, int, int], None]  # table, rows done, rows in the table


class DatabaseUnreachableError(ExternalError):
    """A database URL that cannot be opened."""


class SchemaRevisionError(ConflictError):
    """A database (or backup) at another schema revision than this code's."""


class TargetNotEmptyError(ConflictError):
    """A copy's target already holds rows."""


@dataclass(frozen=True)
class TableCheck:
    """One table's verification: rows and digest on each side."""

    table: str
    source_rows: int
    target_rows: int
    source_digest: str
    target_digest: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_digest == self.target_digest


@dataclass
class CopyReport:
    """What a copy moved and how it verified."""

    source: str
    target: str
    checks: list[TableCheck] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(c.source_rows for c in self.checks)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


class CopyVerificationError(ShangyunError):
    """The target does not match the source; the copy was rolled back. ``report`` holds the checks."""

    status = 500

    def __init__(self, report: CopyReport) -> None:
        bad = [c.table for c in report.checks if not c.ok]
        super().__init__(f"verification failed for {', '.join(bad)}; nothing was written to {report.target}")
        self.report = report


def tables() -> list[sa.Table]:
    """Shangyun's tables, parents before children."""
    import inventory.models  # noqa: F401  (registers every table)

    return list(SQLModel.metadata.sorted_tables)


def shown(engine: Engine) -> str:
    """The engine's URL with any password hidden."""
    return engine.url.render_as_string(hide_password=True)


ROLE_FIELDS = {"source": "from", "target": "to"}


def open_engine(url: str, role: str) -> Engine:
    """An engine on ``url`` (``role`` is source or target) that has answered a query; a named error when
    it cannot be reached."""
    try:
        engine = create_db_engine(url)
    except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
        raise InvalidInputError(f"the {role} URL is not a database URL ({type(exc).__name__})",
                                field=ROLE_FIELDS[role]) from exc
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        engine.dispose()
        raise DatabaseUnreachableError(f"cannot open the {role} database {shown(engine)}: {reason}",
                                       field=ROLE_FIELDS[role]) from exc
    return engine


def known_revision(revision: str) -> bool:
    """Whether this code's migrations know ``revision``."""
    try:
        return ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(revision) is not None
    except CommandError:
        return False


def require_head(engine: Engine, role: str) -> None:
    """Refuse a database whose schema is not this code's newest revision, saying what to do."""
    revision, head = current_revision(engine), head_revision()
    if revision == head:
        return
    if revision is None:
        raise SchemaRevisionError(f"the {role} database {shown(engine)} holds no Shangyun schema",
                                  field=ROLE_FIELDS[role])
    advice = ("run `shangyun db upgrade --url …` on it first" if known_revision(revision)
              else "it is newer than this Shangyun; use a Shangyun that knows it")
    raise SchemaRevisionError(f"the {role} database {shown(engine)} is at schema revision {revision}, this "
                              f"Shangyun copies revision {head}: {advice}", field=ROLE_FIELDS[role])


def prepare_target(engine: Engine) -> None:
    """Give an empty target the schema (and PostgreSQL's search indexes); refuse any other revision."""
    if current_revision(engine) is None:
        ours = {t.name for t in tables()}
        present = set(sa.inspect(engine).get_table_names())
        if present:
            foreign = sorted(present - ours) or sorted(present)
            raise SchemaRevisionError(f"the target database {shown(engine)} holds tables but no Shangyun schema "
                                      f"revision ({', '.join(foreign[:5])}…): choose an empty database", field="to")
        upgrade(engine)
        if engine.dialect.name == "postgresql":
            from inventory.search_index import ensure_trigram_indexes

            with engine.begin() as conn:
                ensure_trigram_indexes(conn)
    require_head(engine, "target")


@contextmanager
def snapshot(engine: Engine) -> Iterator[sa.Connection]:
    """A connection reading one consistent, read-only snapshot of ``engine``'s database."""
    if is_sqlite(engine):
        with engine.connect() as conn:
            conn.exec_driver_sql("BEGIN")  # pysqlite would leave each SELECT in its own snapshot
            try:
                yield conn
            finally:
                conn.rollback()
        return
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        try:
            yield conn
        finally:
            conn.rollback()


def _row_counts(conn: sa.Connection) -> dict[str, int]:
    return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in tables()}


def _empty(conn: sa.Connection, force: bool, target: str) -> None:
    full = {name: n for name, n in _row_counts(conn).items() if n}
    if not full:
        return
    if not force:
        listed = ", ".join(f"{name} {n}" for name, n in list(full.items())[:6])
        raise TargetNotEmptyError(f"the target database {target} is not empty ({listed} rows…); give --force to "
                                  "replace its contents", field="to")
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables())))
    else:
        for table in reversed(tables()):
            conn.execute(table.delete())


Writer = Callable[[list[tuple[Any, ...]]], None]


def _writer(dst: sa.Connection, table: sa.Table) -> Writer:
    """A function writing a batch of row tuples (``read_columns`` order) into ``table`` on ``dst``:
    PostgreSQL's COPY (JSON goes in as the text it was read as), else an executemany INSERT."""
    names = [c.name for c in table.columns]
    if dst.dialect.name == "postgresql":
        columns = ", ".join(f'"{name}"' for name in names)
        statement = f'COPY "{table.name}" ({columns}) FROM STDIN'
        driver = dst.connection.driver_connection
        assert driver is not None

        def copy_rows(batch: list[tuple[Any, ...]]) -> None:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for row in batch:
                    copy.write_row(row)

        return copy_rows
    values: dict[str, Any] = {}
    for column in table.columns:
        values[column.name] = sa.bindparam(f"v_{column.name}", type_=sa.Text if is_json(column) else column.type)
    insert = table.insert().values(values)

    def insert_rows(batch: list[tuple[Any, ...]]) -> None:
        dst.execute(insert, [{f"v_{n}": v for n, v in zip(names, row, strict=True)} for row in batch])

    return insert_rows


def _self_references(table: sa.Table) -> list[tuple[int, int]]:
    """(column index, referenced column index) of each foreign key from ``table`` to itself."""
    names = [c.name for c in table.columns]
    return [(names.index(fk.parent.name), names.index(fk.column.name))
            for fk in table.foreign_keys if fk.column.table is table]


def copy_table(src: sa.Connection, dst: sa.Connection, table: sa.Table, batch_rows: int,
               progress: Progress | None = None) -> tuple[int, str]:
    """Copy ``table`` in batches; return the source side's (rows, digest) of what was copied."""
    total_rows = src.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    write = _writer(dst, table)
    self_refs = _self_references(table)
    later: list[tuple[int, dict[str, Any]]] = []
    digest, done = 0, 0
    order = list(table.primary_key.columns)
    read, form = row_reader(table), digest_form(table)
    query = sa.select(*read_columns(table, src.dialect.name)).order_by(*order)
    for partition in src.execution_options(yield_per=batch_rows).execute(query).partitions():
        batch = [read(row) for row in partition]
        digest += sum(row_hash(form(row)) for row in batch)
        if self_refs:  # a row may name a parent copied after it: set the reference once all rows exist
            for i, row in enumerate(batch):
                mutable = list(row)
                for column, referenced in self_refs:
                    if row[column] is not None:
                        later.append((column, {"v_ref": row[column], "v_key": row[referenced]}))
                        mutable[column] = None
                batch[i] = tuple(mutable)
        write(batch)
        done += len(batch)
        if progress:
            progress(table.name, done, total_rows)
    for column, referenced in self_refs:
        updates = [values for index, values in later if index == column]
        if updates:
            dst.execute(table.update().where(table.columns[referenced] == sa.bindparam("v_key"))
                        .values({table.columns[column].name: sa.bindparam("v_ref")}), updates)
    if progress and not done:
        progress(table.name, 0, 0)
    return done, f"{digest % MODULUS:064x}"


def _move_sequences(conn: sa.Connection) -> None:
    """Start each PostgreSQL id sequence after the highest id copied."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer) or keys[0].autoincrement is False:
            continue
        key = keys[0].name
        conn.execute(sa.text(f'SELECT setval(pg_get_serial_sequence(:table, :key), '
                             f'COALESCE((SELECT MAX("{key}") FROM "{table.name}"), 0) + 1, false)'),
                     {"table": table.name, "key": key})


def copy_database(source_url: str, target_url: str, *, force: bool = False, batch_rows: int = BATCH_ROWS,
                  progress: Progress | None = None) -> CopyReport:
    """Copy every Shangyun table from ``source_url`` to ``target_url`` and verify each; raises
    ``CopyVerificationError`` (target rolled back) when any table differs."""
    if batch_rows < 1 or batch_rows > 100_000:
        raise InvalidInputError("batch rows must be between 1 and 100000", field="batch_rows")
    if normalize_url(source_url) == normalize_url(target_url):
        raise InvalidInputError("the source and the target are the same database", field="to")
    source = open_engine(source_url, "source")
    try:
        require_head(source, "source")  # before the target is touched: a SQLite target file would be made
        target = open_engine(target_url, "target")
        try:
            prepare_target(target)
            return _copy(source, target, force, batch_rows, progress)
        finally:
            target.dispose()
    finally:
        source.dispose()


def _copy(source: Engine, target: Engine, force: bool, batch_rows: int, progress: Progress | None) -> CopyReport:
    started = time.monotonic()
    report = CopyReport(source=shown(source), target=shown(target))
    with snapshot(source) as src, target.connect() as dst:
        if is_sqlite(target):
            dst.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock before counting
        _empty(dst, force, report.target)
        copied = {table.name: copy_table(src, dst, table, batch_rows, progress) for table in tables()}
        _move_sequences(dst)
        for table in tables():
            rows, digest = copied[table.name]
            target_rows, target_digest = table_digest(dst, table)
            report.checks.append(TableCheck(table.name, rows, target_rows, digest, target_digest))
        report.seconds = time.monotonic() - started
        if not report.ok:
            dst.rollback()
            raise CopyVerificationError(report)
        dst.commit()
    return report
