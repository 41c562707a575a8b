"""The embedded database under contention (issue 15 §9), against a real ``shangyun serve``.

Attacks reproduced: while a long import held SQLite's write lock, concurrent writers failed with
500 "database is locked" after 31 s, and the traceback logged the statement's parameters (a token's
keyed hash among them).
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from inventory.db import create_db_engine
from tests.api_server import seed, serve

PURPOSE = "purpose-seen-only-by-the-database-7f3a"


@pytest.fixture
def served(sqlite_template: Path, tiny_estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[str, dict[str, str], Path, Path]]:
    """SQLite only: its one writer lock is what this is about (PostgreSQL locks rows)."""
    shutil.copy(sqlite_template, tmp_path / "shangyun.db")
    db_url = f"sqlite:///{tmp_path / 'shangyun.db'}"
    seeded = seed(db_url, tiny_estate)
    monkeypatch.setenv("SHANGYUN_SQLITE_BUSY_TIMEOUT_S", "1")
    log = tmp_path / "serve.log"
    process, base = serve(db_url, log)
    try:
        yield base, {"Authorization": f"Bearer {seeded.tokens['admin']}"}, Path(db_url.removeprefix("sqlite:///")), log
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_writer_blocked_past_the_wait_gets_503_and_nothing_leaks(
        served: tuple[str, dict[str, str], Path, Path]) -> None:
    base, auth, path, log = served
    platform = httpx.get(base + "/api/v1/platforms", headers=auth).json()[0]["name"]
    department = httpx.get(base + "/api/v1/departments?limit=1", headers=auth).json()["items"][0]["code"]
    ask = {"department_code": department, "platform": platform, "vcpus": 1, "purpose": PURPOSE,
           "mlps_level": 2, "classified": False}
    holder = sqlite3.connect(path, timeout=5, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer (a long import, say) holds the lock
    try:
        started = time.monotonic()
        blocked = httpx.post(base + "/api/v1/capacity-requests", headers=auth, json=ask, timeout=60)
        assert blocked.status_code == 503 and blocked.headers["retry-after"] == "5", blocked.text
        assert time.monotonic() - started < 10  # the wait is bounded (SHANGYUN_SQLITE_BUSY_TIMEOUT_S=1)
        assert httpx.get(base + "/api/v1/servers?limit=5", headers=auth).status_code == 200  # readers go on
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert httpx.post(base + "/api/v1/capacity-requests", headers=auth, json=ask, timeout=60).status_code == 201
    assert PURPOSE not in log.read_text(errors="replace")


def test_database_errors_never_carry_statement_parameters(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (v TEXT NOT NULL UNIQUE)"))
        connection.execute(sa.text("INSERT INTO t VALUES (:v)"), {"v": PURPOSE})
    with pytest.raises(sa.exc.IntegrityError) as caught, engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO t VALUES (:v)"), {"v": PURPOSE})
    assert PURPOSE not in str(caught.value) and "hidden" in str(caught.value)
    engine.dispose()
