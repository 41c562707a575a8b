"""CLI: ``shangyun capacity`` — departments' capacity requests (资源申请)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from inventory import clock

capacity_app = typer.Typer(help="Departments' capacity requests (资源申请).", no_args_is_help=True)
console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(emoji=False, stderr=True)
# Where an approval raises the quota (both commands may approve).
CloudOption = Annotated[str | None, typer.Option(help="clouds.yaml cloud: on approval, raise the OpenStack quota")]
KubeconfigOption = Annotated[str | None, typer.Option(help="for a Kubernetes platform: raise the namespace quota")]
ContextOption = Annotated[str | None, typer.Option(help="kubeconfig context")]


@capacity_app.command("request")
def request_command(
    department: Annotated[str, typer.Option(help="department code")],
    platform: Annotated[str, typer.Option(help="cloud platform name")],
    purpose: Annotated[str, typer.Option(help="what the capacity is for")],
    vcpus: Annotated[int, typer.Option(min=0)] = 0,
    memory_gb: Annotated[float, typer.Option("--memory-gb", min=0)] = 0.0,
    storage_gb: Annotated[float, typer.Option("--storage-gb", min=0)] = 0.0,
    system: Annotated[str | None, typer.Option(help="the system it is for (its MLPS level and classification "
                                               "come from the inventory)")] = None,
    mlps_level: Annotated[int | None, typer.Option("--mlps-level", min=1, max=4,
                                                   help="required without --system: the MLPS level it needs")] = None,
    classified: Annotated[bool | None, typer.Option(
        "--classified/--not-classified", help="required without --system: whether it is classified (涉密)")] = None,
    cloud: CloudOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """Ask for capacity on a platform; the answer (approved / queued / rejected) comes at once, with the reason.
    Say what it is for: --system, or both --mlps-level and --classified/--not-classified."""
    from inventory.audit import Actor
    from inventory.db import session_scope
    from scheduler.requests import ForSystem, raise_quota_with, submit

    raiser = raise_quota_with(cloud, kubeconfig, context)
    with session_scope() as session:
        request, decision = submit(session, department, platform,
                                   {"vcpus": vcpus, "memory_gb": memory_gb, "storage_gb": storage_gb}, purpose,
                                   Actor.cli(), dt.datetime.now(dt.UTC), raiser,
                                   ForSystem(system, mlps_level, classified))
        ident = request.id
    console.print(f"request #{ident}: {decision.status} — {decision.reason_zh} / {decision.reason_en}",
                  markup=False, highlight=False)


@capacity_app.command("review")
def review_command(
    cloud: CloudOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """Decide the queued requests again (after an expansion, say)."""
    from inventory.audit import Actor
    from inventory.db import session_scope
    from scheduler.requests import raise_quota_with, review_queued

    raiser = raise_quota_with(cloud, kubeconfig, context)
    with session_scope() as session:
        changed = review_queued(session, Actor.cli(), dt.datetime.now(dt.UTC), raiser)
    for ident, status in changed:
        console.print(f"request #{ident}: {status}")
    console.print(f"{len(changed)} queued request(s) reviewed")


@capacity_app.command("list")
def list_command(overdue: Annotated[bool, typer.Option("--overdue", help="only those past their due date")] = False,
                 ) -> None:
    """Requests with their status, reason and due date (5 working days); overdue ones marked."""
    from inventory.db import session_scope
    from scheduler.requests import list_requests

    with session_scope() as session:
        rows = list_requests(session, clock.today(), overdue)
    table = Table(title="capacity requests 资源申请" + (" — overdue 已超期" if overdue else ""))
    for column in ("#", "department", "platform", "for 用于", "purpose", "vCPU", "memory GB", "storage GB", "status",
                   "due", "reason"):
        table.add_column(column)
    for row in rows:
        r = row.request
        status = f"[red]{r.status} (overdue)[/]" if row.overdue else r.status
        level = f"L{r.mlps_level}" if r.mlps_level else "L?"
        purpose_of = f"{row.system or '—'} {level}{' 涉密' if r.classified else ''}"
        table.add_row(str(r.id), row.department, row.platform, purpose_of, r.purpose, str(r.vcpus), f"{r.memory_gb:g}",
                      f"{r.storage_gb:g}", status, row.due.isoformat(), r.reason or "")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(capacity_app, name="capacity")
