"""Parsers for the value forms a survey workbook may hold (FORMATS.md §1).

Each parser takes the raw cell (a string from a CSV, or whatever openpyxl gives: str, int, float,
bool, datetime) and returns the value in the inventory's fixed unit, or raises ``ValueError`` whose
message is the reason shown to the user. Anything not listed in FORMATS.md is an error, not a guess.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

# Binary size units, as factors to GB.
_SIZE_FACTORS_GB = {"": None, "K": 1 / 1024**2, "M": 1 / 1024, "G": 1.0, "T": 1024.0, "P": 1024.0**2}
_SIZE_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([KMGTP]?)(?:I?B)?$", re.IGNORECASE)
_NUMBER_RE = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_THOUSANDS_RE = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?$")
_TRUE = {"是", "y", "yes", "true", "1", "t"}
_FALSE = {"否", "n", "no", "false", "0", "f"}
_ZH_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}
_MLPS_RE = re.compile(r"^(?:第)?([1-4一二三四])(?:级)?$")
_ISO_DATE_RE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_SLASH_DATE_RE = re.compile(r"^([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})$")
_ZH_DATE_RE = re.compile(r"^([0-9]{4})年([0-9]{1,2})月(?:([0-9]{1,2})日)?$")
_LIST_SPLIT_RE = re.compile(r"[,，、;；\n\r]+")


def clean_text(value: Any) -> str:
    """Fold full-width characters to half-width and strip surrounding space."""
    if value is None:
        return ""
    text = str(value)
    if text.isascii():  # NFKC leaves ASCII as it is; skip the costly call on the common case
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


def is_blank(value: Any) -> bool:
    """True for an empty cell; ``str.strip`` also removes the full-width space U+3000."""
    return value is None or (isinstance(value, str) and not value.strip())


def _number_text(text: str) -> float:
    compact = text.replace(" ", "")
    if _THOUSANDS_RE.match(compact):
        compact = compact.replace(",", "")
    if not _NUMBER_RE.match(compact):
        raise ValueError("not a number")
    return float(compact)


def parse_float(value: Any, factor: float = 1.0) -> float:
    """A non-negative number, multiplied by the header unit's ``factor``."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    number = float(value) if isinstance(value, int | float) else _number_text(clean_text(value))
    if number < 0:
        raise ValueError("must not be negative")
    return number * factor


def parse_int(value: Any, factor: float = 1.0) -> int:
    """A non-negative whole number."""
    number = parse_float(value, factor)
    if number != int(number):
        raise ValueError("not a whole number")
    return int(number)


def parse_size(value: Any, default_unit_gb: float = 1.0) -> float:
    """A size in GB from ``64``, ``64G``, ``64 GB``, ``65536MB``, ``1.5T``, ``２５６Ｇ`` (binary units).

    A bare number is in the header's unit (``default_unit_gb`` GB per unit).
    """
    if isinstance(value, bool):
        raise ValueError("not a size")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("must not be negative")
        return float(value) * default_unit_gb
    text = clean_text(value).replace(" ", "")
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError("not a size: expected a number with an optional unit K/M/G/T (e.g. 64G, 65536MB, 1.5T)")
    number, unit = float(match.group(1)), match.group(2).upper()
    factor = _SIZE_FACTORS_GB[unit]
    return number * (default_unit_gb if factor is None else factor)


def parse_bool(value: Any) -> bool:
    """Yes/no as 是/否, Y/N, yes/no, true/false, 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = clean_text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not a yes/no value: expected 是/否, Y/N, true/false or 1/0")


def parse_mlps(value: Any) -> int:
    """An MLPS (等保) level 1–4 from ``3``, ``三级``, ``第三级``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value in (1, 2, 3, 4):
            return int(value)
        raise ValueError("not an MLPS level: expected 1–4")
    text = clean_text(value).replace(" ", "")
    match = _MLPS_RE.match(text)
    if not match:
        raise ValueError("not an MLPS level: expected 1–4, 一级…四级 or 第三级")
    token = match.group(1)
    return _ZH_DIGITS.get(token) or int(token)


def parse_date(value: Any) -> dt.date:
    """A date from ``2019-03-01``, ``2019/3/1``, ``2019年3月`` (the 1st), ``2019年3月1日`` or a date cell."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = clean_text(value)
    for pattern in (_ISO_DATE_RE, _SLASH_DATE_RE, _ZH_DATE_RE):
        match = pattern.match(text)
        if match:
            year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
            try:
                return dt.date(year, month, day)
            except ValueError as exc:
                raise ValueError(f"not a valid date ({exc})") from None
    raise ValueError("not a date: expected 2019-03-01, 2019/3/1 or 2019年3月")


def parse_datetime(value: Any, tz: ZoneInfo) -> dt.datetime:
    """An aware UTC time from an ISO date-time or date; times without an offset are in ``tz``."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        text = clean_text(value)
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("not a date-time: expected ISO form such as 2026-11-01T08:00:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(dt.UTC)


def parse_fraction(value: Any, percent: bool = False) -> float:
    """A utilization 0..1; a percent when the value carries ``%`` or the header ``(%)``."""
    if isinstance(value, bool):
        raise ValueError("not a utilization")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = clean_text(value).replace(" ", "")
        if text.endswith("%"):
            text, percent = text[:-1], True
        number = _number_text(text)
    if percent:
        number /= 100.0
    if not 0.0 <= number <= 1.0:
        raise ValueError("a utilization must be a fraction 0..1 (or a percent with % or a (%) header)")
    return number


def parse_list(value: Any) -> list[str]:
    """Names separated by ``,`` ``，`` ``、`` ``;`` or newlines, empty parts dropped."""
    if value is None:
        return []
    raw = unicodedata.normalize("NFKC", str(value))
    # NFKC folds '，' to ',' and '；' to ';' but keeps '、'.
    return [part.strip() for part in _LIST_SPLIT_RE.split(raw) if part.strip()]


def choice_parser(choices: dict[str, str], what: str) -> Callable[[Any], str]:
    """A parser accepting any alias in ``choices`` (case-insensitive) and returning its canonical value."""
    folded = {clean_text(k).lower(): v for k, v in choices.items()}
    allowed = sorted(set(choices.values()))

    def parse(value: Any) -> str:
        key = clean_text(value).lower()
        if key in folded:
            return folded[key]
        raise ValueError(f"not a known {what}: expected one of {', '.join(allowed)}")

    return parse
