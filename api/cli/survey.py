"""CLI commands over the inventory: import, export, rooms, audit, sample, demo."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from inventory.errors import InvalidInputError

if TYPE_CHECKING:
    from inventory.writers.staged_samples import SheetProgress

# Wide tables stay whole when output goes to a file or pipe (rich would otherwise assume 80 columns).
console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(emoji=False, stderr=True, width=None if sys.stderr.isatty() else 200)
MAX_ERRORS_SHOWN = 50
PROGRESS_MIN_ROWS = 20000


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[SheetProgress]:
    """A rich progress bar on stderr, shown for sheets of more than ``PROGRESS_MIN_ROWS`` rows."""
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err_console, transient=True, disable=not enabled)
    tasks: dict[str, TaskID] = {}

    def update(sheet: str, done: int, total: int | None) -> None:
        if total is not None and total < PROGRESS_MIN_ROWS and sheet not in tasks:
            return
        if sheet not in tasks:
            tasks[sheet] = progress.add_task(sheet, total=total)
        progress.update(tasks[sheet], completed=done)

    with progress:
        yield update


def import_command(
    path: Annotated[Path, typer.Argument(help="an .xlsx workbook, a folder of .csv files, or one .csv")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="report what would change, write nothing")] = False,
    skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="write the good rows, report the bad")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Import a survey (机房/服务器/信息系统 调查表); all-or-nothing unless --skip-bad-rows."""
    from collectors.survey.importer import import_survey
    from inventory.audit import Actor
    from inventory.db import get_engine
    from inventory.writers.survey import rows_of

    with progress_bar(not as_json) as progress:
        outcome = import_survey(path, engine=get_engine(), actor=Actor.cli(), dry_run=dry_run,
                                skip_bad_rows=skip_bad_rows, progress=progress)
    report = outcome.report
    if as_json:
        payload = report.as_dict() | {"written": outcome.written, "dry_run": dry_run,
                                      "errors": [vars(e) for e in rows_of(report)], "warnings": report.warnings}
        console.print_json(json.dumps(payload, ensure_ascii=False))
    else:
        _print_import(report, outcome.written, dry_run, skip_bad_rows, path)
    if report.errors and not skip_bad_rows:
        raise typer.Exit(2)


def _print_import(report: object, written: bool, dry_run: bool, skip: bool, path: Path) -> None:
    from inventory.writers.survey import ImportReport, rows_of

    assert isinstance(report, ImportReport)
    for warning in report.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")
    if report.errors:
        errors = rows_of(report)
        err_console.print(f"[red]{len(errors)} error(s)[/] in {len({(e.sheet, e.row) for e in errors})} row(s):")
        for error in errors[:MAX_ERRORS_SHOWN]:
            err_console.print(f"  {error}", markup=False, highlight=False, soft_wrap=True)
        if len(errors) > MAX_ERRORS_SHOWN:
            err_console.print(f"  … and {len(errors) - MAX_ERRORS_SHOWN} more (use --json to see all)")
    table = Table(title="import" + (" (dry run)" if dry_run else ""))
    for name in ("entity", "created", "updated", "unchanged"):
        table.add_column(name, justify="left" if name == "entity" else "right")
    for entity, counts in report.counts.items():
        table.add_row(entity, str(counts.created), str(counts.updated), str(counts.unchanged))
    table.add_row("utilization samples", str(report.samples_inserted), "", str(report.samples_existing))
    console.print(table)
    if report.errors and not skip:
        console.print("[red]nothing was written[/]: fix the rows above, or re-run with --skip-bad-rows")
    elif dry_run:
        console.print("dry run: nothing was written")
    elif not report.changed:
        console.print(f"nothing changed: the inventory already matches {path}")
    elif written:
        extra = f", {report.skipped_rows} bad row(s) skipped" if report.errors else ""
        console.print(f"[green]imported[/] {path}{extra}; {report.rollup_rows} daily rollup(s) updated")



def export_command(
    path: Annotated[Path, typer.Argument(help="an .xlsx file, or a folder for one .csv per sheet; or the word "
                                              "ansible-inventory")],
    with_samples: Annotated[
        bool, typer.Option("--with-samples", help="also write the raw utilization samples")
    ] = False,
    plan: Annotated[str | None, typer.Option(help="ansible-inventory: add wave_<n> groups of this plan")] = None,
    list_: Annotated[bool, typer.Option("--list", help="ansible-inventory: Ansible's --list (the default)")] = False,
    host: Annotated[str | None, typer.Option("--host", help="ansible-inventory: one host's variables")] = None,
) -> None:
    """Write the inventory as a survey workbook in fixed units (English names).

    `shangyun export ansible-inventory [--plan P]` prints it as Ansible dynamic inventory JSON instead,
    grouped by department, room, system and wave (usable as an executable inventory script).
    """
    from inventory.db import session_scope
    from inventory.views.export import export_inventory

    if str(path) == "ansible-inventory":
        _print_ansible_inventory(plan, host)
        return

    with session_scope() as session:
        written = export_inventory(session, path, with_samples=with_samples)
    console.print(f"wrote {path}: " + ", ".join(f"{sheet} {count}" for sheet, count in written.items()))


def _print_ansible_inventory(plan_ref: str | None, host: str | None) -> None:
    import json
    import sys

    from inventory.db import session_scope
    from inventory.views.ansible_inventory import ansible_inventory
    from migration_plans.store import resolve

    with session_scope() as session:
        plan_id = resolve(session, plan_ref).id if plan_ref else None
        inventory = ansible_inventory(session, plan_id)
    document = inventory["_meta"]["hostvars"].get(host, {}) if host else inventory
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def sample_command(
    out: Annotated[Path, typer.Option("--out", help="folder to write the survey CSV files into")],
    scale: Annotated[str, typer.Option(help="tiny | city | province | stress")] = "city",
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same files")] = 1,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD: samples end the day before "
                                              "(default: the business day, SHANGYUN_TODAY or today)")] = None,
) -> None:
    """Generate a realistic sample estate (survey CSVs with samples.csv), dated relative to ``--as-of``."""
    import datetime as dt

    from collectors.sample.estate import SCALES, generate, write_estate
    from inventory import clock

    if scale not in SCALES:
        raise InvalidInputError(f"--scale must be one of {', '.join(SCALES)}")
    try:
        until = dt.date.fromisoformat(as_of) if as_of else clock.today()
    except ValueError:
        raise InvalidInputError(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    written = write_estate(generate(SCALES[scale], seed, until), out)
    console.print(f"wrote {out}: " + ", ".join(f"{sheet} {count}" for sheet, count in written.items()))












def register(app: typer.Typer) -> None:
    """Add the inventory commands to ``app``."""
    app.command("import")(import_command)
    app.command("export")(export_command)
    app.command("sample")(sample_command)

