"""Zombie detection (僵尸系统) from daily rollups, per DOMAIN.md.

A running, non-classified system is a zombie when every one of its servers averaged under 5 % CPU
and under 5 % memory over the last 90 days and it has no daily users (0 recorded; an unknown user
count is not evidence of none). The 90 days are each server's own latest 90 days of data, and the
rule needs all of them: a system idle over fewer days is a candidate that says how many days it
has, never marked. Systems idle by use but with users unknown are candidates too. The evidence
names the days it rests on, and is dated by its last day of data, not by the day it was computed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from inventory.models.enums import SystemStatus
from migration_plans.planning.model import SystemFacts

THRESHOLD = 0.05
WINDOW_DAYS = 90


@dataclass(frozen=True)
class ZombieEvidence:
    system: str
    zombie: bool
    days: int  # days with data on the least-measured server
    cpu_avg: float
    memory_avg: float
    daily_users: int | None
    reason: str
    first_day: dt.date | None = None  # earliest day used (any server)
    last_day: dt.date | None = None  # newest day used (any server)

    def as_json(self) -> dict[str, Any]:
        day = self.last_day.isoformat() if self.last_day else None
        return {"zombie": self.zombie, "as_of": day, "days": self.days, "window_days": WINDOW_DAYS,
                "from": self.first_day.isoformat() if self.first_day else None, "to": day,
                "cpu_avg_max": round(self.cpu_avg, 4), "memory_avg_max": round(self.memory_avg, 4),
                "daily_users": self.daily_users, "threshold": THRESHOLD, "reason": self.reason}


def zombie_evidence(system: SystemFacts) -> ZombieEvidence | None:
    """The evidence for or against ``system`` being a zombie; None when it has no measurements or
    is not a candidate at all (classified, retired, busy)."""
    if system.classified or system.status in (SystemStatus.RETIRED, SystemStatus.MIGRATED) or not system.servers:
        return None
    if any(s.cpu_avg is None or s.memory_avg is None for s in system.servers):
        return None
    cpu = max(s.cpu_avg or 0.0 for s in system.servers)
    memory = max(s.memory_avg or 0.0 for s in system.servers)
    if cpu >= THRESHOLD or memory >= THRESHOLD:
        return None
    days = min(s.days for s in system.servers)
    first = min((s.first_day for s in system.servers if s.first_day), default=None)
    last = max((s.last_day for s in system.servers if s.last_day), default=None)
    span = f"{first.isoformat()} – {last.isoformat()}" if first and last else "?"
    use = f"CPU ≤ {cpu:.1%} and memory ≤ {memory:.1%} on every server over {days} days ({span})"
    if days < WINDOW_DAYS:
        reason = f"idle ({use}), but the rule needs {WINDOW_DAYS} days of data: a candidate, not marked"
        return ZombieEvidence(system.code, False, days, cpu, memory, system.daily_users, reason, first, last)
    if system.daily_users == 0:
        return ZombieEvidence(system.code, True, days, cpu, memory, 0, f"{use}; no daily users", first, last)
    reason = f"idle ({use}) but " + ("daily users unknown" if system.daily_users is None
                                     else f"{system.daily_users} daily users")
    return ZombieEvidence(system.code, False, days, cpu, memory, system.daily_users, reason, first, last)
