"""Admitting departments' capacity requests (pure): approved, queued or rejected, with the reason.

In order: a classified (涉密) system's request on any cloud platform, a non-classified one's on the intranet,
and one on a platform of lower MLPS level than the system's are rejected; a request for nothing, or a
duplicate of one the department already has open or granted
(same platform and purpose within 90 days), is rejected; one that would take the department past
its quota is rejected; one the platform cannot take without passing 90% allocation, now or by the
forecast 90 days ahead, is queued until the platform is expanded; anything else is approved.
Requests must be decided within 5 working days (DOMAIN.md, a local rule); ``due_date`` counts them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from inventory.workcalendar import working_days_after

RESOURCES = ("vcpus", "memory_gb", "storage_gb")
UNITS = {"vcpus": "vCPU", "memory_gb": "GB memory", "storage_gb": "GB storage"}
ZH = {"vcpus": "vCPU", "memory_gb": "GB内存", "storage_gb": "GB存储"}
NAMES = {"vcpus": "vCPU", "memory_gb": "memory", "storage_gb": "storage"}
ZH_NAMES = {"vcpus": "vCPU", "memory_gb": "内存", "storage_gb": "存储"}
CEILING = 0.90
WORKING_DAYS = 5


@dataclass(frozen=True)
class Ask:
    department: str
    platform: str
    amount: dict[str, float]
    purpose: str
    level: int = 2  # the MLPS level of the system the capacity is for
    classified: bool = False


@dataclass(frozen=True)
class Situation:
    quota: dict[str, float]
    department_in_use: dict[str, float]
    capacity: dict[str, float]
    allocated_now: dict[str, float]
    allocated_in_90_days: dict[str, float]
    open_purposes: dict[str, int] = field(default_factory=dict)  # normalised purpose → request id
    platform_level: int = 4  # the platform's MLPS level
    platform_intranet: bool = False  # an intranet (政务内网) platform, not the cloud


@dataclass(frozen=True)
class Decision:
    status: str  # approved | queued | rejected
    reason_en: str
    reason_zh: str


def normalised(purpose: str) -> str:
    return " ".join(purpose.lower().split())


def due_date(requested: dt.date, working_days: int = WORKING_DAYS) -> dt.date:
    """The day by which a request made on ``requested`` (a local day) must be decided: the fifth working day
    after it in China's calendar (weekends, public holidays skipped; make-up working days count)."""
    return working_days_after(requested, working_days)


def admit(ask: Ask, situation: Situation) -> Decision:
    """Decide ``ask`` in ``situation``; see the module docstring."""
    if ask.classified and not situation.platform_intranet:
        return Decision("rejected", "classified (涉密): never on a cloud platform; ask the intranet (政务内网) "
                        "platform", "涉密系统不得使用云平台资源，请向政务内网平台申请")
    if not ask.classified and situation.platform_intranet:
        return Decision("rejected", "the intranet (政务内网) platform takes classified systems only",
                        "政务内网平台仅承载涉密系统")
    if situation.platform_level < ask.level:
        return Decision("rejected", f"the platform is MLPS level {situation.platform_level}, below the system's "
                        f"level {ask.level}", f"平台等保{situation.platform_level}级，低于系统等保{ask.level}级")
    if all(ask.amount.get(r, 0) <= 0 for r in RESOURCES):
        return Decision("rejected", "nothing asked for", "未申请任何资源")
    duplicate = situation.open_purposes.get(normalised(ask.purpose))
    if duplicate is not None:
        return Decision("rejected", f"duplicate of request #{duplicate} for the same purpose on this platform",
                        f"与第{duplicate}号申请用途相同，属重复申请")
    for r in RESOURCES:
        want = ask.amount.get(r, 0.0)
        total = situation.department_in_use.get(r, 0.0) + want
        if want > 0 and total > situation.quota.get(r, 0.0):
            return Decision(
                "rejected",
                f"over the department's quota: {situation.department_in_use.get(r, 0):g} {UNITS[r]} in use + {want:g} "
                f"asked > {situation.quota.get(r, 0):g}",
                f"超出部门配额：已用{situation.department_in_use.get(r, 0):g}{ZH[r]}，申请{want:g}，配额"
                f"{situation.quota.get(r, 0):g}")
    for r in RESOURCES:
        want, capacity = ask.amount.get(r, 0.0), situation.capacity.get(r, 0.0)
        if want <= 0:
            continue
        if capacity <= 0 or situation.allocated_now.get(r, 0.0) + want > CEILING * capacity:
            share = situation.allocated_now.get(r, 0.0) / capacity if capacity else 1.0
            return Decision("queued", f"the platform would pass 90% {NAMES[r]} allocation (now {share:.0%}); "
                            "queued until it is expanded",
                            f"平台{ZH_NAMES[r]}分配将超过90%（当前{share:.0%}），待扩容后处理")
        if situation.allocated_in_90_days.get(r, 0.0) + want > CEILING * capacity:
            return Decision("queued", f"by the forecast the platform passes 90% {NAMES[r]} allocation within 90 days; "
                            "queued until it is expanded", f"预测90天内平台{ZH_NAMES[r]}分配将超过90%，待扩容后处理")
    return Decision("approved", "within the department's quota and the platform's headroom",
                    "在部门配额与平台余量之内")
