"""Logs: JSON lines with the request id when ``shangyun serve`` writes to a file or pipe, plain text on a
terminal (a real pseudo-terminal here); the id a client sends comes back in ``X-Request-ID`` and is the
``request_id`` of the audit rows the request wrote."""

from __future__ import annotations

import json
import logging
import os
import pty
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from inventory.db import create_db_engine
from inventory.logs import (
    REQUEST_ID,
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    logging_config,
    request_id_for,
    use_json,
)
from inventory.models import AuditLog, CloudPlatform, Department
from tests.api_server import seed, serve


def test_served_requests_log_json_lines_with_their_id(tmp_path: Path, tiny_estate: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seeded = seed(f"sqlite:///{tmp_path / 'log.db'}", tiny_estate)
    monkeypatch.setenv("SHANGYUN_ACCESS_LOG", "true")
    log = tmp_path / "serve.log"
    process, base = serve(seeded.db_url, log)
    try:
        engine = create_db_engine(seeded.db_url)
        with Session(engine) as session:
            platform = session.exec(select(CloudPlatform.name)).first()
            department = session.exec(select(Department.code)).first()
        assert platform and department
        headers = {"Authorization": f"Bearer {seeded.tokens['admin']}", "X-Request-ID": "trace-0042"}
        asked = httpx.post(f"{base}/api/v1/capacity-requests", headers=headers, json={
            "department_code": department, "platform": platform, "vcpus": 2, "purpose": "logging test",
            "mlps_level": 2, "classified": False})
        assert asked.status_code == 201, asked.text
        assert asked.headers["x-request-id"] == "trace-0042"
        invented = httpx.get(f"{base}/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
        assert invented.headers["x-request-id"] != "bad id\twith spaces" and len(invented.headers["x-request-id"]) == 16
        with Session(engine) as session:
            audited = session.exec(select(AuditLog).where(AuditLog.entity == "capacity_request")).all()
        engine.dispose()
        assert [a.request_id for a in audited] == ["trace-0042"]
    finally:
        process.terminate()
        process.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    assert lines and len(lines) == len(log.read_text(encoding="utf-8").splitlines())  # every line is JSON
    asked_line = next(entry for entry in lines if entry.get("path") == "/api/v1/capacity-requests")
    assert asked_line["request_id"] == "trace-0042" and asked_line["status"] == 201 and asked_line["ms"] >= 0
    assert seeded.tokens["admin"] not in log.read_text(encoding="utf-8")


def test_a_terminal_gets_plain_text_and_a_pipe_json(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as terminal, (tmp_path / "out").open("w") as file:
            assert use_json("auto", terminal) is False and use_json("auto", file) is True
            assert use_json("json", terminal) is True and use_json("text", file) is False
    finally:
        os.close(leader)
        os.close(follower)
    assert logging_config(False)["formatters"]["default"]["()"].endswith("TextFormatter")


def test_records_carry_the_request_id_in_both_formats() -> None:
    record = logging.LogRecord("shangyun.test", logging.WARNING, __file__, 1, "moved %d", (3,), None)
    token = REQUEST_ID.set(request_id_for("abc-123"))
    try:
        RequestIdFilter().filter(record)  # as the handler's filter does while the request runs
    finally:
        REQUEST_ID.reset(token)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "abc-123" and entry["message"] == "moved 3" and entry["level"] == "WARNING"
    assert TextFormatter().format(record).endswith("moved 3 [abc-123]")
