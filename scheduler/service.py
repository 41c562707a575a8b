"""The scheduler process: become the active instance (``scheduler.leader``), then run the jobs on their
schedules with APScheduler, its job store in the project's database. A standby instance retries every
``poll_seconds``; an active one that loses its lock stops its jobs and becomes a standby again."""

from __future__ import annotations

import logging
import re
import threading
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from inventory.errors import InvalidInputError
from inventory.settings import SchedulerSettings
from scheduler.jobs import JOBS, run_job
from scheduler.leader import LeaderLock

log = logging.getLogger("shangyun.scheduler")
EVERY = re.compile(r"^every\s+(\d+(?:\.\d+)?)\s*([smh])$")


class ScheduleError(InvalidInputError):
    """A schedule in the settings is neither a crontab line nor ``every N{s,m,h}``."""


def trigger(job: str, schedule: str, tz: ZoneInfo) -> BaseTrigger | None:
    """The trigger of one schedule setting; None when the job is switched off (empty)."""
    text = schedule.strip()
    if not text:
        return None
    match = EVERY.match(text)
    if match:
        seconds = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]
        return IntervalTrigger(seconds=seconds, timezone=tz)
    try:
        return CronTrigger.from_crontab(text, timezone=tz)
    except ValueError as exc:
        raise ScheduleError(f"SHANGYUN_SCHEDULER_{job.upper()}={schedule!r}: {exc}; use a crontab line, "
                            "'every 30s' / 'every 10m' / 'every 2h', or empty to switch it off") from None


def triggers(settings: SchedulerSettings, tz: ZoneInfo) -> dict[str, BaseTrigger | None]:
    """Every job's trigger (checked all at once, so a bad setting fails before anything starts)."""
    found = {name: trigger(name, getattr(settings, name), tz) for name in JOBS}
    if found.get("backup") is not None and settings.backup_dir is None:
        raise ScheduleError("SHANGYUN_SCHEDULER_BACKUP is set but SHANGYUN_SCHEDULER_BACKUP_DIR is not: name the "
                            "folder backups go to")
    return found


class SchedulerService:
    """Leader election plus APScheduler; ``run`` blocks until ``stop()``, ``start`` runs it in a thread."""

    def __init__(self, engine: Engine, settings: SchedulerSettings, tz: ZoneInfo) -> None:
        self.engine, self.settings, self.tz = engine, settings, tz
        self.triggers = triggers(settings, tz)
        self.lock = LeaderLock(engine)
        self.active = False
        self._stop = threading.Event()
        self._scheduler: BackgroundScheduler | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="shangyun-scheduler", daemon=True)
        self._thread.start()

    def stop_soon(self) -> None:
        """Ask ``run`` to stand down and return (safe from a signal handler)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def run(self) -> None:
        announced_standby = False
        try:
            while not self._stop.is_set():
                if not self.active:
                    if self.lock.acquire():
                        self._become_active()
                    elif not announced_standby:
                        log.info("scheduler standby: another instance is active; retrying every %g s",
                                 self.settings.poll_seconds)
                        announced_standby = True
                elif not self.lock.held():
                    log.warning("scheduler lost its lock: stopping jobs, back to standby")
                    self._stand_down()
                    announced_standby = False
                self._stop.wait(self.settings.poll_seconds)
        finally:
            self._stand_down()

    def _become_active(self) -> None:
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine)}, timezone=self.tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
        scheduler.start(paused=True)
        for name, job_trigger in self.triggers.items():
            if job_trigger is None:
                if scheduler.get_job(name) is not None:
                    scheduler.remove_job(name)
                continue
            scheduler.add_job(run_job, job_trigger, args=[name], id=name, name=name, replace_existing=True)
        scheduler.resume()
        self._scheduler, self.active = scheduler, True
        on = [n for n, t in self.triggers.items() if t is not None]
        log.info("scheduler active: jobs %s", ", ".join(on) or "none (all switched off)")

    def _stand_down(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self.lock.release()
        self.active = False
