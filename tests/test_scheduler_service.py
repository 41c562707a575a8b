"""The scheduler for real: jobs run one at a time from the CLI and record their runs; with two instances
on one database (a ``shangyun scheduler run`` and a ``shangyun serve`` running it in-process) exactly one
is active — PostgreSQL advisory lock, SQLite file lock — and the other takes over when it stops; the job
store is the project's database; bad schedules are refused naming the setting."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from inventory.db import create_db_engine
from inventory.models import JobRun
from tests.conftest import SHANGYUN, free_port, run_cli

ONLY_REQUESTS = {"SHANGYUN_SCHEDULER_POLL_SECONDS": "0.3", "SHANGYUN_SCHEDULER_REQUESTS": "every 1s",
                 **{f"SHANGYUN_SCHEDULER_{job}": "" for job in ("COLLECT", "ROLLUPS", "REBALANCE_AUDIT", "FORECAST",
                                                               "ROOM_FLAGS")}}


def _runs(db_url: str) -> list[JobRun]:
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        rows = list(session.exec(select(JobRun).order_by(col(JobRun.id))))
    engine.dispose()
    return rows


def _wait_for(predicate: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _pids(runs: list[JobRun]) -> set[int]:
    return {int(r.runner.rsplit(":", 1)[1]) for r in runs}


def test_each_job_runs_once_from_the_cli(db_url: str, tiny_estate: Path) -> None:
    assert run_cli("import", str(tiny_estate), db_url=db_url).returncode == 0
    for job in ("forecast", "room_flags", "requests", "rollups", "rebalance_audit", "collect"):
        result = run_cli("scheduler", "run", "--job", job, db_url=db_url)
        assert result.returncode == 0, result.stdout + result.stderr
    runs = _runs(db_url)
    assert [r.status for r in runs] == ["ok"] * 6
    summary = {r.job: r.summary for r in runs}
    assert "platform day(s) recorded" in summary["forecast"] and "next to close: R" in summary["room_flags"]
    assert "no clouds configured" in summary["collect"]
    listed = run_cli("scheduler", "jobs", db_url=db_url)
    assert listed.returncode == 0 and "room_flags" in listed.stdout and "*/10 * * * *" in listed.stdout


def test_bad_schedules_and_job_names_are_refused(db_url: str) -> None:
    env = os.environ | {"SHANGYUN_DATABASE_URL": db_url, "SHANGYUN_SCHEDULER_FORECAST": "at noon"}
    result = subprocess.run([SHANGYUN, "scheduler", "run"], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 2 and "SHANGYUN_SCHEDULER_FORECAST='at noon'" in result.stderr
    result = run_cli("scheduler", "run", "--job", "vacuum", db_url=db_url)
    assert result.returncode == 2 and "--job must be one of" in result.stderr


def test_two_instances_exactly_one_active_then_failover(db_url: str, tmp_path: Path) -> None:
    env = os.environ | {"SHANGYUN_DATABASE_URL": db_url} | ONLY_REQUESTS
    logs = [(tmp_path / name).open("wb") for name in ("scheduler.log", "serve.log")]
    alone = subprocess.Popen([SHANGYUN, "scheduler", "run"], env=env, stdout=logs[0], stderr=logs[0])
    time.sleep(1.5)  # let the stand-alone scheduler win the lock first
    serve = subprocess.Popen([SHANGYUN, "serve", "--port", str(free_port())], env=env, stdout=logs[1],
                             stderr=logs[1])
    try:
        _wait_for(lambda: len(_runs(db_url)) >= 3, "three runs of the requests job")
        time.sleep(3)  # the standby has had ten chances to take the lock
        assert _pids(_runs(db_url)) == {alone.pid}, (tmp_path / "serve.log").read_text()[-2000:]
        engine = create_db_engine(db_url)
        with engine.connect() as conn:  # APScheduler's job store is a table of the project's database
            stored = [row[0] for row in conn.execute(sa.text("SELECT id FROM apscheduler_jobs"))]
        engine.dispose()
        assert stored == ["requests"]
        alone.send_signal(signal.SIGTERM)
        assert alone.wait(timeout=30) == 0
        handover = len(_runs(db_url))
        _wait_for(lambda: serve.pid in _pids(_runs(db_url)[handover:]), "the in-process scheduler to take over")
        assert _pids(_runs(db_url)[handover:]) == {serve.pid}
        assert "scheduler standby" in (tmp_path / "serve.log").read_text()
    finally:
        for process in (alone, serve):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        for log in logs:
            log.close()
