"""The business day: the one date every date-dependent figure is computed for.

Plans, due dates, depreciation, forecasts and room scores ask ``today()`` instead of the system
clock, so a run can be reproduced: ``SHANGYUN_TODAY=2026-11-30`` pins it (tests and demos do), and
unset it is the current day in ``SHANGYUN_TIMEZONE`` (Asia/Shanghai), never the UTC date. Event
and audit timestamps stay real instants (``now()``): they record when something happened.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from inventory.settings import get_settings


def now() -> dt.datetime:
    """The current instant, in UTC."""
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """The business day: ``SHANGYUN_TODAY`` when set, else today in the configured time zone."""
    settings = get_settings()
    if settings.today is not None:
        return settings.today
    return now().astimezone(ZoneInfo(settings.timezone)).date()


def local_day(moment: dt.datetime) -> dt.date:
    """The day ``moment`` falls on in ``SHANGYUN_TIMEZONE`` (a naive time is taken as UTC, as stored)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(ZoneInfo(get_settings().timezone)).date()


def start_of_local_day(day: dt.date) -> dt.datetime:
    """The UTC instant local ``day`` begins."""
    return dt.datetime.combine(day, dt.time.min, ZoneInfo(get_settings().timezone)).astimezone(dt.UTC)
