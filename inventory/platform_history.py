"""A platform's capacity, allocation and measured use per day: the history the capacity forecast reads.

Imports and cloud collectors record the day they see a platform; a second sighting the same day
replaces the first, so the history holds one row per platform per day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from inventory.capacity import overcommit
from inventory.models import CloudPlatform, PlatformDaily


def record_platform_day(session: Session, platform: CloudPlatform, day: dt.date) -> None:
    """Keep ``platform``'s current figures as ``day``'s row."""
    assert platform.id is not None
    row = session.get(PlatformDaily, (platform.id, day)) or PlatformDaily(
        platform_id=platform.id, day=day, vcpus=platform.vcpus, memory_gb=platform.memory_gb,
        storage_gb=platform.storage_gb)
    row.vcpus, row.memory_gb, row.storage_gb = platform.vcpus, platform.memory_gb, platform.storage_gb
    row.cpu_ratio = overcommit(platform.cpu_ratio)
    row.allocated_vcpus = platform.allocated_vcpus
    row.allocated_memory_gb = platform.allocated_memory_gb
    row.allocated_storage_gb = platform.allocated_storage_gb
    row.used_vcpus, row.used_memory_gb = platform.used_vcpus, platform.used_memory_gb
    row.used_storage_gb = platform.used_storage_gb
    session.add(row)


def record_all_platforms(session: Session, tz: ZoneInfo, now: dt.datetime | None = None) -> int:
    """Record today's row (local day) for every platform; returns how many."""
    day = (now or dt.datetime.now(dt.UTC)).astimezone(tz).date()
    platforms = session.exec(select(CloudPlatform).order_by(col(CloudPlatform.id))).all()
    for platform in platforms:
        record_platform_day(session, platform, day)
    session.flush()
    return len(platforms)


def history(session: Session, platform_id: int) -> list[PlatformDaily]:
    return list(session.exec(select(PlatformDaily).where(PlatformDaily.platform_id == platform_id)
                             .order_by(col(PlatformDaily.day))))
