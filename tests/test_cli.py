"""The installed ``shangyun`` command, run for real as a user would (subprocesses, real databases)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import openpyxl
import psutil
import pytest

from tests.conftest import PINNED_TODAY, SHANGYUN, run_cli
from tests.survey_files import base_survey, write_csv_folder


def test_import_reports_bad_rows_and_exits_2(db_url: str, tmp_path: Path) -> None:
    sheets = base_survey()
    sheets["服务器"][1][3] = "16Q"
    result = run_cli("import", str(write_csv_folder(tmp_path / "bad", sheets)), db_url=db_url)
    assert result.returncode == 2
    assert "服务器 row 2, column '内存', value '16Q': not a size" in result.stderr
    assert "nothing was written" in result.stdout


def test_import_then_reimport_says_nothing_changed(db_url: str, tmp_path: Path) -> None:
    folder = write_csv_folder(tmp_path / "s", base_survey())
    first = run_cli("import", str(folder), db_url=db_url)
    assert first.returncode == 0 and "imported" in first.stdout
    second = run_cli("import", str(folder), "--json", db_url=db_url)
    report = json.loads(second.stdout)
    assert report["written"] and report["counts"]["server"] == {"created": 0, "updated": 0, "unchanged": 2}
    third = run_cli("import", str(folder), db_url=db_url)
    assert "nothing changed" in third.stdout


def test_export_rooms_and_audit_commands(db_url: str, tmp_path: Path) -> None:
    run_cli("import", str(write_csv_folder(tmp_path / "s", base_survey())), db_url=db_url)
    exported = run_cli("export", str(tmp_path / "out.xlsx"), db_url=db_url)
    assert exported.returncode == 0, exported.stderr
    assert openpyxl.load_workbook(tmp_path / "out.xlsx").sheetnames[:3] == ["departments", "rooms", "servers"]
    rooms = run_cli("rooms", db_url=db_url)
    assert "R1" in rooms.stdout and "教育局机房" in rooms.stdout and "1 rooms" in rooms.stdout
    audit = run_cli("audit", "--entity", "server", "--id", "db-01", db_url=db_url)
    assert "db-01" in audit.stdout and "create" in audit.stdout and "web-01" not in audit.stdout


def test_missing_file_is_a_clear_error(db_url: str, tmp_path: Path) -> None:
    result = run_cli("import", str(tmp_path / "nope.xlsx"), db_url=db_url)
    assert result.returncode == 2 and "no such file" in result.stderr


@pytest.mark.slow
def test_demo_in_a_fresh_directory_uses_the_embedded_default(tmp_path: Path) -> None:
    """The tiny estate: every step of the demo runs as with the city (`make demo`), whose extra size adds
    only a longer import (measured in bench.import_bench). No clouds.yaml: the demo's OpenStack steps are a
    labelled dry run (the cloud tests cover the real ones)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHANGYUN_")} | {
        "COLUMNS": "200", "OS_CLIENT_CONFIG_FILE": str(tmp_path / "no-clouds.yaml"), "SHANGYUN_TODAY": PINNED_TODAY}
    result = subprocess.run([SHANGYUN, "demo", "--scale", "tiny"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "shangyun.db").exists() and (tmp_path / "demo-estate" / "samples.csv").exists()
    out = result.stdout
    assert "6 departments, 8 machine rooms, 60 servers, 20 business systems, 7 days" in out
    for heading in ("by classification", "by MLPS", "by status", "annual cost of all machine rooms"):
        assert heading in out
    hostname = socket.gethostname()
    assert f"created {hostname}" in out and "1 host(s) stored, 0 not collected" in out  # Ansible, localhost
    assert f"agent report of {hostname}: {psutil.cpu_count()} cores" in out and "→ stored" in out
    assert "OpenStack steps: DRY RUN" in out and "dry run, " in out and "signs off" in out
    done, total = re.search(r"wave 1: (\d+) of (\d+) item\(s\) completed", out).groups()  # type: ignore[union-attr]
    assert int(total) >= 1 and done == total
    assert list((tmp_path / "demo-estate" / "stand-ins" / "cloud-side").iterdir())  # data really synced
    assert "goal consolidate" in out and "active_hosts" in out and "rooms to close next" in out
    assert "capacity forecast" in out and "reaches 75%" in out
    again = subprocess.run([SHANGYUN, "demo", "--scale", "tiny"], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=600, check=False)
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert f"unchanged {hostname}" in again.stdout
    assert "wave 1 of plan demo@" in again.stdout and "has nothing left to do" in again.stdout
