"""Bulk writes both databases do fast, below the ORM: samples and rollups by the hundred thousand.

PostgreSQL: ``COPY`` into a temporary table, then one ``INSERT … SELECT … ON CONFLICT``. SQLite:
DB-API ``executemany`` of ``INSERT … ON CONFLICT``, with dates and times written in the exact text
form SQLAlchemy's SQLite types store, so rows written here and through the ORM compare equal.
Never one ORM object per row. Both paths return how many rows were new or changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

SAMPLE_TABLE = "utilization_sample"
SAMPLE_COLUMNS = ("server_id", "at", "cpu_util", "memory_util", "disk_used_gb", "source")
SAMPLE_KEYS = ("server_id", "at")
ROLLUP_TABLE = "utilization_daily"
ROLLUP_KEYS = ("server_id", "day")


def sqlite_datetime(moment: dt.datetime) -> str:
    """A time as SQLAlchemy's SQLite DATETIME stores it (UTC, microseconds, no offset)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


COPY_BLOCK = 20000
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any, cache: dict[Any, str]) -> str:
    kind = type(value)
    if kind is float or kind is int:
        return repr(value)
    if value is None:
        return "\\N"
    if isinstance(value, dt.date | dt.datetime):
        text = cache.get(value)
        if text is None:
            text = cache[value] = value.isoformat()
        return text
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


def _copy_line(row: Sequence[Any], cache: dict[Any, str] | None = None) -> str:
    """One row in COPY's text format (psycopg's per-row ``write_row`` costs several times more)."""
    memo = {} if cache is None else cache
    return "\t".join([_copy_text(v, memo) for v in row]) + "\n"


def _sqlite_value(value: Any, cache: dict[Any, str]) -> Any:
    if isinstance(value, dt.datetime):
        text = cache.get(value)
        if text is None:
            text = cache[value] = sqlite_datetime(value)
        return text
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def bulk_write(session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
               keys: Sequence[str], *, update: bool) -> int:
    """Insert ``rows`` into ``table``; on a key conflict update the other columns (``update``) or keep
    the stored row. Returns the rows inserted or updated."""
    if not rows:
        return 0
    names = ", ".join(columns)
    if update:
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
        conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
    else:
        conflict = f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
    raw = session.connection().connection.driver_connection
    assert raw is not None
    if session.get_bind().dialect.name == "postgresql":
        with raw.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS load_{table} (LIKE {table}) ON COMMIT DROP")
            cache: dict[Any, str] = {}
            with cursor.copy(f"COPY load_{table} ({names}) FROM STDIN") as copy:
                for offset in range(0, len(rows), COPY_BLOCK):
                    copy.write("".join([_copy_line(row, cache) for row in rows[offset : offset + COPY_BLOCK]]))
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM load_{table} {conflict}")
            changed = cursor.rowcount
            cursor.execute(f"TRUNCATE load_{table}")
        return int(changed)
    stamps: dict[Any, str] = {}
    params = [tuple(_sqlite_value(v, stamps) for v in row) for row in rows]
    cursor = raw.cursor()
    try:
        marks = ", ".join("?" for _ in columns)
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}", params)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def insert_samples(session: Session, rows: Sequence[tuple[int, dt.datetime, float, float, float | None, str]]) -> int:
    """Insert samples (columns ``SAMPLE_COLUMNS``), skipping existing (server, time); return new rows."""
    return bulk_write(session, SAMPLE_TABLE, SAMPLE_COLUMNS, rows, SAMPLE_KEYS, update=False)


def append_rows(session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Plain inserts of ``rows`` into ``table`` (no conflict handling): ``COPY`` on PostgreSQL,
    ``executemany`` on SQLite, with times in the form the ORM stores. Returns the rows written."""
    if not rows:
        return 0
    names = ", ".join(columns)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    if session.get_bind().dialect.name == "postgresql":
        cache: dict[Any, str] = {}
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for offset in range(0, len(rows), COPY_BLOCK):
                copy.write("".join([_copy_line(row, cache) for row in rows[offset : offset + COPY_BLOCK]]))
        return len(rows)
    stamps: dict[Any, str] = {}
    cursor = raw.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})",
                           [tuple(_sqlite_value(v, stamps) for v in row) for row in rows])
        return len(rows)
    finally:
        cursor.close()
