"""Engine and session setup for the embedded SQLite default and for PostgreSQL.

``SHANGYUN_DATABASE_URL`` picks the database. ``postgresql://`` URLs use psycopg 3. The SQLite file
runs in WAL mode with foreign keys on. The embedded default brings its schema to the newest Alembic
revision on first use; a PostgreSQL database is upgraded explicitly (``shangyun db upgrade``) and a
stale one is refused with that advice rather than used half-migrated.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import Session

from inventory.errors import UnavailableError
from inventory.settings import get_settings

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class SchemaOutOfDateError(UnavailableError):
    """The database's schema revision is not the one this code expects."""


def normalize_url(url: str) -> str:
    """Return a SQLAlchemy URL, choosing psycopg 3 for plain ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={int(get_settings().sqlite_busy_timeout_s * 1000)}")
    cur.close()


def create_db_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the project's connection settings. Statement parameters are
    hidden from every error and log line (they hold token hashes and whatever people typed)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)


def database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` says the database stayed locked past the wait (SQLite's "database is locked",
    PostgreSQL's lock timeout): the caller should retry, nothing was changed."""
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    text = str(exc.orig).lower()
    return "database is locked" in text or "lock timeout" in text or "database table is locked" in text


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine) -> None:
    """Upgrade an embedded SQLite database; refuse a stale PostgreSQL one with a clear message."""
    current = current_revision(engine)
    if current == head_revision():
        return
    if is_sqlite(engine):
        upgrade(engine)
        return
    raise SchemaOutOfDateError(
        f"database schema is at revision {current or 'none'}, this Shangyun expects {head_revision()}; "
        "run `shangyun db upgrade`"
    )


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    """Return the cached engine for ``url`` (default: the configured one), schema checked."""
    engine = create_db_engine(url or get_settings().database_url)
    ensure_schema(engine)
    return engine


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
