"""CLI: ``shangyun collect local`` (the psutil agent) and ``shangyun serve`` (the HTTP server)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from collectors.queue import DiskQueue
from inventory.errors import InvalidInputError

collect_app = typer.Typer(help="Collect facts about machines.", no_args_is_help=True)
err_console = Console(emoji=False, stderr=True)
DEFAULT_QUEUE = Path.home() / ".local" / "state" / "shangyun" / "agent-queue"


@collect_app.command("local")
def collect_local(
    push: Annotated[str | None, typer.Option(help="server URL to POST reports to, e.g. http://cloud-ops:8000")] = None,
    token: Annotated[str | None, typer.Option(envvar="SHANGYUN_AGENT_TOKEN", show_default=False,
                                              help="ingest token (or SHANGYUN_AGENT_TOKEN)")] = None,
    interval: Annotated[float, typer.Option(min=1, help="seconds between reports")] = 60.0,
    once: Annotated[bool, typer.Option("--once", help="one report, then exit")] = False,
    queue_dir: Annotated[Path, typer.Option(help="where unsent reports wait")] = DEFAULT_QUEUE,
    queue_max: Annotated[int, typer.Option(min=1, help="reports kept while the server is unreachable")] = 10000,
    hostname: Annotated[str | None, typer.Option(help="report under this name instead of the OS hostname")] = None,
) -> None:
    """Report this machine's size and use (FORMATS.md §5): print it, or push it with an on-disk queue."""
    from collectors.agent import collect_report

    if push and not token:
        raise InvalidInputError("--push needs --token or SHANGYUN_AGENT_TOKEN")
    queue = DiskQueue(queue_dir, queue_max) if push else None
    while True:
        report = collect_report(hostname=hostname)
        if push is None or token is None or queue is None:  # no server given: print the report
            sys.stdout.write(report.to_json() + "\n")
            sys.stdout.flush()
        else:
            dropped = queue.put(report.to_json())
            if dropped:
                err_console.print(f"[yellow]warning:[/] queue full: dropped {dropped} oldest report(s) "
                                  f"({queue.dropped_total} in all)")
            sent, waiting, reason = _drain(queue, push, token)
            note = f"; {waiting} queued in {queue_dir} ({reason})" if waiting else ""
            err_console.print(f"sent {sent} report(s){note}", markup=False, highlight=False)
        if once:
            return
        time.sleep(interval)


def _drain(queue: DiskQueue, url: str, token: str) -> tuple[int, int, str]:
    """Push queued reports oldest first until one cannot be delivered; (sent, waiting, why it stopped)."""
    from collectors.push import Outcome, push_report

    reasons: list[str] = []

    def send(payload: str) -> bool:
        result = push_report(url, token, payload)
        if result.outcome is Outcome.DROP:
            err_console.print(f"dropped an invalid report: {result.detail}", markup=False)
            return True
        if result.outcome is not Outcome.STORED:
            reasons.append(result.detail)
            return False
        return True

    sent, waiting = queue.drain(send)
    return sent, waiting, reasons[0] if reasons else ""




@collect_app.command("openstack")
def collect_openstack_command(
    cloud: Annotated[str, typer.Option(help="cloud name in clouds.yaml")],
    platform: Annotated[str | None, typer.Option(help="platform name in the inventory (default: the cloud name)")]
    = None,
    mlps_level: Annotated[int | None, typer.Option(min=1, max=4, help="the platform's 等保 level (kept if known)")]
    = None,
) -> None:
    """Mirror an OpenStack cloud (hosts, flavors, servers, pools, volumes) into the inventory."""
    from inventory.audit import Actor
    from inventory.db import session_scope
    from scheduler.collection import collect_openstack_cloud

    with session_scope() as session:
        collected = collect_openstack_cloud(session, cloud, platform, mlps_level, Actor.cli())
    Console(emoji=False).print(collected.summary(), markup=False, highlight=False)


@collect_app.command("kubernetes")
def collect_kubernetes_command(
    context: Annotated[str | None, typer.Option(help="kubeconfig context (default: the current one)")] = None,
    kubeconfig: Annotated[str | None, typer.Option(help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")]
    = None,
    platform: Annotated[str | None, typer.Option(help="platform name in the inventory (default: the context)")]
    = None,
    mlps_level: Annotated[int | None, typer.Option(min=1, max=4, help="the platform's 等保 level (kept if known)")]
    = None,
) -> None:
    """Mirror a Kubernetes cluster: nodes (allocatable), and pods' requests and use by namespace."""
    from inventory.audit import Actor
    from inventory.db import session_scope
    from scheduler.collection import collect_kubernetes_cluster

    with session_scope() as session:
        collected = collect_kubernetes_cluster(session, kubeconfig, context, platform, mlps_level, Actor.cli())
    Console(emoji=False).print(collected.summary(), markup=False, highlight=False)


@collect_app.command("ansible")
def collect_ansible_command(
    inventory: Annotated[Path, typer.Option("-i", "--inventory", help="Ansible inventory (file or directory)")],
    limit: Annotated[str | None, typer.Option(help="Ansible host pattern to limit the run to")] = None,
    forks: Annotated[int, typer.Option(min=1, help="hosts gathered in parallel")] = 5,
    timeout: Annotated[int, typer.Option(min=1, help="connection timeout per host, seconds")] = 30,
) -> None:
    """Gather facts agentlessly (ansible-runner, setup module) and upsert the servers.

    A host missing from the inventory is created when its Ansible host variables name its room
    (shangyun_room=CODE). Unreachable or failing hosts are listed; they do not stop the run.
    """
    import datetime as dt

    from collectors.ansible_facts import gather
    from inventory.audit import Actor
    from inventory.db import session_scope
    from inventory.writers.host_facts import write_host_facts

    run = gather(inventory, limit=limit, forks=forks, timeout=timeout)
    with session_scope() as session:
        result = write_host_facts(session, run.facts, dt.datetime.now(dt.UTC), Actor.cli())
    console = Console(emoji=False)
    for hostname in result.created:
        console.print(f"created {hostname}", markup=False)
    for hostname, fields in result.updated.items():
        console.print(f"updated {hostname}: {', '.join(fields)}", markup=False)
    for hostname in result.unchanged:
        console.print(f"unchanged {hostname}", markup=False)
    problems = run.failures + result.not_stored
    for failure in problems:
        err_console.print(f"[yellow]not collected[/] {failure.inventory_name}: {failure.reason}", highlight=False)
    console.print(f"{len(run.facts) - len(result.not_stored)} host(s) stored, {len(problems)} not collected")


cloud_app = typer.Typer(help="The cloud side of the inventory.", no_args_is_help=True)


@cloud_app.command("snapshot")
def snapshot_command(
    platform: Annotated[str, typer.Option(help="platform name in the inventory")],
    out: Annotated[Path, typer.Option(help="file to write (FORMATS.md §2 JSON)")],
) -> None:
    """Write a platform's cluster snapshot, the rebalancer's input."""
    import json

    from inventory.db import session_scope
    from inventory.writers.cloud import cluster_snapshot

    with session_scope() as session:
        snapshot = cluster_snapshot(session, platform)
    out.write_text(json.dumps(snapshot, ensure_ascii=False, indent=2), encoding="utf-8")
    Console(emoji=False).print(f"wrote {out}: {len(snapshot['hosts'])} hosts, {len(snapshot['instances'])} instances")








def register(app: typer.Typer) -> None:
    """Add the collection commands to ``app``."""
    app.add_typer(collect_app, name="collect")
    app.add_typer(cloud_app, name="cloud")
