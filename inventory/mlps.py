"""MLPS (等保) assessments due: a level-3 system is assessed every year and a level-4 one every six months
(DOMAIN.md, GB/T 22239-2019 practice); a system of level 2 or above never assessed is listed too. Levels are
the systems' declared ones; retired systems are left out (a migrated one runs on, so it still counts)."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col

from inventory.models import BusinessSystem, Department, MlpsAssessment, SystemStatus

INTERVAL_MONTHS = {3: 12, 4: 6}


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` ``months`` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class MlpsDue:
    system: str
    name: str
    department: str
    level: int
    last_assessed: dt.date | None
    last_result: str | None
    due: dt.date | None  # None: never assessed
    overdue: bool

    @property
    def why(self) -> str:
        if self.last_assessed is None:
            return f"level {self.level}, never assessed"
        return f"level {self.level}: assessed {self.last_assessed}, due {self.due}"


def mlps_due(session: Session, today: dt.date, department_id: int | None = None) -> list[MlpsDue]:
    """Every non-retired system of level ≥ 2 (of one department, or all) with its last assessment and when
    the next is due."""
    latest = (sa.select(col(MlpsAssessment.system_id), sa.func.max(col(MlpsAssessment.assessed_on)).label("last"))
              .group_by(col(MlpsAssessment.system_id)).subquery())
    query = (sa.select(col(BusinessSystem.code), col(BusinessSystem.name), col(Department.code),
                       col(BusinessSystem.mlps_level), latest.c.last, col(MlpsAssessment.result))
             .join(Department, col(Department.id) == BusinessSystem.department_id)
             .outerjoin(latest, latest.c.system_id == BusinessSystem.id)
             .outerjoin(MlpsAssessment, sa.and_(col(MlpsAssessment.system_id) == BusinessSystem.id,
                                                col(MlpsAssessment.assessed_on) == latest.c.last))
             .where(col(BusinessSystem.mlps_level) >= 2, col(BusinessSystem.status) != SystemStatus.RETIRED)
             .order_by(col(BusinessSystem.code)))
    if department_id is not None:
        query = query.where(col(BusinessSystem.department_id) == department_id)
    out = []
    for code, name, department, level, last, result in session.execute(query):
        months = INTERVAL_MONTHS.get(int(level))
        due = add_months(last, months) if last is not None and months else None
        overdue = last is None or (due is not None and today > due)
        out.append(MlpsDue(code, name, department, int(level), last, result, due, overdue))
    return out
