"""Every value form FORMATS.md §1 lists parses to the fixed unit; anything else is an error with a reason."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from collectors.survey import values as v
from inventory.records.sheets import SheetKind, column_index, match_sheet, split_header

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("raw", "unit", "expected"),
    [
        ("64", 1.0, 64.0), ("64G", 1.0, 64.0), ("64 GB", 1.0, 64.0), ("65536MB", 1.0, 64.0),
        ("1.5T", 1.0, 1536.0), ("２５６Ｇ", 1.0, 256.0), (64, 1.0, 64.0), ("2048", 1 / 1024, 2.0),
        ("8 gib", 1.0, 8.0), ("1T", 1 / 1024, 1024.0), (3.5, 1024.0, 3584.0),
    ],
)
def test_sizes_parse_to_gb(raw: object, unit: float, expected: float) -> None:
    assert v.parse_size(raw, unit) == pytest.approx(expected)


@pytest.mark.parametrize("raw", ["16Q", "sixty", "", "-4G", "64GBB", "1.2.3G", True])
def test_bad_sizes_are_errors(raw: object) -> None:
    with pytest.raises(ValueError):
        v.parse_size(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("是", True), ("否", False), ("Y", True), ("n", False), ("TRUE", True), ("false", False), ("1", True),
    (0, False), (True, True), ("ｙ", True)])
def test_yes_no(raw: object, expected: bool) -> None:
    assert v.parse_bool(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "对", ""])
def test_bad_yes_no(raw: object) -> None:
    with pytest.raises(ValueError, match="yes/no"):
        v.parse_bool(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("3", 3), (2, 2), ("一级", 1), ("四级", 4), ("第三级", 3), ("第二级", 2), (4.0, 4), ("３", 3)])
def test_mlps(raw: object, expected: int) -> None:
    assert v.parse_mlps(raw) == expected


@pytest.mark.parametrize("raw", ["5", "0", "五级", "level 3", 3.5])
def test_bad_mlps(raw: object) -> None:
    with pytest.raises(ValueError, match="MLPS"):
        v.parse_mlps(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("2019-03-01", dt.date(2019, 3, 1)), ("2019/3/1", dt.date(2019, 3, 1)), ("2019年3月", dt.date(2019, 3, 1)),
    ("2019年3月15日", dt.date(2019, 3, 15)), (dt.datetime(2020, 5, 6, 0, 0), dt.date(2020, 5, 6)),
    (dt.date(2018, 1, 2), dt.date(2018, 1, 2)), ("２０１９－０３－０１", dt.date(2019, 3, 1))])
def test_dates(raw: object, expected: dt.date) -> None:
    assert v.parse_date(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), [
    ("2019-13-45", "not a valid date"), ("2019-02-30", "not a valid date"), ("03/01/2019", "not a date"),
    ("2019.3.1", "not a date")])
def test_bad_dates(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        v.parse_date(raw)


def test_datetimes_without_offset_are_local_and_stored_utc() -> None:
    moment = v.parse_datetime("2026-11-01T08:00:00", SHANGHAI)
    assert moment == dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC)
    assert v.parse_datetime("2026-11-01T08:00:00Z", SHANGHAI) == dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
    assert v.parse_datetime("2026-11-01", SHANGHAI) == dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="date-time"):
        v.parse_datetime("yesterday", SHANGHAI)


@pytest.mark.parametrize(("raw", "percent", "expected"), [
    ("0.35", False, 0.35), ("35%", False, 0.35), ("35", True, 0.35), (0.5, False, 0.5), ("１２％", False, 0.12),
    ("100", True, 1.0)])
def test_fractions(raw: object, percent: bool, expected: float) -> None:
    assert v.parse_fraction(raw, percent) == pytest.approx(expected)


@pytest.mark.parametrize(("raw", "percent"), [("35", False), ("120%", False), ("-0.1", False), ("abc", False)])
def test_bad_fractions(raw: str, percent: bool) -> None:
    with pytest.raises(ValueError):
        v.parse_fraction(raw, percent)


def test_lists_split_on_every_separator() -> None:
    assert v.parse_list("web-01, web-02，db-01、db-02;cache-01；x\nlast\r\n") == [
        "web-01", "web-02", "db-01", "db-02", "cache-01", "x", "last"]
    assert v.parse_list("") == []


def test_numbers_accept_thousands_separators_only_in_groups() -> None:
    assert v.parse_float("1,200,000") == 1_200_000
    assert v.parse_float("12", factor=10000) == 120000
    with pytest.raises(ValueError):
        v.parse_float("1,20")
    with pytest.raises(ValueError, match="whole"):
        v.parse_int("12.5")


def test_sheet_and_column_names_match_in_both_languages() -> None:
    assert match_sheet("服务器") is match_sheet("Servers ") is match_sheet("ＳＥＲＶＥＲＳ")
    assert match_sheet("servers").kind is SheetKind.SERVERS  # type: ignore[union-attr]
    assert match_sheet("备注") is None
    assert split_header("内存（ＧＢ）") == ("内存", "gb")
    assert split_header("CPU 核数 *") == ("cpu核数", "")
    assert split_header("年租金(万元)") == ("年租金", "万元")
    servers = column_index(match_sheet("servers"))  # type: ignore[arg-type]
    assert servers["cpu核数"].field == servers["cpucores"].field == "cpu_cores"
