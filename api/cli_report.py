"""CLI: ``shangyun report`` — reports for finance."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

report_app = typer.Typer(help="Reports for finance (财务报表).", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True)


@report_app.command("savings")
def savings_command(
    plan: Annotated[str | None, typer.Option(help="NAME or NAME@VERSION (default: the newest current plan)")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="write the workbook here")] = None,
    years: Annotated[int | None, typer.Option(min=1, max=30, help="fiscal years shown (default: until all "
                                              "planned closures have stopped costing)")] = None,
) -> None:
    """Per room: annual cost parts (data or default), closing wave and date, cloud cost added, net saving;
    per fiscal year: baseline, room cost still paid (a room closed in year N is paid through N), cloud
    cost and the saving."""
    from inventory.db import session_scope
    from inventory.settings import get_cost_defaults
    from migration_plans.export import finance_workbook
    from migration_plans.finance import savings_report
    from migration_plans.store import PlanNotFoundError, named_or_current

    with session_scope() as session:
        try:
            document = named_or_current(session, plan).document
        except PlanNotFoundError as exc:
            err_console.print(f"[red]error:[/] {exc}", markup=False)
            raise typer.Exit(2) from None
        report = savings_report(session, document, get_cost_defaults(), years)
    table = Table(title=f"savings by fiscal year 年度节约 — plan {report.plan} (万元)")
    for column in ("year", "baseline", "room cost paid", "cloud cost", "saving", "rooms closed"):
        table.add_column(column, justify="left" if column == "rooms closed" else "right")
    for y in report.years:
        table.add_row(str(y.year), f"{y.baseline_cny / 1e4:,.1f}", f"{y.room_cost_paid_cny / 1e4:,.1f}",
                      f"{y.cloud_cost_cny / 1e4:,.1f}", f"{y.saving_cny / 1e4:,.1f}", f"{len(y.rooms_closed)}")
    console.print(table)
    closing = [r for r in report.rooms if r.closes_on is not None]
    console.print(f"{len(closing)} of {len(report.rooms)} room(s) close under the plan; net annual saving once "
                  f"closed: {sum(r.net_saving_cny for r in closing) / 1e4:,.1f} 万元")
    if xlsx is not None:
        finance_workbook(report, xlsx)
        console.print(f"wrote {xlsx}")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
