"""A real ``shangyun serve`` for the HTTP and browser tests: the tiny sample estate with a plan, one user
and token per role (the department user belongs to the first system's department), started on a free
loopback port without the in-process scheduler."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from inventory.models import Role
from tests.conftest import SHANGYUN, free_port, run_cli_here

PASSWORD = "correct-horse-battery"


@dataclass
class Seeded:
    db_url: str
    tokens: dict[str, str]  # role → API token; users are u-<role> with PASSWORD
    department: str  # the department user's department code


def seed(db_url: str, estate: Path) -> Seeded:
    """Import ``estate``, plan it, and add a user and token per role (commands run in this process:
``run_cli_here``)."""
    from sqlmodel import Session, col, select

    from inventory.db import create_db_engine
    from inventory.models import BusinessSystem, Department

    for args in (("import", str(estate)), ("plan", "create", "--name", "t", "--start", "2026-12-07")):
        result = run_cli_here(*args, db_url=db_url)
        assert result.returncode == 0, result.stderr
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        department = session.exec(select(Department.code).join(BusinessSystem, col(
            BusinessSystem.department_id) == Department.id).order_by(col(BusinessSystem.id))).first()
    engine.dispose()
    assert department is not None
    tokens = {}
    for role in Role:
        extra = ["--department", department] if role == Role.DEPARTMENT else []
        added = run_cli_here("user", "add", f"u-{role.value}", "--role", role.value, *extra, "--password-stdin",
                             db_url=db_url, stdin=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
        issued = run_cli_here("user", "token", f"u-{role.value}", db_url=db_url)
        assert issued.returncode == 0 and issued.stdout.startswith("sy_")
        tokens[role.value] = issued.stdout.strip()
    return Seeded(db_url, tokens, department)


def serve(db_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``shangyun serve`` and wait for its health check; (process, base URL)."""
    port = free_port()
    env = os.environ | {"SHANGYUN_DATABASE_URL": db_url, "SHANGYUN_SCHEDULER_IN_SERVE": "false"}
    server = subprocess.Popen([SHANGYUN, "serve", "--port", str(port)], env=env, stdout=log.open("wb"),
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError(log.read_text())
