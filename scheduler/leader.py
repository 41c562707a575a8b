"""Exactly one active scheduler per database.

PostgreSQL: a session-level advisory lock keyed by the database and schema, held on a connection of its
own for as long as the instance is active; when that connection dies the lock is released and a standby
takes over. SQLite (one machine by nature): an exclusive ``flock`` on a file next to the database.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

LOCK_SQL = ("SELECT pg_try_advisory_lock(hashtext('shangyun-scheduler:' || current_database() || '.' "
            "|| current_schema()))")


class LeaderLock:
    """``acquire()`` without waiting; ``held()`` tells whether it is still ours; ``release()``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            return self._acquire_pg()
        return self._acquire_file()

    def _acquire_pg(self) -> bool:
        connection = self.engine.connect()
        try:
            got = bool(connection.execute(sa.text(LOCK_SQL)).scalar())
            connection.commit()  # keep the session lock, end the transaction
        except sa.exc.SQLAlchemyError:
            connection.close()
            return False
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def _acquire_file(self) -> bool:
        database = self.engine.url.database
        path = Path(f"{database}.scheduler.lock") if database and database != ":memory:" else None
        if path is None:
            return True  # an in-memory database belongs to this process alone
        handle = path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def held(self) -> bool:
        """Whether the lock is still ours (the PostgreSQL connection is alive)."""
        if self._connection is None:
            return self._file is not None or self.engine.url.database in (None, ":memory:")
        try:
            self._connection.execute(sa.text("SELECT 1"))
            self._connection.commit()
            return True
        except sa.exc.SQLAlchemyError:
            self._connection = None
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:  # end the database session (not back to the pool): that releases its advisory lock
                self._connection.invalidate()
                self._connection.close()
            except sa.exc.SQLAlchemyError:
                pass
            self._connection = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
