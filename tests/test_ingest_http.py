"""Agents push to a real ``shangyun serve`` over HTTP (SQLite and PostgreSQL); unreachable servers
mean queued reports that are replayed in order and stored once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from collectors.survey.importer import import_survey
from inventory.audit import Actor
from inventory.db import create_db_engine
from inventory.models import Server, UtilizationDaily, UtilizationSample
from tests.conftest import SHANGYUN, free_port, run_cli

TOKEN = "s3cret-ingest-token"
HOST = "r0001-srv001"  # a server of the tiny sample estate


def _start(db_url: str, port: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"SHANGYUN_DATABASE_URL": db_url, "SHANGYUN_INGEST_TOKEN": TOKEN}
    log = (tmp_path / f"serve-{port}.log").open("wb")
    server = subprocess.Popen([SHANGYUN, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError((tmp_path / f"serve-{port}.log").read_text())


@pytest.fixture
def estate_db(db_url: str, tiny_estate: Path) -> str:
    engine = create_db_engine(db_url)
    import_survey(tiny_estate, engine=engine, actor=Actor("test"))
    engine.dispose()
    return db_url


@pytest.fixture
def served(estate_db: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    server = _start(estate_db, port, tmp_path)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(10)


def _report(**change: object) -> dict[str, object]:
    base: dict[str, object] = {"hostname": HOST, "collected_at": "2026-11-01T08:00:00Z", "os": "Linux 6.1",
                               "cpu_cores": 16, "memory_mb": 65536, "disks": [{"mount": "/", "size_gb": 500,
                                                                                 "used_gb": 120}],
                               "cpu_util": 0.12, "memory_util": 0.43, "listening": [], "connections": []}
    return base | change


def _post(url: str, body: object, token: str = TOKEN) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/collect", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_ingest_stores_once_and_rolls_up(served: str, estate_db: str) -> None:
    first = _post(served, _report())
    assert (first.status_code, first.json()) == (202, {"status": "stored"})
    again = _post(served, _report())
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    engine = create_db_engine(estate_db)
    with Session(engine) as session:
        server = session.exec(select(Server).where(Server.hostname == HOST)).one()
        sample = session.exec(select(UtilizationSample).where(UtilizationSample.server_id == server.id,
                                                              UtilizationSample.source == "agent")).one()
        day = session.exec(select(UtilizationDaily).where(UtilizationDaily.server_id == server.id,
                                                          UtilizationDaily.day == dt.date(2026, 11, 1))).one()
    engine.dispose()
    assert (sample.cpu_util, sample.memory_util, sample.disk_used_gb) == (0.12, 0.43, 120)
    assert day.samples == 1 and day.cpu_max == 0.12


def test_bad_requests_are_refused_with_the_field_named(served: str) -> None:
    wrong = _post(served, _report(), token="guess")
    assert wrong.status_code == 401 and "guess" not in wrong.text and TOKEN not in wrong.text
    assert httpx.post(f"{served}/api/v1/collect", json=_report(), timeout=10).status_code == 401
    missing = _post(served, {k: v for k, v in _report().items() if k != "cpu_cores"})
    assert missing.status_code == 422 and "cpu_cores" in missing.text
    negative = _post(served, _report(disks=[{"mount": "/", "size_gb": -5, "used_gb": 1}]))
    assert negative.status_code == 422 and "size_gb" in negative.text
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ahead = _post(served, _report(collected_at=future))
    assert ahead.status_code == 422 and "collected_at" in ahead.text and "future" in ahead.text
    unknown = _post(served, _report(hostname="nobody-01"))
    assert unknown.status_code == 404 and "nobody-01" in unknown.text


def test_agent_queues_while_the_server_is_down_and_replays_in_order(estate_db: str, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    queue = tmp_path / "queue"
    env_args = ("collect", "local", "--once", "--push", url, "--queue-dir", str(queue), "--hostname", HOST)
    for _ in range(3):
        down = run_cli(*env_args, "--token", TOKEN, db_url=estate_db)
        assert down.returncode == 0 and "queued" in down.stderr and TOKEN not in down.stderr + down.stdout
    assert len(list(queue.glob("*.json"))) == 3
    server = _start(estate_db, port, tmp_path)
    try:
        up = run_cli(*env_args, "--token", TOKEN, db_url=estate_db)
    finally:
        server.terminate()
        server.wait(10)
    assert up.returncode == 0 and "sent 4 report(s)" in up.stderr, up.stderr
    assert not list(queue.glob("*.json"))
    engine = create_db_engine(estate_db)
    with Session(engine) as session:
        server_id = session.exec(select(Server.id).where(Server.hostname == HOST)).one()
        times = session.exec(select(UtilizationSample.at).where(UtilizationSample.server_id == server_id,
                                                                UtilizationSample.source == "agent")
                             .order_by(col(UtilizationSample.at))).all()
    engine.dispose()
    assert len(times) == 4 == len(set(times))  # each run samples CPU for 1 s: four distinct reports


def test_agent_without_token_is_refused(tmp_path: Path, db_url: str) -> None:
    result = run_cli("collect", "local", "--once", "--push", "http://127.0.0.1:9", db_url=db_url)
    assert result.returncode == 2 and "--token" in result.stderr
    printed = run_cli("collect", "local", "--once", db_url=db_url)
    assert json.loads(printed.stdout)["cpu_cores"] >= 1
