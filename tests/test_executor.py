"""The executor on both databases with real Ansible runs against local directories that stand in for
the source servers: gates and approvals, reverts on failure while the wave goes on, kill -9 of a real
worker mid-step then resume, the classified refusal on a forged plan row, dry runs that change
nothing, item claims that never overlap, and the inventory updated on completion."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from inventory.audit import Actor
from inventory.db import create_db_engine
from inventory.models import (
    AuditLog,
    BusinessSystem,
    ItemState,
    MigrationRun,
    PlanItem,
    PlanWave,
    Room,
    RunEvent,
    RunItem,
    Server,
    SystemServer,
)
from inventory.models.enums import EventPhase, EventStatus, SystemStatus
from migration_plans.execution.executor import Executor, start_run
from migration_plans.execution.runbooks import REHOST
from migration_plans.execution.site import Site
from migration_plans.store import resolve
from tests.conftest import SHANGYUN, run_cli, run_cli_here


def _wave_of(db_url: str, strategy: str, at_least: int = 1) -> tuple[int, list[str]]:
    """The first wave with ``at_least`` items of ``strategy``, and those systems' codes."""
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        rows = session.exec(select(PlanWave.index, BusinessSystem.code).join(
            PlanItem, col(PlanItem.wave_id) == PlanWave.id).join(
            BusinessSystem, col(BusinessSystem.id) == PlanItem.system_id).where(PlanItem.strategy == strategy)
            .order_by(col(PlanWave.index), col(BusinessSystem.code))).all()
    engine.dispose()
    by_wave: dict[int, list[str]] = {}
    for index, code in rows:
        by_wave.setdefault(index, []).append(code)
    return next((w, codes) for w, codes in by_wave.items() if len(codes) >= at_least)


def _site(tmp_path: Path, db_url: str, **extra: Any) -> Path:
    """Local stand-ins: a data folder with two files per source server of every system."""
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        hostnames = list(session.exec(select(Server.hostname)))
    engine.dispose()
    sources = tmp_path / "sources"
    for hostname in hostnames:
        data = sources / hostname / "data"
        data.mkdir(parents=True)
        (data / "records.csv").write_text(f"host,{hostname}\n", encoding="utf-8")
        (data / "attachment.bin").write_bytes(hostname.encode() * 500)
    site = {"connection": "local", "source_root": str(sources), "target_root": str(tmp_path / "targets"),
            "address_root": str(tmp_path), "power_off": False, "artifacts": str(tmp_path / "runs"),
            "step_timeout": 120} | extra
    path = tmp_path / "site.yml"
    path.write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
    return path


def set_windows(db_url: str, windows: dict[str, str | None]) -> None:
    """Give the systems ``windows`` (code → downtime window; None: any day)."""
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        for system in session.exec(select(BusinessSystem).where(col(BusinessSystem.code).in_(windows))):
            system.downtime_window = windows[system.code]
            session.add(system)
        session.commit()
    engine.dispose()


def _items(db_url: str) -> dict[str, RunItem]:
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        rows = session.exec(select(RunItem, BusinessSystem.code).join(
            BusinessSystem, col(BusinessSystem.id) == RunItem.system_id).order_by(col(RunItem.id))).all()
        found = {code: item for item, code in rows}
    engine.dispose()
    return found


def _events(db_url: str, item_id: int) -> list[RunEvent]:
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        events = list(session.exec(select(RunEvent).where(RunEvent.item_id == item_id)
                                   .order_by(col(RunEvent.counter))))
    engine.dispose()
    return events


