"""CLI: ``shangyun report`` — reports for finance; and the savings tables other commands print."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from migration_plans.planning.savings import SavingsModel

report_app = typer.Typer(help="Reports for finance (财务报表).", no_args_is_help=True)
console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(emoji=False, stderr=True)
EMPTIED = ("decommissioning", "closed")


def print_savings(model: SavingsModel, title: str, status: dict[str, str] | None = None) -> None:
    """The fiscal-year table in 万元 with its headline and assumptions (the same figures on every surface)."""
    table = Table(title=f"{title} — 万元 (10,000 CNY); a room closed in year N is paid through N")
    for column in ("FY 年度", "baseline 基线", "room cost paid 机房支出", "of which lines 线路合同",
                   "refresh due 设备更新", "cloud 云服务费", "hosting 托管费", "net saving 净节约",
                   "rooms closing 本年关停"):
        table.add_column(column, justify="left" if column.startswith("rooms") else "right")
    emptied = {code for code, state in (status or {}).items() if state in EMPTIED}
    for y in model.years:
        rooms = " ".join(f"{r}✓" if r in emptied else r for r in y.rooms_closed)
        table.add_row(str(y.year), f"{y.baseline_wan:,.1f}", f"{y.room_cost_paid_wan:,.1f}",
                      f"{y.lines_carried_wan:,.1f}", f"{y.refresh_due_wan:,.1f}", f"{y.cloud_cost_wan:,.1f}",
                      f"{y.hosting_cost_wan:,.1f}", f"{y.net_saving_wan:,.1f}", rooms or "—")
    console.print(table)
    console.print(model.headline("en"), highlight=False)
    console.print(model.headline("zh"), highlight=False)
    if emptied:
        console.print("✓ emptied by migration for real 已腾空 (finance stops paying them from the next year): "
                      + ", ".join(f"{code} ({(status or {})[code]})" for code in sorted(emptied)), highlight=False)
    for en, zh in zip(model.notes("en"), model.notes("zh"), strict=False):
        console.print(f"· {en} / {zh}", highlight=False, markup=False)


@report_app.command("savings")
def savings_command(
    plan: Annotated[str | None, typer.Option(help="NAME or NAME@VERSION (default: the newest current plan)")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="write the workbook here")] = None,
) -> None:
    """Savings per fiscal year (baseline, room cost still paid, refresh, cloud, hosting, net) and per room,
    in 万元, as the plan computed them; rooms emptied for real are marked."""
    from inventory.db import session_scope
    from migration_plans.export import finance_workbook
    from migration_plans.finance import savings_report
    from migration_plans.store import named_or_current

    with session_scope() as session:
        report = savings_report(session, named_or_current(session, plan))
    print_savings(report.model, f"savings by fiscal year 年度节约 — plan {report.plan}", report.status)
    if xlsx is not None:
        finance_workbook(report.model, report.status, xlsx)
        console.print(f"wrote {xlsx}")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
