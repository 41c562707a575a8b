"""Trigram indexes for the API's free-text search (PostgreSQL with pg_trgm only).

The ``q`` filter is ``ILIKE '%text%'``, which a B-tree cannot serve: on 30,000 servers each search read
the whole table. GIN trigram indexes make it an index lookup. They need the pg_trgm extension (trusted
since PostgreSQL 13, so a database owner may create it). Where it is missing and cannot be created,
search still works, unindexed; ``shangyun db upgrade`` tries again, so once an owner has run
``CREATE EXTENSION pg_trgm`` the indexes follow.

The extension goes to the ``public`` schema when it can: several Shangyun schemas in one database then
share it, and dropping one schema does not take the others' indexes with it. The operator class is
named with its schema, so the indexes work whatever the search_path. The models do not declare these
indexes (SQLite has no such thing), so the schema comparison leaves them out by name.
"""

from __future__ import annotations

import sqlalchemy as sa

TRIGRAM_INDEXES = {
    "ix_server_hostname_trgm": ("server", "hostname"),
    "ix_server_os_trgm": ("server", "os"),
    "ix_business_system_code_trgm": ("business_system", "code"),
    "ix_business_system_name_trgm": ("business_system", "name"),
    "ix_room_code_trgm": ("room", "code"),
    "ix_room_name_trgm": ("room", "name"),
}
_FIND = sa.text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")


def trigram_schema(conn: sa.Connection) -> str | None:
    """The schema holding pg_trgm, creating the extension if allowed; None when it cannot be had."""
    if (schema := conn.execute(_FIND).scalar()) is not None:
        return str(schema)
    for statement in ("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public", "CREATE EXTENSION IF NOT EXISTS pg_trgm"):
        try:
            with conn.begin_nested():
                conn.execute(sa.text(statement))
        except sa.exc.DBAPIError:
            continue  # not allowed here, or another schema's migration created it at the same moment
        break
    schema = conn.execute(_FIND).scalar()
    return None if schema is None else str(schema)


def ensure_trigram_indexes(conn: sa.Connection) -> bool:
    """Create any missing trigram index; False when pg_trgm is not to be had (or not PostgreSQL)."""
    if conn.dialect.name != "postgresql" or (schema := trigram_schema(conn)) is None:
        return False
    for name, (table, column) in TRIGRAM_INDEXES.items():
        conn.execute(sa.text(f'CREATE INDEX IF NOT EXISTS {name} ON {table} '
                             f'USING gin ({column} "{schema}".gin_trgm_ops)'))
    return True


def include_in_comparison(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic ``include_object``: compare everything but these indexes, which the models do not declare."""
    return not (type_ == "index" and name in TRIGRAM_INDEXES)
