"""Free cloud capacity wave by wave, with the platforms' planned expansions (扩容计划).

A platform's headroom in wave w is what is free now, plus every expansion in service by the first day of
w, minus what the systems placed in waves ≤ w take (a system keeps its share from its wave on). A unit
fits in wave w when every wave from w on keeps room for it: placing it must not take capacity a later
wave already counts on. Because capacity only grows over time and placed shares only accumulate, the
waves a unit fits in are all those from its *earliest* wave on, and the last wave tracked (past every
expansion and every placement) stands for all later ones.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

import numpy as np

from migration_plans.planning.model import PlanParams, Platform

Need = Mapping[str, tuple[float, float, float]]  # platform → vCPUs, memory GB, disk GB
_SLACK = 1e-9


def ready_wave(ready_on: dt.date, params: PlanParams) -> int:
    """The first wave (1-based) that starts on or after ``ready_on``: the first one that can use capacity
    in service that day."""
    return max(1, math.ceil((ready_on - params.start).days / params.wave_days) + 1)


class Headroom:
    """Per platform, the capacity left in each wave (see the module docstring)."""

    def __init__(self, platforms: Sequence[Platform], params: PlanParams) -> None:
        self._now = {p.name: np.array([p.free_vcpus, p.free_memory_gb, p.free_storage_gb], dtype=np.float64)
                     for p in platforms}
        self._steps = {p.name: [(ready_wave(e.ready_on, params),
                                 np.array([e.vcpus, e.memory_gb, e.storage_gb], dtype=np.float64))
                                for e in p.expansions] for p in platforms}
        self._rows = {name: np.empty((0, 3)) for name in self._now}
        self._placed = {name: np.zeros(3) for name in self._now}
        self._tracked = max((w for steps in self._steps.values() for w, _ in steps), default=1)

    @property
    def last_expansion_wave(self) -> int:
        """The wave from which every declared expansion is in service (1 without any)."""
        return self._tracked

    def _capacity(self, name: str, wave: int) -> np.ndarray:
        total = self._now[name].copy()
        for step_wave, amount in self._steps[name]:
            if step_wave <= wave:
                total += amount
        return total

    def _rows_of(self, name: str, waves: int) -> np.ndarray:
        rows = self._rows[name]
        if len(rows) < waves:
            extra = np.array([self._capacity(name, w) - self._placed[name] for w in range(len(rows) + 1, waves + 1)])
            rows = self._rows[name] = np.vstack([rows, extra])
        return rows

    def earliest(self, need: Need) -> int | None:
        """The first wave from which ``need`` fits in every later wave; None when it never does."""
        first = 1
        for name, amount in need.items():
            rows = self._rows_of(name, self._tracked)
            room = np.minimum.accumulate(rows[::-1])[::-1]  # the least left in this wave or any later one
            fits = np.flatnonzero(np.all(room >= np.asarray(amount) - _SLACK, axis=1))
            if not fits.size:
                return None
            first = max(first, int(fits[0]) + 1)
        return first

    def place(self, need: Need, wave: int) -> None:
        """Take ``need`` from ``wave`` on."""
        self._tracked = max(self._tracked, wave)
        for name, amount in need.items():
            rows = self._rows_of(name, self._tracked)
            rows[wave - 1:] -= np.asarray(amount)
            self._placed[name] += np.asarray(amount)

    def final(self, name: str) -> tuple[float, float, float]:
        """What stays free on ``name`` once every expansion is in service (may be negative when a fixed wave
        overbooks it)."""
        last = self._rows_of(name, self._tracked)[self._tracked - 1]
        return float(last[0]), float(last[1]), float(last[2])
