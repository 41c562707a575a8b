"""Retention of raw utilization samples: samples older than the retention window are deleted; the
daily rollups built from them stay, so right-sizing and zombie evidence keep their history."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Session

from inventory.audit import Actor, record
from inventory.models import AuditAction, UtilizationSample
from inventory.views.public import table_of


def prune_samples(session: Session, retention_days: int, actor: Actor, now: dt.datetime | None = None) -> int:
    """Delete raw samples older than ``retention_days``; return how many, audited as one row."""
    if retention_days < 1:
        raise ValueError("retention must be at least one day")
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=retention_days)
    samples = table_of(UtilizationSample)
    result = session.execute(sa.delete(samples).where(samples.c.at < cutoff))
    deleted = int(result.rowcount)  # type: ignore[attr-defined]
    if deleted:
        record(session, actor, "utilization_sample", "retention", AuditAction.DELETE,
               {"before": cutoff.isoformat(), "deleted": deleted}, None)
    return deleted
