"""Planned capacity expansions of cloud platforms (扩容计划): declared, listed, and read as a what-if.

An expansion adds physical vCPUs, memory (GB) and storage (TB on the command line, GB stored) to a
platform from the day it is in service. Until that day the planner and the forecast count it from then on;
from that day the platform's own totals are expected to include it, so it is no longer added.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from inventory import clock
from inventory.audit import Actor, record
from inventory.errors import ConflictError, InvalidInputError, NotFoundError
from inventory.models import CloudPlatform, PlatformExpansion
from inventory.models.enums import AuditAction

MAX_VCPUS = 1_000_000  # a bound on what one expansion may add: far beyond any real purchase
MAX_MEMORY_GB = 100_000_000.0
MAX_STORAGE_TB = 1_000_000.0
MAX_YEARS_AHEAD = 10
_SPEC = re.compile(r"^(?P<platform>.+):(?P<day>\d{4}-\d{2}-\d{2}):\+?(?P<vcpus>\d+),\+?(?P<gb>\d+(?:\.\d+)?),"
                   r"\+?(?P<tb>\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class ExpansionSpec:
    """One expansion as an operator gives it: platform, day in service, physical vCPUs, memory GB, storage TB."""

    platform: str
    ready_on: dt.date
    vcpus: int
    memory_gb: float
    storage_tb: float
    note: str | None = None

    @property
    def storage_gb(self) -> float:
        return self.storage_tb * 1024


def parse_spec(text: str, field: str = "--assume-expansion") -> ExpansionSpec:
    """``PLATFORM:YYYY-MM-DD:+vcpu,+gb,+tb`` (e.g. ``政务云-一区:2027-03-01:+512,+4096,+200``), checked."""
    match = _SPEC.match(text.strip())
    if match is None:
        raise InvalidInputError(f"{field} {text!r} is not PLATFORM:YYYY-MM-DD:+vcpu,+gb,+tb "
                                "(e.g. 政务云-一区:2027-03-01:+512,+4096,+200)", field=field)
    try:
        day = dt.date.fromisoformat(match["day"])
    except ValueError:
        raise InvalidInputError(f"{field} {text!r}: {match['day']} is not a date", field=field) from None
    return checked(ExpansionSpec(match["platform"], day, int(match["vcpus"]), float(match["gb"]),
                                 float(match["tb"])), field)


def checked(spec: ExpansionSpec, field: str = "expansion") -> ExpansionSpec:
    """``spec`` when it adds something, within bounds, on a day neither past nor too far ahead."""
    if spec.vcpus < 0 or spec.memory_gb < 0 or spec.storage_tb < 0:
        raise InvalidInputError(f"{field}: an expansion cannot remove capacity", field=field)
    if not (spec.vcpus or spec.memory_gb or spec.storage_tb):
        raise InvalidInputError(f"{field}: an expansion adds vCPUs, memory or storage; all three are 0", field=field)
    if spec.vcpus > MAX_VCPUS or spec.memory_gb > MAX_MEMORY_GB or spec.storage_tb > MAX_STORAGE_TB:
        raise InvalidInputError(f"{field}: more than {MAX_VCPUS} vCPU, {MAX_MEMORY_GB:.0f} GB or "
                                f"{MAX_STORAGE_TB:.0f} TB in one expansion", field=field)
    today = clock.today()
    if spec.ready_on <= today:
        raise InvalidInputError(f"{field}: {spec.ready_on} is not after today ({today}); capacity already in "
                                "service belongs in the platform's totals", field=field)
    if spec.ready_on.year > today.year + MAX_YEARS_AHEAD:
        raise InvalidInputError(f"{field}: {spec.ready_on} is more than {MAX_YEARS_AHEAD} years ahead", field=field)
    if spec.note is not None and len(spec.note) > 200:
        raise InvalidInputError(f"{field}: the note is longer than 200 characters", field=field)
    return spec


def declare(session: Session, spec: ExpansionSpec, actor: Actor) -> PlatformExpansion:
    """Record a planned expansion (one per platform and day), audited."""
    platform = session.exec(select(CloudPlatform).where(CloudPlatform.name == spec.platform)).first()
    if platform is None or platform.id is None:
        raise NotFoundError(what="cloud platform", key=spec.platform)
    if session.exec(select(PlatformExpansion).where(PlatformExpansion.platform_id == platform.id,
                                                    PlatformExpansion.ready_on == spec.ready_on)).first():
        raise ConflictError(f"{spec.platform} already has an expansion on {spec.ready_on}", field="ready_on")
    row = PlatformExpansion(platform_id=platform.id, ready_on=spec.ready_on, vcpus=spec.vcpus,
                            memory_gb=spec.memory_gb, storage_gb=spec.storage_gb, note=spec.note)
    session.add(row)
    session.flush()
    record(session, actor, "platform_expansion", f"{spec.platform}@{spec.ready_on}", AuditAction.CREATE, None,
           {"vcpus": spec.vcpus, "memory_gb": spec.memory_gb, "storage_gb": spec.storage_gb, "note": spec.note})
    return row


def upcoming(session: Session, platform: str | None = None) -> list[tuple[str, PlatformExpansion]]:
    """Expansions not yet in service (after today), by day: (platform name, expansion)."""
    query = (select(CloudPlatform.name, PlatformExpansion)
             .join(CloudPlatform, col(CloudPlatform.id) == PlatformExpansion.platform_id)
             .where(PlatformExpansion.ready_on > clock.today())
             .order_by(col(PlatformExpansion.ready_on), col(CloudPlatform.name)))
    if platform is not None:
        query = query.where(CloudPlatform.name == platform)
    return [(name, row) for name, row in session.exec(query)]
