"""Measured use per server over its own window: the latest N days of that server's daily rollups.

Every figure drawn from utilization (right-sizing, zombie evidence, a room's energy and idle share)
reads a window anchored on the server's own newest rollup day, never on the newest day in the whole
table: one agent reporting today must not push every surveyed server out of the window. Each window
says which days it used (first and last day with data, and how many days had data), so evidence can
name them. A server without rollups has no window: its use is unknown, not zero.

The scan is one pass over the rollups since the earliest window start, streamed into compact NumPy
columns (no ORDER BY or GROUP BY over the rows: on a province's rollups those walk the index with a
random lookup per row); the per-server newest day comes from the primary key's index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

from inventory.models import UtilizationDaily
from inventory.rollups import group_bounds, group_stats
from inventory.views.public import table_of

_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class UseWindow:
    """One server's measured use over its own latest ``length`` days (fractions 0..1)."""

    length: int  # the window asked for, in days
    first_day: dt.date  # first day with data inside the window
    last_day: dt.date  # the server's newest day with data
    days: int  # days with data inside the window
    cpu_avg: float  # mean of the daily averages
    memory_avg: float
    cpu_p95: float  # 95th percentile of the daily p95 values
    memory_p95: float
    disk_used_gb: float | None  # the largest daily disk use, where reported

    @property
    def complete(self) -> bool:
        """Every day of the window has data."""
        return self.days >= self.length


def _as_date(value: object) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


def _scan(session: Session, sql: str, binds: list[object]) -> list[np.ndarray] | None:
    """The rollup rows as compact columns (server id, day ordinal: int32; figures: float32), ordered by
    server. Streamed in blocks and sorted by column, so a province's year of rollups stays in memory once."""
    # The DB-API cursor hands back plain tuples; SQLAlchemy Rows cost more than the scan itself here.
    raw = session.connection().connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    parts: list[list[np.ndarray]] = [[] for _ in range(7)]
    try:
        cursor.execute(sql, binds)
        while block := cursor.fetchmany(200_000):
            rows = np.fromiter(chain.from_iterable(block), dtype=np.float64, count=len(block) * 7).reshape(-1, 7)
            for k in range(7):
                parts[k].append(rows[:, k].astype(np.int32 if k < 2 else np.float32))
    finally:
        cursor.close()
    if not parts[0]:
        return None
    order = np.argsort(np.concatenate(parts[0]), kind="stable")
    columns = []
    for k in range(7):
        column = np.concatenate(parts[k])
        parts[k] = []
        columns.append(column[order])
    return columns


def newest_days(session: Session, server_ids: Iterable[int] | None = None) -> dict[int, dt.date]:
    """Each server's newest rollup day (from the primary key's index)."""
    daily = table_of(UtilizationDaily)
    query = sa.select(daily.c.server_id, sa.func.max(daily.c.day)).group_by(daily.c.server_id)
    if server_ids is not None:
        query = query.where(daily.c.server_id.in_(list(server_ids)))
    return {int(sid): _as_date(day) for sid, day in session.execute(query)}


def measured_use(session: Session, lengths: Sequence[int],
                 server_ids: Iterable[int] | None = None) -> dict[int, dict[int, UseWindow]]:
    """Per window length asked for, each measured server's ``UseWindow`` (servers without data are absent)."""
    wanted = None if server_ids is None else sorted({int(i) for i in server_ids})
    out: dict[int, dict[int, UseWindow]] = {length: {} for length in lengths}
    if wanted == [] or not lengths:
        return out
    newest = newest_days(session, wanted)
    if not newest:
        return out
    longest = max(lengths)
    since = min(newest.values()) - dt.timedelta(days=longest - 1)
    sqlite = session.get_bind().dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    ordinal = "CAST(julianday(day) - 2440587.5 AS INTEGER)" if sqlite else "(day - DATE '1970-01-01')"
    sql = (f"SELECT server_id, {ordinal}, cpu_avg, memory_avg, cpu_p95, memory_p95, COALESCE(disk_used_gb, -1.0) "
           f"FROM utilization_daily WHERE day >= {mark}")
    if wanted is not None:
        sql += f" AND server_id IN ({', '.join(str(i) for i in wanted)})"
    columns = _scan(session, sql, [since.isoformat() if sqlite else since])
    if columns is None:
        return out
    ids, days, cpu_avg, memory_avg, cpu_p95, memory_p95, disk = columns
    servers, server_index = np.unique(ids, return_inverse=True)
    newest_ordinal = np.array([(newest[i] - _EPOCH).days for i in servers.tolist()], dtype=np.int32)
    for length in lengths:
        keep = days > newest_ordinal[server_index] - length
        if not keep.any():
            continue
        row_ids = ids[keep]
        changed = np.ones(len(row_ids), dtype=bool)
        changed[1:] = row_ids[1:] != row_ids[:-1]
        starts, counts, group = group_bounds(changed)
        first = np.minimum.reduceat(days[keep], starts).tolist()
        cpu_mean = (np.add.reduceat(cpu_avg[keep].astype(np.float64), starts) / counts).tolist()
        memory_mean = (np.add.reduceat(memory_avg[keep].astype(np.float64), starts) / counts).tolist()
        cpu_top = group_stats(cpu_p95[keep].astype(np.float64), group, starts, counts)[2].tolist()
        memory_top = group_stats(memory_p95[keep].astype(np.float64), group, starts, counts)[2].tolist()
        disk_top = np.maximum.reduceat(disk[keep], starts).tolist()
        windows = out[length]
        for k, server_id in enumerate(row_ids[starts].tolist()):
            windows[server_id] = UseWindow(length, _EPOCH + dt.timedelta(days=first[k]), newest[server_id],
                                           int(counts[k]), cpu_mean[k], memory_mean[k], cpu_top[k], memory_top[k],
                                           float(disk_top[k]) if disk_top[k] >= 0 else None)
    return out
