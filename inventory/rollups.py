"""Daily utilization rollups: average, p50, p95 and max of CPU and memory per server per local day.

Percentiles interpolate linearly between the two nearest ranks (NumPy's default), so a day of one
sample has p50 = p95 = max = that sample. Rollups are recomputed from the raw samples of the days
that received new samples, so samples may arrive in any order and over any number of imports. The
grouping and statistics are vectorised with NumPy: a province's daily samples make a million groups.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlmodel import Session

from inventory.bulk import ROLLUP_KEYS, ROLLUP_TABLE, bulk_write, sqlite_datetime

SERVER_CHUNK = 2000
ROLLUP_COLUMNS = ("server_id", "day", "samples", "cpu_avg", "cpu_p50", "cpu_p95", "cpu_max", "memory_avg",
                  "memory_p50", "memory_p95", "memory_max", "disk_used_gb")
Sample = tuple[int, "dt.datetime | str", float, float, "float | None"]


def _local_day(at: dt.datetime | str, tz: ZoneInfo) -> int:
    if isinstance(at, str):  # SQLite's raw text form of a UTC time
        at = dt.datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(tz).date().toordinal()


def group_bounds(changed: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Start index, length and group number per element of runs in sorted data, from a mask that is
    True where a new group begins (``changed[0]`` must be True)."""
    starts = np.flatnonzero(changed)
    counts = np.diff(np.append(starts, len(changed)))
    return starts, counts, np.cumsum(changed) - 1


def group_stats(values: NDArray[np.float64], group: NDArray[np.int64], starts: NDArray[np.int64],
                 counts: NDArray[np.int64]) -> list[NDArray[np.float64]]:
    """avg, p50, p95 and max of ``values`` per group (``values`` ordered by group)."""
    ordered = values[np.lexsort((values, group))]  # ascending within each group, groups kept in place
    average = np.add.reduceat(values, starts) / counts

    def pct(q: float) -> NDArray[np.float64]:
        rank = (counts - 1) * q / 100.0
        low = np.floor(rank).astype(np.int64)
        high = np.minimum(low + 1, counts - 1)
        lower = ordered[starts + low]
        return lower + (ordered[starts + high] - lower) * (rank - low)  # type: ignore[no-any-return]

    return [average, pct(50), pct(95), ordered[starts + counts - 1]]


def rollup_samples(samples: Iterable[Sample], tz: ZoneInfo) -> list[tuple[Any, ...]]:
    """Daily rollup rows (``ROLLUP_COLUMNS``) from (server_id, at, cpu, memory, disk) samples, any order.

    ``at`` is an aware datetime, a naive UTC one, or SQLite's stored text of a UTC time.
    """
    days: dict[Any, int] = {}
    server_ids: list[int] = []
    day_numbers: list[int] = []
    cpu: list[float] = []
    memory: list[float] = []
    disk: list[float] = []
    for server_id, at, cpu_util, memory_util, disk_used in samples:
        day = days.get(at)
        if day is None:
            day = days[at] = _local_day(at, tz)
        server_ids.append(server_id)
        day_numbers.append(day)
        cpu.append(cpu_util)
        memory.append(memory_util)
        disk.append(math.nan if disk_used is None else disk_used)
    if not server_ids:
        return []
    sid, day_arr = np.asarray(server_ids, dtype=np.int64), np.asarray(day_numbers, dtype=np.int64)
    order = np.lexsort((day_arr, sid))
    sid, day_arr = sid[order], day_arr[order]
    changed = np.ones(len(sid), dtype=bool)
    changed[1:] = (sid[1:] != sid[:-1]) | (day_arr[1:] != day_arr[:-1])
    starts, counts, group = group_bounds(changed)
    cpu_stats = group_stats(np.asarray(cpu)[order], group, starts, counts)
    memory_stats = group_stats(np.asarray(memory)[order], group, starts, counts)
    disk_max = np.fmax.reduceat(np.asarray(disk)[order], starts)  # fmax skips NaN; all-NaN stays NaN
    columns = [sid[starts].tolist(), day_arr[starts].tolist(), counts.tolist(),
               *(a.tolist() for a in cpu_stats), *(a.tolist() for a in memory_stats), disk_max.tolist()]
    return [(row[0], dt.date.fromordinal(row[1]), *row[2:11], None if math.isnan(row[11]) else row[11])
            for row in zip(*columns, strict=True)]


def recompute_rollups(session: Session, server_ids: Iterable[int], start: dt.datetime, end: dt.datetime,
                      tz: ZoneInfo) -> int:
    """Rebuild the rollups of ``server_ids`` for the local days touching ``[start, end]``; return rows."""
    day_start = dt.datetime.combine(start.astimezone(tz).date(), dt.time(), tz).astimezone(dt.UTC)
    day_end = dt.datetime.combine(end.astimezone(tz).date() + dt.timedelta(days=1), dt.time(), tz)
    ids = sorted(set(server_ids))
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return _recompute_in_postgresql(session, ids, day_start, day_end.astimezone(dt.UTC), tz)
    sqlite = connection.dialect.name == "sqlite"
    marker = "?" if sqlite else "%s"
    low: Any = sqlite_datetime(day_start) if sqlite else day_start
    high: Any = sqlite_datetime(day_end) if sqlite else day_end
    written = 0
    for offset in range(0, len(ids), SERVER_CHUNK):
        chunk = ids[offset : offset + SERVER_CHUNK]
        # A raw query: rows come back as the driver gives them, without per-row type processing.
        sql = ("SELECT server_id, at, cpu_util, memory_util, disk_used_gb FROM utilization_sample "
               f"WHERE server_id IN ({', '.join(str(int(i)) for i in chunk)}) AND at >= {marker} AND at < {marker}")
        rows = rollup_samples(connection.exec_driver_sql(sql, (low, high)), tz)
        bulk_write(session, ROLLUP_TABLE, ROLLUP_COLUMNS, rows, ROLLUP_KEYS, update=True)
        written += len(rows)
    return written


_PG_ROLLUP = f"""
INSERT INTO {ROLLUP_TABLE} ({", ".join(ROLLUP_COLUMNS)})
SELECT server_id, (at AT TIME ZONE %(tz)s)::date AS day, count(*),
       avg(cpu_util), percentile_cont(0.5) WITHIN GROUP (ORDER BY cpu_util),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY cpu_util), max(cpu_util),
       avg(memory_util), percentile_cont(0.5) WITHIN GROUP (ORDER BY memory_util),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY memory_util), max(memory_util), max(disk_used_gb)
FROM utilization_sample
WHERE server_id = ANY(%(ids)s) AND at >= %(low)s AND at < %(high)s
GROUP BY server_id, day
ON CONFLICT ({", ".join(ROLLUP_KEYS)}) DO UPDATE SET
{", ".join(f"{c} = excluded.{c}" for c in ROLLUP_COLUMNS if c not in ROLLUP_KEYS)}
"""


def _recompute_in_postgresql(session: Session, ids: list[int], low: dt.datetime, high: dt.datetime,
                             tz: ZoneInfo) -> int:
    """The same rollups computed inside PostgreSQL (``percentile_cont`` interpolates like NumPy),
    so a province's samples never travel to Python and back."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    written = 0
    with raw.cursor() as cursor:
        for offset in range(0, len(ids), SERVER_CHUNK * 5):
            chunk = ids[offset : offset + SERVER_CHUNK * 5]
            cursor.execute(_PG_ROLLUP, {"tz": tz.key, "ids": chunk, "low": low, "high": high})
            written += cursor.rowcount
    return written
