"""CLI: dependencies discovered from agents' connections, compared with the declared ones."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

deps_app = typer.Typer(help="Dependencies between systems: declared and observed.", no_args_is_help=True)
console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)


@deps_app.command("discover")
def discover_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show, write nothing")] = False,
) -> None:
    """Turn the agents' observed connections into observed system→system dependencies."""
    from sqlmodel import Session

    from inventory.audit import Actor
    from inventory.db import get_engine
    from inventory.dependencies import discover_links, write_observed

    with Session(get_engine()) as session:
        links = discover_links(session)
        counts = write_observed(session, links, Actor.cli())
        if dry_run:
            session.rollback()
        else:
            session.commit()
    table = Table(title="observed dependencies 观测到的依赖")
    for column in ("system", "depends on", "ports", "processes", "connections", "first seen", "last seen"):
        table.add_column(column)
    for link in links:
        table.add_row(link.system, link.depends_on, ",".join(map(str, sorted(link.ports))),
                      ",".join(sorted(link.processes)), str(link.connections),
                      link.first_seen.isoformat() if link.first_seen else "",
                      link.last_seen.isoformat() if link.last_seen else "")
    console.print(table)
    console.print(f"{counts.created} new, {counts.updated} updated, {counts.unchanged} unchanged"
                  + (" (dry run: nothing written)" if dry_run else ""))


@deps_app.command("diff")
def diff_command() -> None:
    """Declared-but-unseen and seen-but-undeclared dependencies."""
    from inventory.db import session_scope
    from inventory.dependencies import dependency_diff

    with session_scope() as session:
        diff = dependency_diff(session)
    table = Table(title="declared vs observed 申报与观测对比")
    for column in ("system", "depends on", "finding", "evidence"):
        table.add_column(column)
    for a, b, watched in diff.declared_unseen:
        table.add_row(a, b, "declared, not seen", "its servers report: no such connection" if watched
                      else "no agent on its servers yet")
    for a, b, evidence in diff.seen_undeclared:
        ports = ",".join(map(str, evidence.get("ports", [])))
        table.add_row(a, b, "seen, not declared", f"ports {ports}; {evidence.get('connections', 0)} connection(s)")
    console.print(table)
    console.print(f"{len(diff.declared_unseen)} declared but unseen, {len(diff.seen_undeclared)} seen but undeclared")


def register(app: typer.Typer) -> None:
    """Add the dependency commands to ``app``."""
    app.add_typer(deps_app, name="deps")
