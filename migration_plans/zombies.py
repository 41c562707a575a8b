"""Zombie detection (僵尸系统) from daily rollups, per DOMAIN.md.

A running, non-classified system is a zombie when every one of its servers averaged under 5 % CPU
and under 5 % memory over the last 90 days (or over all days available, and the evidence says how
many), and it has no daily users (0 recorded; an unknown user count is not evidence of none).
Systems idle by use but with users unknown are reported as candidates, not marked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from migration_plans.model import SystemFacts

THRESHOLD = 0.05
WINDOW_DAYS = 90


@dataclass(frozen=True)
class ZombieEvidence:
    system: str
    zombie: bool
    days: int
    cpu_avg: float
    memory_avg: float
    daily_users: int | None
    reason: str

    def as_json(self, as_of: dt.date | None = None) -> dict[str, Any]:
        return {"zombie": self.zombie, "as_of": (as_of or dt.datetime.now(dt.UTC).date()).isoformat(),
                "days": self.days, "window_days": WINDOW_DAYS, "cpu_avg_max": round(self.cpu_avg, 4),
                "memory_avg_max": round(self.memory_avg, 4), "daily_users": self.daily_users,
                "threshold": THRESHOLD, "reason": self.reason}


def zombie_evidence(system: SystemFacts) -> ZombieEvidence | None:
    """The evidence for or against ``system`` being a zombie; None when it has no measurements or
    is not a candidate at all (classified, retired, busy)."""
    if system.classified or system.status in ("retired", "migrated") or not system.servers:
        return None
    if any(s.cpu_avg is None or s.memory_avg is None for s in system.servers):
        return None
    cpu = max(s.cpu_avg or 0.0 for s in system.servers)
    memory = max(s.memory_avg or 0.0 for s in system.servers)
    days = min(s.days for s in system.servers)
    if cpu >= THRESHOLD or memory >= THRESHOLD:
        return None
    if system.daily_users == 0:
        reason = f"CPU ≤ {cpu:.1%} and memory ≤ {memory:.1%} on every server over {days} days; no daily users"
        return ZombieEvidence(system.code, True, days, cpu, memory, 0, reason)
    reason = (f"idle ({cpu:.1%} CPU, {memory:.1%} memory over {days} days) but "
              + ("daily users unknown" if system.daily_users is None else f"{system.daily_users} daily users"))
    return ZombieEvidence(system.code, False, days, cpu, memory, system.daily_users, reason)
