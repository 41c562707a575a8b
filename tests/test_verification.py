"""Functional verification against the migrated target, for real: an HTTP service and a TCP port this
test starts, commands and data checksums through Ansible (locally and over SSH to an sshd standing in
for the new instance), and through the executor: a failed check stops the item before sign-off, its
results are in the event log and the archive, and approving after the fix checks again."""

from __future__ import annotations

import getpass
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlmodel import Session, col, select

from inventory.db import create_db_engine
from inventory.models import AuditLog, ItemState, RunEvent
from inventory.models.enums import EventPhase
from migration_plans.execution.actions import SourceServer, StepContext
from migration_plans.execution.site import Site
from migration_plans.execution.verification import VerificationFailedError, verify
from tests.conftest import run_cli
from tests.test_executor import _items, _site, _wave_of
from tests.test_playbooks import _source

TARGET = {"platform": "openstack", "platform_name": "os", "flavor": "g.4c16g", "vcpus": 4, "memory_gb": 16,
          "count": 1, "disk_gb": 10, "monthly_cny": 500}


class _Health(http.server.BaseHTTPRequestHandler):
    healthy = True

    def do_GET(self) -> None:
        up = self.path == "/health" and type(self).healthy
        body = b"status: UP" if up else b"status: DOWN" if self.path == "/health" else b"not here"
        self.send_response(200 if up else 503 if self.path == "/health" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def service() -> Iterator[int]:
    """A real HTTP service on a loopback port, standing in for the migrated application."""
    _Health.healthy = True
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _context(site: Site, target_ip: str | None = None) -> StepContext:
    resources = {"instances": {"sy-s00001": {"target_ip": target_ip}}} if target_ip else {}
    return StepContext(run_id=1, item_id=1, system_code="S00001", system_name="x", department_code="D1",
                       strategy="rehost", target=TARGET, servers=[SourceServer("src01", "127.0.0.1", "R1")],
                       site=site, resources=resources)


def test_checks_on_a_local_target_pass_and_each_failure_is_named(tmp_path: Path, service: int) -> None:
    data = _source(tmp_path)
    target_root = tmp_path / "targets"
    shutil.copytree(data, target_root / "S00001" / "src01" / "data")  # what the sync step made
    (tmp_path / "VERSION").write_text("release 2.3\n", encoding="utf-8")
    checks = {"http": [{"url": f"http://{{address}}:{service}/health", "contains": "UP"}],
              "tcp": [{"port": service}], "commands": [{"run": f"cat {tmp_path / 'VERSION'}", "expect": "2.3"}]}
    site = Site(connection="local", data_paths={"S00001": [str(data)]}, target_root=str(target_root),
                artifacts=str(tmp_path / "runs"), checks={"S00001": checks})
    made = verify(_context(site))
    kinds = sorted(c["kind"] for c in made["checks"])
    assert kinds == ["command", "data", "http", "tcp"] and all(c["ok"] for c in made["checks"])
    data_check = next(c for c in made["checks"] if c["kind"] == "data")
    assert data_check["observed"].startswith("2 ")  # two files, and the digest of both sides compared

    (target_root / "S00001" / "src01" / "data" / "ledger.csv").write_text("id,amount\n1,999\n", encoding="utf-8")
    wrong = Site.model_validate(site.model_dump() | {"checks": {"S00001": checks | {
        "http": [{"url": f"http://127.0.0.1:{service}/missing", "status": 200}],
        "commands": [{"run": f"cat {tmp_path / 'VERSION'}", "expect": "3.0"}]}}})
    with pytest.raises(VerificationFailedError) as failed:
        verify(_context(wrong))
    bad = {r.kind: r for r in failed.value.results if not r.ok}
    assert set(bad) == {"data", "http", "command"}
    assert bad["http"].observed == "HTTP 404" and "3.0" in bad["command"].expected
    assert "release 2.3" in bad["command"].observed and bad["data"].expected != bad["data"].observed
    assert "3 of 4 check(s) failed" in str(failed.value)


def test_checks_over_ssh_run_on_the_new_instance(tmp_path: Path, sshd: dict[str, str]) -> None:
    """The sshd on 127.0.0.1 stands in for both the source server and the new instance (``host:path``)."""
    ssh = {"ansible_port": int(sshd["port"]), "ansible_user": getpass.getuser(),
           "ansible_ssh_private_key_file": sshd["key"], "ansible_python_interpreter": "/usr/bin/python3",
           "ansible_ssh_common_args": f"-o UserKnownHostsFile={sshd['known_hosts']} -o StrictHostKeyChecking=yes"}
    data = _source(tmp_path)
    target_root = tmp_path / "instance-disk"
    shutil.copytree(data, target_root / "S00001" / "src01" / "data")
    (tmp_path / "motd").write_text("welcome to sy-s00001\n", encoding="utf-8")
    site = Site(connection="ssh", ansible_vars=ssh, target_ansible_vars=ssh, data_paths={"S00001": [str(data)]},
                target_root=str(target_root), artifacts=str(tmp_path / "runs"),
                checks={"S00001": {"commands": [{"run": f"cat {tmp_path / 'motd'}", "expect": "sy-s00001"}]}})
    made = verify(_context(site, target_ip="127.0.0.1"))
    by_kind = {c["kind"]: c for c in made["checks"]}
    assert by_kind["data"]["target"].startswith("src01:") and " → sy-s00001:" in by_kind["data"]["target"]
    assert by_kind["command"]["target"].startswith("sy-s00001: ") and by_kind["command"]["ok"]
    (target_root / "S00001" / "src01" / "data" / "nested" / "blob.bin").unlink()
    with pytest.raises(VerificationFailedError, match="data"):
        verify(_context(site, target_ip="127.0.0.1"))


def test_a_failed_check_stops_the_item_before_signoff_until_approved(planned: str, tmp_path: Path,
                                                                    service: int) -> None:
    db_url = planned
    wave, codes = _wave_of(db_url, "rehost")
    code = codes[0]
    _Health.healthy = False  # the migrated application does not come up
    site_file = _site(tmp_path, db_url, openstack={"dry_run": True}, checks={code: {"http": [
        {"url": f"http://127.0.0.1:{service}/health", "status": 200, "contains": "UP"}]}})
    result = run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site_file), "--system", code,
                     db_url=db_url, timeout=900)
    assert result.returncode == 0, result.stderr
    item = _items(db_url)[code]
    assert item.state == ItemState.WAITING and item.error is not None
    assert item.error.startswith("verify:") and f"migrate approve {item.id} verify" in item.error
    assert f"migrate rollback {item.id}" in item.error and "HTTP 503" in item.error
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        failed = session.exec(select(RunEvent).where(RunEvent.item_id == item.id, RunEvent.step == "verify",
                                                     RunEvent.phase == "after")).one()
    assert failed.status == "failed" and failed.payload is not None
    assert {c["kind"] for c in failed.payload["checks"]} == {"http", "data"}
    # The team fixes the application; a person approves, and the checks run again and pass.
    _Health.healthy = True
    assert run_cli("migrate", "approve", str(item.id), "verify", db_url=db_url).returncode == 0
    resumed = run_cli("migrate", "resume", "--run", str(item.run_id), db_url=db_url, timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    item = _items(db_url)[code]
    assert item.state == ItemState.WAITING and "signoff" in (item.error or "")
    with Session(engine) as session:
        archived = session.exec(select(AuditLog).where(AuditLog.entity == "system", AuditLog.entity_id == code,
                                                       AuditLog.action == "verify")
                                .order_by(col(AuditLog.id))).all()
    engine.dispose()
    assert [a.after["passed"] for a in archived if a.after] == [False, True]
    assert all(c["ok"] for c in archived[-1].after["checks"])  # type: ignore[index]

    # The department signs off; the archive (档案库) then tells the whole story of the system.
    assert run_cli("migrate", "approve", str(item.id), "signoff", db_url=db_url).returncode == 0
    assert run_cli("migrate", "resume", "--run", str(item.run_id), db_url=db_url, timeout=900).returncode == 0
    shown = run_cli("archive", code, "--json", "--xlsx", str(tmp_path / "archive.xlsx"), db_url=db_url)
    assert shown.returncode == 0, shown.stderr
    dossier = json.loads(shown.stdout[: shown.stdout.rindex("}") + 1])
    assert dossier["system"]["code"] == code and dossier["system"]["status"] == "migrated"
    actions = [h["action"] for h in dossier["history"]]
    assert actions[0] in ("create", "import") and "verify" in actions and actions.count("update") >= 1
    assert [p["plan"] for p in dossier["plans"]] == ["t@1"] and dossier["plans"][0]["strategy"] == "rehost"
    assert [v["passed"] for v in dossier["verifications"]] == [False, True]
    assert [s["by"] for s in dossier["signoffs"]] and dossier["signoffs"][0]["at"]
    assert {d.get("step") for d in dossier["decommission"]} >= {"decommission", "record"}
    assert any(d.get("server") for d in dossier["decommission"])  # its source servers, retired
    steps = [e["step"] for e in dossier["runs"][0]["events"]]
    assert steps.count("verify") >= 4 and "cutover" in steps
    workbook = openpyxl.load_workbook(tmp_path / "archive.xlsx")
    assert {"system 系统", "plans 迁移计划", "verification 功能验证", "signoff 签字确认", "events 执行日志"} <= set(
        workbook.sheetnames)


def test_rolling_back_a_cut_over_item_points_the_service_back_at_its_source(planned: str, tmp_path: Path,
                                                                            service: int) -> None:
    """What a revert does, not only the state it leaves: the cutover pointed the service address (the
    site's address file) at the target; after a failed check, ``migrate rollback`` runs the reverts of the
    steps done, newest first, and the rollback playbook points the address back at a source server."""
    from inventory.models import BusinessSystem, Server, SystemServer

    db_url = planned
    wave, codes = _wave_of(db_url, "rehost")
    code = codes[0]
    _Health.healthy = False
    site_file = _site(tmp_path, db_url, openstack={"dry_run": True}, checks={code: {"http": [
        {"url": f"http://127.0.0.1:{service}/health", "status": 200, "contains": "UP"}]}})
    assert run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site_file), "--system", code,
                   db_url=db_url, timeout=900).returncode == 0
    item = _items(db_url)[code]
    assert item.state == ItemState.WAITING and (item.error or "").startswith("verify:")
    address = tmp_path / f"{code}.address"
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        sources = {s.ip or s.hostname for s in session.exec(
            select(Server).join(SystemServer, col(SystemServer.server_id) == Server.id)
            .join(BusinessSystem, col(BusinessSystem.id) == SystemServer.system_id).where(BusinessSystem.code == code))}
    cut_over = address.read_text(encoding="utf-8").strip().removeprefix("address=")
    assert cut_over and cut_over not in sources  # the cutover pointed it at the target
    rolled = run_cli("migrate", "rollback", str(item.id), db_url=db_url, timeout=900)
    assert rolled.returncode == 0, rolled.stderr
    assert _items(db_url)[code].state == ItemState.ROLLED_BACK
    assert address.read_text(encoding="utf-8").strip().removeprefix("address=") in sources
    with Session(engine) as session:
        reverted = [e.step for e in session.exec(select(RunEvent).where(
            RunEvent.item_id == item.id, RunEvent.phase == EventPhase.REVERT_AFTER, RunEvent.status == "ok").order_by(
            col(RunEvent.counter)))]
    engine.dispose()
    assert reverted and reverted[0] == "cutover"  # newest first: the cutover is undone before the rest