def test_retire_wave_with_gate_failure_and_completion(planned: str, tmp_path: Path) -> None:
    db_url = planned
    wave, retired = _wave_of(db_url, "retire", at_least=2)
    broken, good = retired[0], retired[1]
    set_windows(db_url, {good: None})  # any day: windows have their own tests
    site = _site(tmp_path, db_url, data_paths={broken: [str(tmp_path / "no-such-data")]})
    result = run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site),
                     "--system", broken, "--system", good, db_url=db_url)
    assert result.returncode == 0, result.stderr
    items = _items(db_url)
    # The broken item failed in its first step and was rolled back; the other one went on to the gate.
    assert items[broken].state == ItemState.ROLLED_BACK and "archive_data" in (items[broken].error or "")
    assert "no-such-data" in (items[broken].error or "")
    assert items[good].state == ItemState.WAITING and "signoff" in (items[good].error or "")
    phases = [(e.step, e.phase, e.status) for e in _events(db_url, items[good].id or 0)]
    assert phases[:4] == [("archive_data", "before", "started"), ("archive_data", "after", "ok"),
                          ("verify_archive", "before", "started"), ("verify_archive", "after", "ok")]
    archived = tmp_path / "targets" / "archive" / good
    assert sorted(p.name for p in archived.rglob("records.csv"))  # real files were archived

    assert run_cli_here("migrate", "approve", str(items[good].id), "signoff", db_url=db_url).returncode == 0
    resumed = run_cli_here("migrate", "resume", db_url=db_url)
    assert resumed.returncode == 0, resumed.stderr
    assert _items(db_url)[good].state == ItemState.COMPLETED

    engine = create_db_engine(db_url)
    with Session(engine) as session:
        system = session.exec(select(BusinessSystem).where(BusinessSystem.code == good)).one()
        servers = session.exec(select(Server).join(SystemServer, col(SystemServer.server_id) == Server.id)
                               .where(SystemServer.system_id == system.id)).all()
        assert system.status == "retired"
        for server in servers:  # retired unless another running system still uses it
            others = session.exec(select(BusinessSystem.status).join(
                SystemServer, col(SystemServer.system_id) == BusinessSystem.id).where(
                SystemServer.server_id == server.id, BusinessSystem.id != system.id)).all()
            assert (server.status == "retired") == all(s in ("retired", "migrated") for s in others)
            room = session.get(Room, server.room_id)
            assert room is not None
            in_room = session.exec(select(BusinessSystem.status).join(
                SystemServer, col(SystemServer.system_id) == BusinessSystem.id).join(
                Server, col(Server.id) == SystemServer.server_id).where(Server.room_id == room.id)).all()
            assert (room.status == "decommissioning") == all(s in ("retired", "migrated") for s in in_room)
        audited = session.exec(select(AuditLog).where(AuditLog.entity == "system",
                                                      AuditLog.entity_id == good)).all()
        assert any(a.after == {"status": "retired"} and a.actor.startswith("executor:") for a in audited)
        run = session.exec(select(MigrationRun)).one()
        assert run.status == "failed"  # one item rolled back
    engine.dispose()
    assert (tmp_path / "sources" / servers[0].hostname / "DECOMMISSIONED").exists()


def test_classified_item_is_refused_before_any_driver_call(planned: str, tmp_path: Path) -> None:
    """A forged plan row: the system became classified after planning. The executor refuses it."""
    db_url = planned
    wave, codes = _wave_of(db_url, "retire")
    forged = codes[0]
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        system = session.exec(select(BusinessSystem).where(BusinessSystem.code == forged)).one()
        system.classified = True
        session.add(system)
        session.commit()
    engine.dispose()
    site = _site(tmp_path, db_url)
    result = run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site), "--system", forged,
                     db_url=db_url)
    assert result.returncode == 0, result.stderr
    item = _items(db_url)[forged]
    assert item.state == ItemState.REFUSED and "classified" in (item.error or "")
    assert [(e.phase, e.status) for e in _events(db_url, item.id or 0)] == [("refuse", "refused")]
    assert not (tmp_path / "runs" / f"run-{item.run_id}" / f"item-{item.id}").exists()  # Ansible never ran
    assert not (tmp_path / "targets" / "archive" / forged).exists()
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        audit = session.exec(select(AuditLog).where(AuditLog.entity == "run_item",
                                                    AuditLog.entity_id == str(item.id))).one()
    engine.dispose()
    assert audit.after is not None and audit.after["state"] == "refused"
    dry = run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--dry-run", db_url=db_url)
    assert f"{forged}  refused: classified" in dry.stdout


