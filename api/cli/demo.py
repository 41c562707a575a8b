"""``shangyun demo``: the main job on the embedded default, end to end in one command."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from inventory import clock
from inventory.models.enums import RebalanceGoal
from inventory.models.runs import ItemState
from inventory.settings import get_settings, use_openstack_config

console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)
TESTCLOUD_CONFIG = Path("/var/tmp/shangyun-testcloud/clouds.yaml")  # where `make testcloud` writes it


def _counter_table(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title)
    table.add_column("")
    table.add_column("systems", justify="right")
    for key, value in sorted(counts.items(), key=lambda kv: -kv[1]):
        table.add_row(key, str(value))
    return table


def _whole_estate_leaves() -> None:
    """What lets every room close: classified systems to the intranet, each system in its network zone, and
    the MLPS assessments that are due."""
    from inventory.db import session_scope
    from inventory.mlps import mlps_due
    from migration_plans.store import resolve

    with session_scope() as session:
        document = resolve(session, "demo").document
        late = sum(row.overdue for row in mlps_due(session, clock.today()))
    items = [i for wave in document["waves"] for i in wave["items"]]
    intranet = [i for i in items if i["strategy"] == "intranet"]
    closing = sum(r["closes_after_wave"] is not None for r in document["rooms"])
    platforms = sorted({i["destination"]["platform"] for i in intranet})
    zones: dict[str, int] = {}
    for item in items:
        if item.get("zone"):
            zones[item["zone"]] = zones.get(item["zone"], 0) + 1
    console.print(f"涉密系统 classified: {len(intranet)} move to the intranet platform {', '.join(platforms) or '—'} "
                  f"(never the cloud; without one declared they would stay and keep their rooms open); rooms "
                  f"closing: {closing} of {len(document['rooms'])}", highlight=False)
    console.print("网络区域 zones: " + ", ".join(f"{zone} {count}" for zone, count in sorted(zones.items()))
                  + f"; 等保测评 overdue: {late} (`shangyun mlps overdue`)", highlight=False)


def demo_command(
    scale: Annotated[str, typer.Option(help="sample size: tiny | city | province | stress")] = "city",
    seed: Annotated[int, typer.Option(help="random seed of the sample estate")] = 1,
    estate_dir: Annotated[Path, typer.Option("--dir", help="where the sample survey files go")] = Path("demo-estate"),
) -> None:
    """Build the sample city, import it through the survey importer and summarise the inventory."""
    from api.cli.inventory import rooms_command
    from api.cli.plan import create_command, savings_command, zombies_command
    from api.cli.survey import import_command, sample_command
    from inventory.costs import Basis
    from inventory.db import session_scope
    from inventory.settings import get_cost_defaults, get_settings
    from inventory.views.queries import inventory_summary, room_rows

    console.rule(f"1. sample estate ({scale}, seed {seed}) → {estate_dir}")
    sample_command(out=estate_dir, scale=scale, seed=seed, as_of=None)
    console.rule("2. survey import (all-or-nothing, upsert by code/hostname)")
    import_command(path=estate_dir, dry_run=False, skip_bad_rows=False, as_json=False)
    console.rule("3. inventory")
    with session_scope() as session:
        summary = inventory_summary(session)
        rooms = room_rows(session, get_cost_defaults())
    history = (f"{summary.hourly_days} days of hourly utilization ({summary.samples_days} days in all)"
               if 0 < summary.hourly_days < summary.samples_days else f"{summary.samples_days} days of utilization")
    console.print(f"{summary.departments} departments, {summary.rooms} machine rooms, {summary.servers} servers, "
                  f"{summary.systems} business systems, {history}")
    by_dept = Table(title="by department (largest 12 by servers)")
    for name in ("department 部门", "rooms", "servers", "systems"):
        by_dept.add_column(name, justify="left" if name.startswith("department") else "right")
    for name, n_rooms, n_servers, n_systems in sorted(summary.by_department, key=lambda r: -r[2])[:12]:
        by_dept.add_row(name, str(n_rooms), str(n_servers), str(n_systems))
    console.print(by_dept)
    console.print(_counter_table("by classification 涉密", dict(summary.by_classification)))
    console.print(_counter_table("by MLPS 等保级别", dict(summary.by_mlps)))
    console.print(_counter_table("by status 运行状态", dict(summary.by_status)))
    rooms_command(sort="cost", limit=10)
    parts: dict[str, float] = {}
    defaulted = 0.0
    for row in rooms:
        for part, value in row.cost.parts.items():
            parts[part] = parts.get(part, 0.0) + value.cny
            defaulted += value.cny if value.basis is Basis.DEFAULT else 0.0
    total = sum(parts.values())
    cost = Table(title="annual cost of all machine rooms 机房年度费用")
    cost.add_column("part")
    cost.add_column("万元/year", justify="right")
    cost.add_column("share", justify="right")
    for part, amount in parts.items():
        cost.add_row(part, f"{amount / 10000:,.1f}", f"{amount / total:.0%}" if total else "")
    cost.add_row("total", f"{total / 10000:,.1f}", "100%")
    console.print(cost)
    console.print(f"{defaulted / total:.0%} of the total rests on placeholder defaults (marked * in `shangyun rooms`); "
                  "set each room's own figures in the survey to replace them." if total else "no rooms")
    console.rule("4. zombie systems 僵尸系统 (from the daily rollups)")
    zombies_command(apply=True, limit=8)
    console.rule("5. migration plan 迁移计划: waves ordered to close rooms early")
    start = clock.today() + dt.timedelta(days=7 - clock.today().weekday() + 7)  # the Monday after next
    create_command(name="demo", start=start.isoformat(), wave_days=14, max_systems=None, max_vcpus=None,
                   first_small=True, sizing_days=30, as_json=False)
    _whole_estate_leaves()
    savings_command(ref="demo", xlsx=None)
    console.rule("6. live collection 实时采集: Ansible facts and the agent on this machine, the test cloud")
    _collect_live(estate_dir)
    console.rule("7. carry out wave 1 执行第1批迁移: Ansible on stand-in folders, OpenStack on the test cloud")
    _execute_wave_one(estate_dir)
    console.rule("8. keep the cloud healthy 云资源调度: rebalance, capacity forecast, rooms to close next")
    _schedule(estate_dir)
    console.rule("9. the dashboard 看板")
    _dashboard_login()
    console.print(f"database: {get_settings().database_url}  ·  next: `shangyun plan show demo`, "
                  "`shangyun plan show demo --wave 3`, `shangyun rooms`, `shangyun audit`, "
                  "`shangyun export estate.xlsx`")


def _dashboard_login() -> None:
    """Make a demo administrator (once, with a random password shown once) and say how to open the dashboard."""
    import secrets

    from sqlmodel import select

    from inventory.audit import Actor
    from inventory.db import session_scope
    from inventory.models import User
    from inventory.users import add_user, password_problem

    with session_scope() as session:
        exists = session.exec(select(User).where(User.username == "admin")).first() is not None
        password = None if exists else secrets.token_urlsafe(12)
        while password is not None and password_problem("admin", password):  # e.g. "admin" by chance
            password = secrets.token_urlsafe(12)
        if password is not None:
            add_user(session, "admin", password, "admin", None, Actor.cli(), "demo administrator")
    console.print("start the server:  shangyun serve        (or .venv/bin/shangyun serve)")
    console.print("then open:         http://127.0.0.1:8000/   (中文 by default; EN switch at the top right)")
    if password is not None:
        console.print(f"log in as:         admin / {password}   (shown once; add people with `shangyun user add`)",
                      highlight=False, markup=False)
    else:
        console.print("log in as:         admin, with the password shown when the demo first made it "
                      "(or `shangyun user add NAME --role admin`)")


def _collect_live(estate_dir: Path) -> None:
    """Add this machine through Ansible (ansible_connection=local), report it once with the agent, and
    mirror the OpenStack test cloud if it is running."""
    import socket

    from sqlmodel import select

    from api.cli.collect import collect_ansible_command, collect_openstack_command
    from api.cli.inventory import conflicts_command
    from collectors.agent import collect_report
    from inventory.db import session_scope
    from inventory.models import Room
    from inventory.settings import get_settings
    from inventory.writers.agent import ingest_report

    with session_scope() as session:
        room = session.exec(select(Room.code).order_by(Room.code)).first()
    hostname = socket.gethostname()
    inventory = estate_dir / "ansible-localhost.ini"
    inventory.write_text(f"[all]\nlocalhost ansible_connection=local ansible_python_interpreter=\"{{{{ "
                         f"ansible_playbook_python }}}}\" shangyun_hostname={hostname} shangyun_room={room}\n",
                         encoding="utf-8")
    console.print(f"Ansible fact run against localhost ({inventory}); a new host goes into room {room}:")
    collect_ansible_command(inventory=inventory, limit=None, forks=1, timeout=30)
    report = collect_report(hostname=hostname)
    with session_scope() as session:
        outcome = ingest_report(session, report, ZoneInfo(get_settings().timezone))
    console.print(f"agent report of {hostname}: {report.cpu_cores} cores, {report.memory_mb / 1024:.1f} GiB, "
                  f"CPU {report.cpu_util:.0%}, memory {report.memory_util:.0%}, {len(report.listening)} listening "
                  f"ports, {len(report.connections)} outbound connections → {outcome}")
    conflicts_command(host=hostname, as_json=False)
    config = _testcloud_config()
    if config is None:
        console.print("OpenStack collector: skipped, the test cloud is not running (start it with `make testcloud`)")
        return
    use_openstack_config(config)
    console.print("OpenStack collector against the running test cloud:")
    collect_openstack_command(cloud="testcloud", platform="testcloud", mlps_level=3)


def _testcloud_config() -> Path | None:
    """The test cloud's clouds.yaml when its Keystone answers, else None."""
    import urllib.request

    config = get_settings().openstack_config or TESTCLOUD_CONFIG
    if not config.exists():
        return None
    try:
        urllib.request.urlopen("http://127.0.0.1:5000/v3", timeout=3).close()
    except OSError:
        return None
    return config


