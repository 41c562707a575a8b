"""``shangyun platform``: planned capacity expansions of cloud platforms (扩容计划)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)
platform_app = typer.Typer(help="Cloud platforms' planned expansions (扩容计划).", no_args_is_help=True)


@platform_app.command("expand")
def expand_command(
    platform: Annotated[str, typer.Argument(help="platform name, as in the survey's platforms sheet")],
    ready_on: Annotated[str, typer.Option("--on", help="the day the capacity is in service, YYYY-MM-DD")],
    vcpus: Annotated[int, typer.Option("--vcpus", min=0, help="physical vCPUs added")] = 0,
    memory_gb: Annotated[float, typer.Option("--memory-gb", min=0, help="memory added, GB")] = 0.0,
    storage_tb: Annotated[float, typer.Option("--storage-tb", min=0, help="storage added, TB")] = 0.0,
    note: Annotated[str | None, typer.Option(help="what it is (purchase order, budget line)")] = None,
) -> None:
    """Declare a planned expansion; plans and forecasts count it from that day (audited)."""
    from inventory.audit import Actor
    from inventory.db import session_scope
    from inventory.errors import InvalidInputError
    from inventory.expansions import ExpansionSpec, checked, declare

    try:
        day = dt.date.fromisoformat(ready_on)
    except ValueError:
        raise InvalidInputError(f"--on {ready_on!r} is not a date (YYYY-MM-DD)", field="--on") from None
    spec = checked(ExpansionSpec(platform, day, vcpus, memory_gb, storage_tb, note), "platform expand")
    with session_scope() as session:
        declare(session, spec, Actor.cli())
    console.print(f"{platform}: +{vcpus} vCPU, +{memory_gb:g} GB memory, +{storage_tb:g} TB storage in service "
                  f"from {day}")


@platform_app.command("expansions")
def expansions_command(
    platform: Annotated[str | None, typer.Argument(help="only this platform")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Expansions not yet in service, by day."""
    from inventory.db import session_scope
    from inventory.expansions import upcoming

    with session_scope() as session:
        rows = [{"platform": name, "ready_on": e.ready_on.isoformat(), "vcpus": e.vcpus, "memory_gb": e.memory_gb,
                 "storage_tb": round(e.storage_gb / 1024, 3), "note": e.note}
                for name, e in upcoming(session, platform)]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title="扩容计划 planned expansions")
    for column in ("platform", "in service", "vCPU", "memory GB", "storage TB", "note"):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r["platform"]), str(r["ready_on"]), str(r["vcpus"]), f"{r['memory_gb']:g}",
                      f"{r['storage_tb']:g}", str(r["note"] or ""))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(platform_app, name="platform")