def test_kill_9_mid_step_then_resume_repeats_nothing(planned: str, tmp_path: Path) -> None:
    db_url = planned
    wave, codes = _wave_of(db_url, "retire")
    code = codes[0]
    site = _site(tmp_path, db_url, verify_commands={code: ["sleep 6"]})
    env = os.environ | {"SHANGYUN_DATABASE_URL": db_url}
    worker = subprocess.Popen([SHANGYUN, "migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site),
                               "--system", code],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while True:  # wait until the worker is inside verify_archive (its sleep), then kill it and its children
        item = _items(db_url).get(code)
        events = _events(db_url, item.id or 0) if item else []
        if any(e.step == "verify_archive" and e.phase == "before" for e in events):
            break
        assert worker.poll() is None and time.monotonic() < deadline, "worker ended before the step to kill in"
        time.sleep(0.2)
    time.sleep(1)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    assert _items(db_url)[code].state == ItemState.RUNNING  # the dead worker's claim

    item_dir = str((tmp_path / "runs").resolve())

    def leftovers() -> list[psutil.Process]:
        return [p for p in psutil.process_iter(["cmdline"]) if item_dir in " ".join(p.info["cmdline"] or [])]

    orphaned = bool(leftovers())  # ansible-runner's own session outlives the worker (unless it just finished)
    resumed = run_cli("migrate", "resume", db_url=db_url)
    assert resumed.returncode == 0, resumed.stderr
    assert "whose worker stopped" in resumed.stdout
    stopped = re.search(r"stopped \d+ ansible-playbook process\(es\) left by the dead worker", resumed.stdout)
    assert orphaned or not stopped  # it only reports processes that were there
    assert not leftovers()  # and none is left running beside the resumed step
    item = _items(db_url)[code]
    assert item.state == ItemState.WAITING  # at the sign-off gate
    starts = Counter(e.step for e in _events(db_url, item.id or 0) if e.phase == "before")
    finishes = Counter(e.step for e in _events(db_url, item.id or 0) if e.phase == "after" and e.status == "ok")
    assert starts == {"archive_data": 1, "verify_archive": 2}  # the completed step was not repeated
    assert finishes == {"archive_data": 1, "verify_archive": 1}

    rollback = run_cli("migrate", "rollback", "--wave", str(wave), "--plan", "t", db_url=db_url)
    assert rollback.returncode == 0, rollback.stderr
    assert _items(db_url)[code].state == ItemState.ROLLED_BACK  # retire's steps have nothing to undo


def test_interrupted_non_idempotent_step_waits_for_a_person(planned: str, tmp_path: Path) -> None:
    """Cutover is not safe to repeat: after a crash inside it, resume stops and asks."""
    db_url = planned
    wave, _ = _wave_of(db_url, "rehost")
    engine = create_db_engine(db_url)
    site = Site.model_validate(yaml.safe_load(_site(tmp_path, db_url).read_text()))
    with Session(engine) as session:
        run = start_run(session, resolve(session, "t"), wave, site, Actor("test"))
        session.commit()
        run_id = run.id or 0
        item = session.exec(select(RunItem).where(RunItem.run_id == run_id, RunItem.strategy == "rehost")).first()
        assert item is not None and item.id is not None
        item.next_step = [s.name for s in REHOST].index("cutover")  # forged: everything before cutover done …
        item.state, item.claimed_by, item.heartbeat_at = ItemState.RUNNING, "elsewhere:999999999", run.started_at
        session.add(RunEvent(run_id=item.run_id, item_id=item.id, counter=1, at=run.started_at, step="cutover",
                             phase=EventPhase.BEFORE, status=EventStatus.STARTED))  # … and a worker died inside cutover
        session.add(item)
        session.commit()
        item_id = item.id
    executor = Executor(engine, site, Actor("test"))
    assert executor.reclaim(run_id) == []  # a claim from another machine within its lease is left alone
    with Session(engine) as session:
        forged = session.get(RunItem, item_id)
        assert forged is not None
        forged.state = ItemState.PENDING
        session.add(forged)
        session.commit()
    assert executor.process(item_id) == ItemState.WAITING
    events = _events(db_url, item_id)
    assert events[-1].phase == "gate" and "not safe to repeat" in str(events[-1].payload)
    assert [e.phase for e in events].count(EventPhase.BEFORE) == 1  # cutover was not started again
    engine.dispose()


def test_claims_never_overlap(planned: str, tmp_path: Path) -> None:
    """Two workers claim a wave's items at once (FOR UPDATE SKIP LOCKED on PostgreSQL)."""
    db_url = planned
    engine: Engine = create_db_engine(db_url)
    wave, _ = _wave_of(db_url, "rehost", at_least=3)
    site = Site()
    with Session(engine) as session:
        run = start_run(session, resolve(session, "t"), wave, site, Actor("test"))
        session.commit()
        run_id = run.id or 0
        total = len(session.exec(select(RunItem).where(RunItem.run_id == run_id)).all())
    claimed: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        executor = Executor(engine, site, Actor("test"))
        while (item_id := executor.claim(run_id)) is not None:
            with lock:
                claimed.append(item_id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert len(claimed) == total and len(set(claimed)) == total


def test_dry_run_prints_calls_and_changes_nothing(planned: str) -> None:
    db_url = planned
    wave, codes = _wave_of(db_url, "rehost")
    result = run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--dry-run", db_url=db_url)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "dry run" in out
    assert f"{codes[0]}  create_server: openstack.ensure_server(name='sy-{codes[0].lower()}'" in out
    assert "ansible.run_playbook(playbook='preflight'" in out and "signoff: gate" in out
    assert _items(db_url) == {}


def test_bad_requests_are_clear(planned: str, tmp_path: Path) -> None:
    db_url = planned
    bad_site = tmp_path / "bad.yml"
    bad_site.write_text("connection: telnet\nstep_timeout: -1\n", encoding="utf-8")
    result = run_cli("migrate", "run", "--plan", "t", "--wave", "1", "--site", str(bad_site), db_url=db_url)
    assert result.returncode == 2 and "bad.yml: connection" in result.stderr and "step_timeout" in result.stderr
    assert run_cli("migrate", "run", "--plan", "t", "--wave", "99", db_url=db_url).returncode == 2
    missing = run_cli("migrate", "approve", "12345", "signoff", db_url=db_url)
    assert missing.returncode == 2 and "no run item 12345" in missing.stderr
    assert _items(db_url) == {}


def test_export_ansible_inventory_groups_and_hostvars(planned: str) -> None:
    import json

    db_url = planned
    result = run_cli("export", "ansible-inventory", "--plan", "t", db_url=db_url)
    assert result.returncode == 0, result.stderr
    inventory = json.loads(result.stdout)
    hostvars = inventory["_meta"]["hostvars"]
    wave, codes = _wave_of(db_url, "rehost")
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        hosts = sorted(session.exec(select(Server.hostname).join(SystemServer, col(SystemServer.server_id) == Server.id)
                                    .join(BusinessSystem, col(BusinessSystem.id) == SystemServer.system_id)
                                    .where(BusinessSystem.code == codes[0])))
        server = session.exec(select(Server).where(Server.hostname == hosts[0])).one()
        room = session.get(Room, server.room_id)
    engine.dispose()
    assert room is not None
    assert inventory[f"system_{codes[0]}"]["hosts"] == hosts
    assert set(hosts) <= set(inventory[f"wave_{wave}"]["hosts"])
    assert hosts[0] in inventory[f"room_{room.code}"]["hosts"]
    assert hostvars[hosts[0]]["ansible_host"] == (server.ip or "").split(",")[0].strip()
    assert codes[0] in hostvars[hosts[0]]["shangyun_systems"] and hostvars[hosts[0]]["shangyun_room"] == room.code
    assert set(inventory["all"]["children"]) >= {f"room_{room.code}", f"wave_{wave}", "ungrouped"}
    one = run_cli("export", "ansible-inventory", "--host", hosts[0], db_url=db_url)
    assert json.loads(one.stdout) == hostvars[hosts[0]]


def test_no_servers_and_unreachable_cloud_end_items_cleanly(planned: str, tmp_path: Path) -> None:
    """Bad input: each item ends failed or rolled back with its reason; the rest of the wave goes on."""
    db_url = planned
    wave, codes = _wave_of(db_url, "rehost", at_least=2)
    no_servers, no_cloud = codes[:2]
    engine = create_db_engine(db_url)
    with Session(engine) as session:  # forged: the system lost its servers after planning
        system = session.exec(select(BusinessSystem).where(BusinessSystem.code == no_servers)).one()
        for link in session.exec(select(SystemServer).where(SystemServer.system_id == system.id)):
            session.delete(link)
        session.commit()
    engine.dispose()
    site = _site(tmp_path, db_url, openstack={"clouds": {}, "default_cloud": "no-such-cloud"})
    result = run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site), db_url=db_url)
    assert result.returncode == 0, result.stderr
    items = _items(db_url)
    assert items[no_servers].state == ItemState.FAILED
    assert items[no_servers].error == "the system has no servers in the inventory"
    assert items[no_cloud].state == ItemState.ROLLED_BACK
    assert "prepare_project: cloud 'no-such-cloud' not usable" in (items[no_cloud].error or "")
    # The wave's other items met the same missing cloud after a real preflight, and were rolled back too.
    assert all(i.state in (ItemState.ROLLED_BACK, ItemState.FAILED) for i in items.values())
    assert all(i.next_step == 0 for c, i in items.items() if c != no_servers)