def _execute_wave_one(estate_dir: Path) -> None:
    """Run wave 1 of the demo plan: local folders stand in for the source servers (real Ansible runs);
    OpenStack steps go to the test cloud when it runs and are recorded as a dry run otherwise."""
    import yaml
    from sqlmodel import col, select

    from api.cli.migrate import _work
    from inventory.audit import Actor
    from inventory.db import get_engine, session_scope
    from inventory.models import PlanItem, PlanWave, Room, RoomStatus, Server, SystemServer
    from migration_plans.execution.executor import ExecutionError, Executor, start_run
    from migration_plans.execution.site import load_site
    from migration_plans.store import resolve

    root = (estate_dir / "stand-ins").resolve()
    with session_scope() as session:
        plan = resolve(session, "demo")
        hostnames = session.exec(
            select(Server.hostname).join(SystemServer, col(SystemServer.server_id) == Server.id)
            .join(PlanItem, col(PlanItem.system_id) == SystemServer.system_id)
            .join(PlanWave, col(PlanWave.id) == PlanItem.wave_id)
            .where(PlanItem.plan_id == plan.id, PlanWave.index == 1)).all()
    for hostname in sorted(set(hostnames)):
        data = root / "sources" / hostname / "data"
        if not data.exists():
            data.mkdir(parents=True)
            (data / "business.csv").write_text(f"server,{hostname}\n" * 200, encoding="utf-8")
            (data / "uploads.bin").write_bytes(hostname.encode() * 4096)
    cloud = _testcloud_config()
    if cloud is not None:
        use_openstack_config(cloud)
    openstack = ({"default_cloud": "testcloud", "networks": "none", "volume_gb_cap": 1} if cloud
                 else {"dry_run": True})
    site_file = estate_dir / "site.yml"
    site_file.write_text(yaml.safe_dump({
        "connection": "local", "source_root": str(root / "sources"), "target_root": str(root / "cloud-side"),
        "address_root": str(root), "power_off": False, "artifacts": str(root / "runs"), "step_timeout": 300,
        "openstack": openstack}, allow_unicode=True), encoding="utf-8")
    console.print(f"site profile {site_file}; source servers stand in as folders under {root / 'sources'}")
    if cloud is None:
        console.print("[yellow]OpenStack steps: DRY RUN[/] — the test cloud is not running, so its calls are "
                      "recorded in the event log, not made (`make testcloud` makes them real)")
    site = load_site(site_file)
    try:
        with session_scope() as session:
            run_id = start_run(session, resolve(session, "demo"), 1, site, Actor.cli()).id
    except ExecutionError as exc:
        console.print(f"wave 1: {exc}")
        return
    assert run_id is not None
    _work(run_id, site, parallel=2)
    executor = Executor(get_engine(), site, Actor.cli())
    for _ in range(3):  # an item may wait at its downtime window, then at the sign-off
        waiting = [i for i in executor.items(run_id) if i.state == ItemState.WAITING]
        for item in waiting:
            if item.step == "signoff":
                console.print(f"demo: the department signs off {item.system} (`shangyun migrate approve "
                              f"{item.item_id} signoff`)")
                executor.approve(item.item_id, "signoff")
            elif "outside the downtime window" in (item.error or ""):
                console.print(f"demo: {item.system} waits for its downtime window ({item.error}); the department "
                              f"agrees to go on now (`shangyun migrate approve {item.item_id} {item.step} "
                              "--outside-window --reason …`)", markup=False, highlight=False)
                executor.approve(item.item_id, item.step, outside_window=True,
                                 reason="演示：部门同意在停机窗口外割接 / demo: the department agreed")
        if not waiting:
            break
        _work(run_id, site, parallel=2)
    items = executor.items(run_id)
    with session_scope() as session:
        closing = session.exec(select(Room.code).where(Room.status == RoomStatus.DECOMMISSIONING)).all()
    done = sum(1 for i in items if i.state == ItemState.COMPLETED)
    console.print(f"wave 1: {done} of {len(items)} item(s) completed; rooms decommissioning (关停): "
                  f"{', '.join(closing) or 'none yet'}; `shangyun migrate events ITEM` shows every step")


def _schedule(estate_dir: Path) -> None:
    """Rebalance a generated cluster, forecast the sample platforms with the plan, rank the rooms to close."""
    import json

    from api.cli.schedule import forecast_command, rebalance_command, rooms_command
    from scheduler.sample_cluster import generate_cluster

    snapshot = estate_dir / "cloud-snapshot.json"
    snapshot.write_text(json.dumps(generate_cluster(200, 2000, seed=1), ensure_ascii=False), encoding="utf-8")
    console.print(f"cluster snapshot (FORMATS.md §2, generated: 200 hosts, 3 zones, overcommit 1/2/4): {snapshot}")
    for goal in (RebalanceGoal.BALANCE, RebalanceGoal.CONSOLIDATE):
        rebalance_command(goal=goal, snapshot=snapshot, platform=None, max_moves=None, max_load=0.8, as_json=False,
                          show=5)
    forecast_command(platform=None, plan="demo", horizon=730, as_json=False)
    rooms_command(plan="demo", limit=5, lang="zh", as_json=False)
