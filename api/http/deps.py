"""Request dependencies shared by the routers, as ``Annotated`` aliases (``SessionDep``; the callers'
identity and permissions are in ``api.http.auth``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from inventory.db import get_engine


async def db_session() -> AsyncIterator[Session]:
    """A session for one request. Opening one does no I/O, so it happens on the event loop; closing
    one that holds a connection (a rollback and a return to the pool) happens in the thread pool.
    Every cheap dependency is ``async`` for the same reason: each hop to the thread pool costs more
    than the work itself."""
    session = Session(get_engine(), expire_on_commit=False)
    try:
        yield session
    finally:
        if session.get_transaction() is None:
            session.close()
        else:
            await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(db_session)]
