"""A small time-bounded cache for figures that dashboards read often and that change slowly (overview
counts, room costs and scores, forecasts, who a token belongs to). Per process; each entry lives
``seconds`` at most, so a change shows within that time."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """``get(key, compute)`` returns the cached value while it is fresh, else computes and keeps it."""

    def __init__(self, seconds: float, size: int = 256) -> None:
        self.seconds, self.size = seconds, size
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V], lifetime: float | None = None) -> V:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return entry[1]
        value = compute()
        self.put(key, value, lifetime)
        return value

    def peek(self, key: Hashable) -> V | None:
        """The fresh value for ``key``, or None."""
        with self._lock:
            entry = self._entries.get(key)
            return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def put(self, key: Hashable, value: V, lifetime: float | None = None) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + min(self.seconds, lifetime or self.seconds), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def drop(self, key: Hashable) -> None:
        """Forget ``key`` (e.g. a revoked token)."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
