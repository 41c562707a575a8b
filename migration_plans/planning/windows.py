"""Downtime windows (可停机窗口): on which days a system may be cut over.

Understood forms: weekdays (周一…周日, 星期一…星期日), 周末 (Sat–Sun), 工作日 (working days: Mon–Fri but
public holidays, plus make-up Saturdays and Sundays, 调休), 每月最后一个周X (the last such weekday of a
month), 节假日 (days off: weekends that are not make-up days, and public holidays, from China's calendar in
``inventory.workcalendar``), and 每天/全天/随时 (any day). Text that names no day is reported and treated
as "any day". A wave suits a system when at least one of its days is allowed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache

from inventory.workcalendar import is_rest_day, is_working_day

DayRule = Callable[[dt.date], bool]
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


def _last_weekday_of_month(day: dt.date, weekday: int) -> bool:
    return day.weekday() == weekday and (day + dt.timedelta(days=7)).month != day.month


@lru_cache(maxsize=4096)
def parse_window(text: str | None) -> tuple[DayRule | None, str | None]:
    """A day rule for ``text`` (None = any day) and a note when the text could not be understood."""
    if text is None or not text.strip() or text.strip() in ("无", "-", "不限"):
        return None, None
    rules: list[DayRule] = []
    monthly = re.search(r"每月最后一个(?:周|星期)([一二三四五六日天])", text)
    if monthly:
        weekday = _WEEKDAYS[monthly.group(1)]
        rules.append(lambda d: _last_weekday_of_month(d, weekday))
    else:
        days = {_WEEKDAYS[m] for m in re.findall(r"(?:周|星期)([一二三四五六日天])", text)}
        if "周末" in text:
            days |= {5, 6}
        if days:
            rules.append(lambda d: d.weekday() in days)
        if "工作日" in text:
            rules.append(is_working_day)
    if "节假日" in text:
        rules.append(is_rest_day)
    if any(word in text for word in ("每天", "全天", "随时", "任意")) and not rules:
        return None, None
    if not rules:
        return None, f"downtime window {text!r} not understood; any day assumed"
    return (lambda d: any(rule(d) for rule in rules)), None


def window_allows(rule: DayRule | None, start: dt.date, end: dt.date) -> bool:
    """True when some day in ``[start, end]`` is allowed by ``rule``."""
    if rule is None:
        return True
    day = start
    while day <= end:
        if rule(day):
            return True
        day += dt.timedelta(days=1)
    return False