def test_a_step_that_hangs_times_out_and_is_reverted(planned: str, tmp_path: Path) -> None:
    db_url = planned
    wave, codes = _wave_of(db_url, "retire")
    # The limit leaves the real steps (archive sync on a busy CI machine) time to finish; only the hang hits it.
    site = _site(tmp_path, db_url, step_timeout=20, verify_commands={codes[0]: ["sleep 600"]})
    started = time.monotonic()
    result = run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site),
                     "--system", codes[0], db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 300
    item = _items(db_url)[codes[0]]
    assert item.state == ItemState.ROLLED_BACK and "verify_archive" in (item.error or "")
    assert "timeout" in (item.error or "")
    # the timed-out playbook is stopped with what it started, not left running its ten-minute sleep
    lingering = [p for p in psutil.process_iter(["cmdline"])
                 if str(tmp_path) in " ".join(p.info["cmdline"] or []) and "ansible-playbook" in " ".join(
                     p.info["cmdline"] or [])]
    assert not lingering, [p.info["cmdline"] for p in lingering]


def test_last_system_leaving_a_room_marks_it_decommissioning_in_savings(planned: str) -> None:
    """The completion step through the executor's own code path: the room empties, the savings timeline says so."""
    import datetime as dt

    from migration_plans.execution.actions import StepContext
    from migration_plans.execution.completion import complete_item

    db_url = planned
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        plan = resolve(session, "t")
        closed_in_plan = [r for w in plan.document["savings"]["by_wave"] for r in w["rooms_closed"]]
        room = session.exec(select(Room).where(Room.code == closed_in_plan[0])).one()
        ids = set(session.exec(select(SystemServer.system_id).join(Server, col(Server.id) == SystemServer.server_id)
                               .where(Server.room_id == room.id)))
        systems = session.exec(select(BusinessSystem).where(col(BusinessSystem.id).in_(ids))).all()
        *others, last = sorted(systems, key=lambda s: s.code)
        for system in others:
            system.status = SystemStatus.MIGRATED
            session.add(system)
        session.commit()
        run = start_run(session, plan, 1, Site(), Actor("test"))
        session.commit()
        item = session.exec(select(RunItem).where(RunItem.run_id == run.id)).first()
        assert item is not None and item.id is not None
        ctx = StepContext(run_id=run.id or 0, item_id=item.id, system_code=last.code, system_name=last.name,
                          department_code="x", strategy="rehost", target={}, servers=[], site=Site(), resources={})
        changed = complete_item(session, ctx, "migrated", dt.datetime.now(dt.UTC))
        session.commit()
        assert changed["completed"]["rooms_decommissioning"] == [room.code]
        session.refresh(room)
        assert room.status == "decommissioning"
    engine.dispose()
    savings = run_cli("plan", "savings", "t", db_url=db_url)
    assert f"{room.code}✓" in savings.stdout and f"{room.code} (decommissioning)" in savings.stdout


def test_a_detached_run_is_worked_by_workers(planned: str, tmp_path: Path) -> None:
    """``migrate run --detach`` only starts the run; two ``migrate worker --once`` processes share its items."""
    import subprocess

    db_url = planned
    wave, _ = _wave_of(db_url, "retire")
    site = _site(tmp_path, db_url)
    started = run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site), "--detach",
                      db_url=db_url)
    assert started.returncode == 0 and "left to the workers" in started.stdout, started.stderr
    assert {i.state for i in _items(db_url).values()} == {ItemState.PENDING}
    env = os.environ | {"SHANGYUN_DATABASE_URL": db_url}
    workers = [subprocess.Popen([SHANGYUN, "migrate", "worker", "--once"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    items = _items(db_url)
    assert all(i.state in (ItemState.COMPLETED, ItemState.WAITING, ItemState.ROLLED_BACK, ItemState.FAILED,
                           ItemState.REFUSED) for i in items.values())
    assert len({i.claimed_by for i in items.values() if i.claimed_by}) >= 1
