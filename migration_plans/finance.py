"""The savings report for finance: a plan's stored savings model with the rooms' real status today.

The figures are the plan's own (``migration_plans.planning.savings``, computed when the plan was made), so
``plan savings``, ``report savings``, ``GET /api/v1/savings``, the xlsx and the dashboard agree for a
plan version; only the rooms' status (active, decommissioning once the executor emptied them,
closed) is read live, to show which closures have really happened.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from inventory.errors import ConflictError
from inventory.models import Plan, Room
from migration_plans.planning.savings import PARTS, SavingsModel

__all__ = ["PARTS", "PlanWithoutSavingsError", "SavingsReport", "savings_of", "savings_report"]


class PlanWithoutSavingsError(ConflictError):
    """The plan was saved before the savings model existed."""


@dataclass(frozen=True)
class SavingsReport:
    plan: str  # name@version
    model: SavingsModel
    status: dict[str, str]  # room → its status now


def savings_of(plan: Plan) -> SavingsModel:
    """The savings model stored with ``plan``."""
    data = plan.document.get("finance")
    if data is None:
        raise PlanWithoutSavingsError(f"plan {plan.name}@{plan.version} was saved before the savings model: "
                                      f"run `shangyun plan create --name {plan.name} …` again to compute it")
    return SavingsModel.from_json(data)


def savings_report(session: Session, plan: Plan) -> SavingsReport:
    """The report for ``plan``: its savings model and each of its rooms' status now."""
    model = savings_of(plan)
    codes = [r.room for r in model.rooms]
    status = dict(session.exec(select(Room.code, Room.status).where(col(Room.code).in_(codes))).all())
    return SavingsReport(f"{plan.name}@{plan.version}", model, status)
