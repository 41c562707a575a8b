"""Failed logins back off per username and per client address: after ``SHANGYUN_LOGIN_FREE_FAILURES``
(3) failures for one name, or ``SHANGYUN_LOGIN_FREE_FAILURES_PER_ADDRESS`` (20) from one address (offices
share addresses behind NAT and proxies), each further attempt must wait 2, 4, 8 … seconds (at most
``SHANGYUN_LOGIN_MAX_DELAY_S``) after the last failure, answered 429 with ``Retry-After`` without
checking the password. A success
clears the username's count. Counts live in each server process (with several workers an attacker
gets that many times the attempts, still exponentially slowed); failures are also audited."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from inventory.settings import get_settings

MAX_KEYS = 100_000  # the oldest entries are forgotten past this many


@dataclass
class _Failures:
    count: int
    last: float


class LoginThrottle:
    """Backoff state for login attempts, keyed ``user:<name>`` and ``addr:<address>``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, _Failures] = {}
        self._clock = clock

    def _delay(self, key: str, count: int) -> float:
        settings = get_settings()
        free = settings.login_free_failures if key.startswith("user:") else settings.login_free_failures_per_address
        over = count - free
        return 0.0 if over < 0 else min(2.0 ** (over + 1), settings.login_max_delay_s)

    def retry_after(self, keys: list[str]) -> int:
        """Seconds to wait before any of ``keys`` may try again (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [f.last + self._delay(k, f.count) - now for k in keys if (f := self._failures.get(k))]
        return math.ceil(max(waits, default=0.0)) if any(w > 0 for w in waits) else 0

    def failed(self, keys: list[str]) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                entry = self._failures.pop(key, None) or _Failures(0, now)
                entry.count, entry.last = entry.count + 1, now
                self._failures[key] = entry  # re-inserted: dict order is least recently failed first
            while len(self._failures) > MAX_KEYS:
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


THROTTLE = LoginThrottle()
