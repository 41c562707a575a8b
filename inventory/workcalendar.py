"""China's working calendar: public holidays and make-up working days (调休), for downtime windows, the
capacity-request deadline (5 working days) and wave dates.

The State Council publishes each year's schedule in the autumn before; ``chinesecalendar`` carries every
published year since 2004 and is released soon after each notice (chosen over ``holidays``, which has the
statutory days but not the make-up working days every schedule moves onto weekends). For a year it does
not know yet, an operator may give the notice's days in ``SHANGYUN_CALENDAR_FILE``: a CSV of
``date,kind`` rows (``kind`` = ``holiday`` / 休 or ``workday`` / 班), which also overrides a known year.
Beyond both, only weekends and the fixed-date holidays (1 Jan, 1–5 May, 1–7 Oct) are known, and
``past_known`` names the days that rest on that guess.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import chinese_calendar

from inventory.errors import InvalidInputError
from inventory.settings import get_settings

_FIXED_HOLIDAYS = {(1, 1), *((5, d) for d in range(1, 6)), *((10, d) for d in range(1, 8))}
_KINDS = {"holiday": False, "休": False, "rest": False, "workday": True, "班": True, "work": True}
LIBRARY_YEARS: tuple[int, int] = (min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year)


@lru_cache(maxsize=4)
def _overrides(path: str, version: tuple[int, int]) -> dict[dt.date, bool]:
    """The override file's days: date → is a working day (``version``: its mtime and size, so an edited
    file is read again)."""
    out: dict[dt.date, bool] = {}
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row or row[0].strip().startswith("#") or row[0].strip().lower() == "date":
                    continue
                try:
                    day, kind = dt.date.fromisoformat(row[0].strip()), row[1].strip().lower()
                    out[day] = _KINDS[kind]
                except (ValueError, IndexError, KeyError):
                    raise InvalidInputError(f"{path} row {number}: expected 'YYYY-MM-DD,holiday|workday', got "
                                            f"{','.join(row)[:80]!r}", field="SHANGYUN_CALENDAR_FILE") from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read the calendar file ({exc.strerror})",
                                field="SHANGYUN_CALENDAR_FILE") from None
    return out


def overrides() -> dict[dt.date, bool]:
    """The operator's override days (``SHANGYUN_CALENDAR_FILE``), date → is a working day."""
    path = get_settings().calendar_file
    if not path:
        return {}
    try:
        status = os.stat(path)
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read the calendar file ({exc.strerror})",
                                field="SHANGYUN_CALENDAR_FILE") from None
    return _overrides(path, (status.st_mtime_ns, status.st_size))


def last_known_year() -> int:
    """The last year whose holidays and make-up days are known (from the library or the override file)."""
    return max([LIBRARY_YEARS[1], *(int(d.year) for d in overrides())])


def _known(year: int) -> bool:
    return LIBRARY_YEARS[0] <= year <= LIBRARY_YEARS[1] or any(d.year == year for d in overrides())


def is_working_day(day: dt.date) -> bool:
    """Whether people work on ``day``: a weekday that is no holiday, or a make-up Saturday or Sunday."""
    given = overrides().get(day)
    if given is not None:
        return given
    if LIBRARY_YEARS[0] <= day.year <= LIBRARY_YEARS[1]:
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS


def is_rest_day(day: dt.date) -> bool:
    """A weekend day that is not a make-up working day, or a public holiday (节假日 as the word is used)."""
    return not is_working_day(day)


def working_days_after(start: dt.date, count: int) -> dt.date:
    """The ``count``-th working day after ``start``."""
    day, left = start, count
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def past_known(days: Iterable[dt.date]) -> str | None:
    """A warning when any of ``days`` falls in a year whose schedule is not known, else None."""
    unknown = sorted({d.year for d in days if not _known(d.year)})
    if not unknown:
        return None
    years = ", ".join(map(str, unknown))
    return (f"dates in {years} fall past the last year whose holidays are known ({last_known_year()}): only "
            "weekends and 1 Jan, 1–5 May, 1–7 Oct are taken as days off; give the State Council's schedule in "
            "SHANGYUN_CALENDAR_FILE (date,holiday|workday) or upgrade chinesecalendar")
