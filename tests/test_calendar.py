"""China's calendar (issue 16 §5): public holidays and make-up working days (调休) from ``chinesecalendar``,
an operator's override file for a year it does not know, and a warning past the last known year; used by
downtime windows, the capacity-request deadline (in Asia/Shanghai days) and move groups' windows.

Expected days come from the State Council's notice on the 2026 holidays (国办发明电〔2025〕7号): 元旦 1–3 Jan
off, Sunday 4 Jan worked; 春节 15–23 Feb off, Saturdays 14 and 28 Feb worked; 劳动节 1–5 May off, Saturday
9 May worked; 国庆节 1–7 Oct off, Sunday 20 Sep and Saturday 10 Oct worked."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inventory import workcalendar
from inventory.errors import InvalidInputError
from inventory.models import CapacityRequest, CapacityRequestStatus
from inventory.settings import get_settings
from migration_plans.planning import model as m
from migration_plans.planning.planner import _group_window, plan
from migration_plans.planning.windows import parse_window
from scheduler.admission import due_date
from scheduler.requests import request_rows
from tests.test_intranet import _server

D = dt.date
OFF_2026 = [D(2026, 1, 1), D(2026, 1, 2), D(2026, 1, 3), *(D(2026, 2, d) for d in range(15, 24)),
            *(D(2026, 5, d) for d in range(1, 6)), *(D(2026, 10, d) for d in range(1, 8))]
WORKED_WEEKENDS_2026 = [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)]


CalendarFile = Callable[[str], Path]


@pytest.fixture
def calendar_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CalendarFile]:
    """Point SHANGYUN_CALENDAR_FILE at a file the test writes (the settings are re-read)."""
    path = tmp_path / "calendar.csv"

    def use(text: str) -> Path:
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("SHANGYUN_CALENDAR_FILE", str(path))
        get_settings.cache_clear()
        return path

    yield use
    monkeypatch.delenv("SHANGYUN_CALENDAR_FILE", raising=False)
    get_settings.cache_clear()


def test_the_2026_schedule_holidays_and_make_up_days() -> None:
    assert all(workcalendar.is_rest_day(day) for day in OFF_2026)
    assert all(day.weekday() >= 5 and workcalendar.is_working_day(day) for day in WORKED_WEEKENDS_2026)
    assert workcalendar.is_working_day(D(2026, 2, 24)) and workcalendar.is_rest_day(D(2026, 3, 1))


def test_five_working_days_skip_the_spring_festival_and_count_the_make_up_saturday() -> None:
    # Friday 13 Feb 2026: Sat 14 (worked) is 1, 15–23 are off, Tue 24 … Fri 27 are 2 … 5 (counted by hand)
    assert due_date(D(2026, 2, 13)) == D(2026, 2, 27)
    # Friday 25 Sep 2026: Mon 28, Tue 29, Wed 30 are 1–3, 1–7 Oct off, Thu 8, Fri 9 are 4, 5
    assert due_date(D(2026, 9, 25)) == D(2026, 10, 9)


def test_the_deadline_counts_from_the_request_s_day_in_shanghai() -> None:
    """A request sent at 01:00 in Shanghai on Friday 13 Feb is 17:00 UTC on Thursday 12 Feb: its day is the
    13th, so it is due on the 27th (from the UTC day it would be the 26th)."""
    request = CapacityRequest(department_id=1, platform_id=1, purpose="p", vcpus=1,
                              status=CapacityRequestStatus.PENDING,
                              requested_at=dt.datetime(2026, 2, 12, 17, 0, tzinfo=dt.UTC))
    [row] = request_rows([(request, "D1", "P1", None)], today=D(2026, 2, 27))
    assert row.due == D(2026, 2, 27) and not row.overdue


def test_windows_use_the_calendar() -> None:
    working, days_off = parse_window("工作日")[0], parse_window("节假日")[0]
    assert working is not None and days_off is not None
    assert working(D(2026, 2, 14)) and not working(D(2026, 2, 16))  # a make-up Saturday; a Monday of 春节
    assert days_off(D(2026, 2, 16)) and not days_off(D(2026, 2, 14))


def test_a_year_past_the_library_is_named_and_an_override_file_fills_it(calendar_file: CalendarFile) -> None:
    friday = D(2027, 2, 5)
    assert workcalendar.last_known_year() == workcalendar.LIBRARY_YEARS[1] < 2027
    note = workcalendar.past_known([friday])
    assert note is not None and "2027" in note and "SHANGYUN_CALENDAR_FILE" in note
    assert due_date(friday) == D(2027, 2, 12)  # weekdays only: the guess the warning names
    # an operator's file for 2027 (illustrative days, not the State Council's): a week off, a Sunday worked
    calendar_file("date,kind\n" + "".join(f"2027-02-{d:02d},holiday\n" for d in range(8, 13)) + "2027-02-07,班\n")
    assert workcalendar.past_known([friday]) is None and workcalendar.last_known_year() == 2027
    assert due_date(friday) == D(2027, 2, 18)  # Sun 7 is 1; 8–12 off; Mon 15 … Thu 18 are 2 … 5
    calendar_file("2027-02-08,maybe\n")
    with pytest.raises(InvalidInputError, match=re.escape("row 1: expected 'YYYY-MM-DD,holiday|workday'")):
        workcalendar.is_working_day(friday)


def test_a_working_day_member_and_a_day_off_member_keep_their_natural_wave() -> None:
    """Their windows never overlap; the group is not pushed to a weekday holiday months ahead but keeps the
    most restrictive window (节假日: fewer days a year), with a named warning."""
    warnings: list[str] = []
    working, days_off = parse_window("工作日")[0], parse_window("节假日")[0]
    assert working is not None and days_off is not None
    assert _group_window((working, days_off), ["S1", "S2"], warnings, D(2026, 12, 7)) is days_off
    assert warnings == ["move group S1, S2: downtime windows never coincide; the most restrictive member's "
                        "window is used, coordinate the cutover"]
    flavors = (m.Flavor("g.8c16g", 8, 16.0, 100.0, 500.0),)
    systems = [m.SystemFacts(code, code, "D1", False, 2, "running", 100, False, False, window,
                             (_server(f"{code.lower()}-srv", "R1"),), network="政务外网")
               for code, window in (("S1", "工作日"), ("S2", "节假日"))]
    estate = m.Estate(systems, [m.Dependency("S1", "S2", True)], {"R1": m.RoomCost("R1", 1e5)},
                      [m.Platform("云", "openstack", 3, 1000.0, 4000.0, 1e5, flavors, 40.0, 15.0, 0.5)])
    result = plan(estate, m.PlanParams("t", D(2026, 12, 7)))
    assert result.wave_of == {"S1": 1, "S2": 1}
