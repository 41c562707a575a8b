"""Failed logins back off per username and per client address: after ``SHANGYUN_LOGIN_FREE_FAILURES``
(3) failures for one name, or ``SHANGYUN_LOGIN_FREE_FAILURES_PER_ADDRESS`` (20) from one address (offices
share addresses behind NAT and proxies), each further attempt must wait 2, 4, 8 … seconds (at most
``SHANGYUN_LOGIN_MAX_DELAY_S``) after the last failure, answered 429 with ``Retry-After`` without
checking the password. A success clears the username's count.

The counts live in the database (``login_failure``), so every worker and replica sees the same backoff;
a count whose last failure is a day old is forgotten. Failures are also audited."""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from inventory.db import get_engine
from inventory.models import LoginFailure
from inventory.settings import get_settings

FORGET_AFTER = dt.timedelta(days=1)
PRUNE_EVERY = 500  # failures recorded by this process between two prunes of forgotten rows
_TABLE: sa.Table = LoginFailure.__table__  # type: ignore[attr-defined]


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class LoginThrottle:
    """Backoff state for login attempts, keyed ``user:<name>`` and ``addr:<address>``."""

    def __init__(self, engine: Callable[[], Engine] = get_engine,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self._engine = engine
        self._clock = clock
        self._recorded = 0
        self._lock = threading.Lock()

    def _delay(self, key: str, count: int) -> float:
        settings = get_settings()
        free = settings.login_free_failures if key.startswith("user:") else settings.login_free_failures_per_address
        over = count - free
        return 0.0 if over < 0 else min(2.0 ** (over + 1), settings.login_max_delay_s)

    def retry_after(self, keys: list[str]) -> int:
        """Seconds to wait before any of ``keys`` may try again (0: now)."""
        with self._engine().connect() as connection:
            rows = connection.execute(sa.select(_TABLE.c.key, _TABLE.c.failures, _TABLE.c.last_at)
                                      .where(_TABLE.c.key.in_(keys))).all()
        now = self._clock()
        waits = [(_utc(last) - now).total_seconds() + self._delay(key, count) for key, count, last in rows
                 if now - _utc(last) < FORGET_AFTER]
        return math.ceil(max(waits)) if any(w > 0 for w in waits) else 0

    def failed(self, keys: list[str]) -> None:
        """Count one failure against each key (atomically: concurrent failures on any server all count)."""
        engine = self._engine()
        now = self._clock()
        insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(_TABLE)
        with engine.begin() as connection:
            for key in keys:
                connection.execute(insert.values(key=key, failures=1, last_at=now).on_conflict_do_update(
                    index_elements=[_TABLE.c.key],
                    set_={"failures": sa.case((_TABLE.c.last_at < now - FORGET_AFTER, 1),
                                              else_=_TABLE.c.failures + 1),
                          "last_at": now}))
        with self._lock:
            self._recorded += 1
            prune = self._recorded % PRUNE_EVERY == 0
        if prune:
            with engine.begin() as connection:
                connection.execute(sa.delete(_TABLE).where(_TABLE.c.last_at < now - FORGET_AFTER))

    def succeeded(self, key: str) -> None:
        """Forget the failures of ``key`` (a username that has just logged in)."""
        with self._engine().begin() as connection:
            connection.execute(sa.delete(_TABLE).where(_TABLE.c.key == key))


THROTTLE = LoginThrottle()
