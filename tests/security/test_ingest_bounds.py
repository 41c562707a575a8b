"""Agent ingest under attack (issue 15 §3), against a real ``shangyun serve`` on SQLite and PostgreSQL.

Attacks reproduced, each refused with 422 naming the field and nothing stored:
- ``memory_mb: Infinity``, ``cpu_cores: 2**62``, a 1e308 GB disk (stored before, they later crashed
  ``plan create`` for the whole estate with an OverflowError);
- 20,000 connections in one report (held the write lock for 20 s);
- a time of 0001-01-01, a port of 99999999999999999999, a NUL byte or a lone surrogate (each was a 500);
  the 422 body never echoes the input (Infinity or a lone surrogate cannot be written back as JSON).
Also: an empty ingest token never accepts ``Authorization: Bearer `` (503, ingest off), and outside
development an empty or short token stops the server from starting.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlmodel import Session

from inventory.db import create_db_engine
from inventory.models import ObservedConnection, UtilizationSample
from tests.conftest import SHANGYUN, free_port, run_cli
from tests.test_ingest_http import TOKEN, _report


def _post_raw(url: str, text: str, token: str = TOKEN) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/collect", content=text.encode(), timeout=30,
                      # HTTP strips a header's trailing space, so "Bearer " arrives as "Bearer": an empty token
                      headers={"Authorization": f"Bearer {token}".strip(), "Content-Type": "application/json"})


def _stored(db_url: str) -> tuple[int, int]:
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        counts = tuple(session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                       for table in (UtilizationSample, ObservedConnection))
    engine.dispose()
    return counts


def test_reports_out_of_bounds_are_refused_naming_the_field(served: str, estate_db: str) -> None:
    before = _stored(estate_db)
    attacks = {
        "memory_mb": json.dumps(_report(memory_mb=float("inf"))),  # Python writes the JSON extension Infinity
        "cpu_cores": json.dumps(_report(cpu_cores=2**62)),
        "size_gb": json.dumps(_report(disks=[{"mount": "/", "size_gb": 1e308, "used_gb": 1}])),
        "used_gb": json.dumps(_report(disks=[{"mount": "/", "size_gb": 10, "used_gb": float("nan")}])),
        "connections": json.dumps(_report(connections=[{"remote": f"10.0.{k // 250}.{k % 250}:5432"}
                                                       for k in range(20_000)])),
        "collected_at": json.dumps(_report(collected_at="0001-01-01T00:00:00Z")),
        "port": json.dumps(_report(listening=[{"port": 99999999999999999999}])),
        "remote": json.dumps(_report(connections=[{"remote": "10.0.0.1:99999999999999999999"}])),
        "hostname": json.dumps(_report(hostname="r0001-srv001\ud800")),  # a lone surrogate (a 500 on PostgreSQL)
        "os": json.dumps(_report(os="Linux\u0000")),  # a NUL byte (a 500 on PostgreSQL)
    }
    for field, body in attacks.items():
        response = _post_raw(served, body)
        assert response.status_code == 422, (field, response.status_code, response.text[:300])
        assert field in response.text, (field, response.text[:300])
    assert _stored(estate_db) == before
    # The estate still plans: no stored value overflows a sum.
    assert run_cli("plan", "create", "--name", "after-attack", "--start", "2026-12-07",
                   db_url=estate_db).returncode == 0
    fine = _post_raw(served, json.dumps(_report(connections=[{"remote": "10.0.0.1:5432"}])))
    assert fine.status_code == 202, fine.text


def test_an_empty_token_never_opens_ingest_and_stops_production(estate_db: str, tmp_path: Path) -> None:
    port = free_port()
    env = os.environ | {"SHANGYUN_DATABASE_URL": estate_db, "SHANGYUN_INGEST_TOKEN": "",
                        "SHANGYUN_SCHEDULER_IN_SERVE": "false"}
    log = tmp_path / "serve.log"
    server = subprocess.Popen([SHANGYUN, "serve", "--port", str(port)], env=env, stdout=log.open("wb"),
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        before = _stored(estate_db)
        answer = _post_raw(f"http://127.0.0.1:{port}", json.dumps(_report()), token="")
        assert answer.status_code == 503 and "SHANGYUN_INGEST_TOKEN" in answer.text
        assert _stored(estate_db) == before
    finally:
        server.terminate()
        server.wait(10)
    production = {"SHANGYUN_ENVIRONMENT": "production", "SHANGYUN_SECRET_KEY": "k7Qp2vX9mR4tW8zB1nL6cF3hJ5dG0sYa",
                  "SHANGYUN_SCHEDULER_IN_SERVE": "false", "SHANGYUN_DATABASE_URL": estate_db}
    for token in ("", "short-token", "a" * 36):
        refused = subprocess.run([SHANGYUN, "serve", "--port", str(free_port())], capture_output=True, text=True,
                                 env=os.environ | production | {"SHANGYUN_INGEST_TOKEN": token}, timeout=60,
                                 check=False)
        assert refused.returncode != 0 and "SHANGYUN_INGEST_TOKEN" in refused.stdout + refused.stderr, token
        assert token == "" or token not in refused.stdout + refused.stderr  # the secret is never echoed
