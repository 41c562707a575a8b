"""A table's content digest, computed the same way on SQLite and PostgreSQL.

Each row's ``repr`` is hashed with SHA-256; the table's digest is the sum of its rows' hashes
modulo 2**256. A sum does not depend on the order rows come back in, so text keys,
which the two databases sort by different collations, need no common order; every row is unique (a
primary key), so two tables with the same count and digest hold the same rows unless SHA-256 collides.

Values are read as the copy reads them (``read_columns``): JSON as its stored text, so a JSON
``null`` and an SQL NULL stay different; a document that is a bare number compares by value
(``json_number``), since SQLite keeps ``16.0`` as 16. Timestamps come back as aware UTC datetimes on both backends
(``timestamptz``; SQLite's text, both through SQLModel's ``UTCDateTime``), so they compare as they are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

MODULUS = 2**256
STREAM_ROWS = 5000
NUMBER_START = frozenset("-0123456789")


def is_json(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.JSON)


def read_columns(table: sa.Table, dialect: str) -> list[sa.ColumnElement[Any]]:
    """The columns of ``table`` as the copy and the digest read them: JSON as its stored text (on SQLite
    the raw stored value, which ``json_text`` turns into text), the rest as typed."""
    return [(sa.cast(c, sa.Text) if dialect == "postgresql" else sa.type_coerce(c, sa.types.NullType())).label(c.name)
            if is_json(c) else c for c in table.columns]


def json_text(value: Any) -> Any:
    """A JSON column's raw value as JSON text. SQLite gives its JSON columns NUMERIC affinity, so a
    document that is a bare number is stored as a number; its JSON text is the number's ``repr``, as
    ``json.dumps`` wrote it (SQLite's own CAST to text would round a float to 15 digits)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    return value


def json_number(text: Any) -> Any:
    """A JSON document that is a bare number, as SQLite keeps it: its NUMERIC affinity stores ``16.0`` as
    the integer 16, so the digest compares such a document by value (``16.0`` and ``16`` alike)."""
    if not isinstance(text, str) or text[:1] not in NUMBER_START:
        return text
    try:
        number = json.loads(text)
    except ValueError:
        return text
    if isinstance(number, float) and number.is_integer() and abs(number) < 2**63:
        return str(int(number))
    return json.dumps(number)


Reader = Callable[[Sequence[Any]], tuple[Any, ...]]


def _on_json_columns(table: sa.Table, convert: Callable[[Any], Any]) -> Reader:
    """A function applying ``convert`` to a row's JSON columns (plain ``tuple`` when the table has none)."""
    positions = [i for i, c in enumerate(table.columns) if is_json(c)]
    if not positions:
        return tuple

    def apply(row: Sequence[Any]) -> tuple[Any, ...]:
        values = list(row)
        for i in positions:
            values[i] = convert(values[i])
        return tuple(values)

    return apply


def row_reader(table: sa.Table) -> Reader:
    """A function turning a row read with ``read_columns`` into the tuple the copy writes."""
    return _on_json_columns(table, json_text)


def digest_form(table: sa.Table) -> Reader:
    """A function turning a row as the copy writes it into the tuple the digest hashes."""
    return _on_json_columns(table, json_number)


def row_hash(row: tuple[Any, ...]) -> int:
    """SHA-256 of the row's ``repr`` as an integer. Both backends hand back the same Python values
    (ints, floats, naive datetimes, dates, str, JSON text), and ``repr`` renders floats exactly."""
    return int.from_bytes(hashlib.sha256(repr(row).encode()).digest(), "big")


def table_digest(conn: sa.Connection, table: sa.Table) -> tuple[int, str]:
    """(rows, hex digest) of ``table`` as ``conn`` sees it, streamed in bounded batches."""
    total, count = 0, 0
    read, form = row_reader(table), digest_form(table)
    result = conn.execution_options(yield_per=STREAM_ROWS).execute(sa.select(*read_columns(table, conn.dialect.name)))
    for partition in result.partitions():
        total += sum(row_hash(form(read(row))) for row in partition)
        count += len(partition)
    return count, f"{total % MODULUS:064x}"
