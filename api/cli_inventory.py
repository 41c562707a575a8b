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
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from inventory.archive import SystemArchive
    from inventory.survey_writer import SheetProgress

# Wide tables stay whole when output goes to a file or pipe (rich would otherwise assume 80 columns).
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)
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
    from collectors.survey.reader import SurveyFileError
    from inventory.audit import Actor
    from inventory.db import get_engine
    from inventory.imports import import_survey
    from inventory.survey_writer import rows_of

    try:
        with progress_bar(not as_json) as progress:
            outcome = import_survey(path, engine=get_engine(), actor=Actor.cli(), dry_run=dry_run,
                                    skip_bad_rows=skip_bad_rows, progress=progress)
    except SurveyFileError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
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
    from inventory.survey_writer import ImportReport, rows_of

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
    from inventory.export import ExportError, export_inventory

    if str(path) == "ansible-inventory":
        _print_ansible_inventory(plan, host)
        return

    try:
        with session_scope() as session:
            written = export_inventory(session, path, with_samples=with_samples)
    except ExportError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(f"wrote {path}: " + ", ".join(f"{sheet} {count}" for sheet, count in written.items()))


def _print_ansible_inventory(plan_ref: str | None, host: str | None) -> None:
    import json
    import sys

    from inventory.ansible_inventory import ansible_inventory
    from inventory.db import session_scope
    from migration_plans.store import resolve

    with session_scope() as session:
        try:
            plan_id = resolve(session, plan_ref).id if plan_ref else None
        except LookupError as exc:
            err_console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from None
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
        err_console.print(f"[red]error:[/] --scale must be one of {', '.join(SCALES)}")
        raise typer.Exit(2)
    try:
        until = dt.date.fromisoformat(as_of) if as_of else clock.today()
    except ValueError:
        err_console.print(f"[red]error:[/] --as-of {as_of!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None
    written = write_estate(generate(SCALES[scale], seed, until), out)
    console.print(f"wrote {out}: " + ", ".join(f"{sheet} {count}" for sheet, count in written.items()))


def _cny(value: float) -> str:
    return f"{value / 10000:,.1f}"


def rooms_command(
    sort: Annotated[str, typer.Option(help="order by: code | cost")] = "code",
    limit: Annotated[int | None, typer.Option(help="show only the first N rooms")] = None,
) -> None:
    """List machine rooms with annual cost parts (万元), servers, systems and status."""
    from inventory.costs import Basis
    from inventory.db import session_scope
    from inventory.queries import room_rows
    from inventory.settings import get_cost_defaults

    with session_scope() as session:
        rows = room_rows(session, get_cost_defaults())
    if sort not in ("code", "cost"):
        err_console.print("[red]error:[/] --sort must be code or cost")
        raise typer.Exit(2)
    shown = sorted(rows, key=lambda r: -r.cost.total) if sort == "cost" else rows
    shown = shown[:limit] if limit else shown
    table = Table(title="machine rooms 机房 — annual cost in 万元 (10k CNY); * = placeholder default")
    for name in ("room", "name", "department", "status", "racks", "servers", "systems", "energy", "rent",
                 "maintenance", "staff", "lines", "total"):
        table.add_column(name, justify="right" if name not in ("room", "name", "department", "status") else "left")
    for row in shown:
        parts = [_cny(p.cny) + ("*" if p.basis is Basis.DEFAULT else "") for p in row.cost.parts.values()]
        table.add_row(row.code, row.name, row.department, row.status, str(row.racks or ""), str(row.servers),
                      str(row.systems), *parts, _cny(row.cost.total))
    console.print(table)
    total = sum(r.cost.total for r in rows)
    defaulted = sum(p.cny for r in rows for p in r.cost.parts.values() if p.basis is Basis.DEFAULT)
    console.print(f"{len(rows)} rooms, {_cny(total)} 万元 a year; {_cny(defaulted)} 万元 of it from placeholders")


def audit_command(
    entity: Annotated[str | None, typer.Option(help="entity type, e.g. server, room, system, import")] = None,
    ident: Annotated[str | None, typer.Option("--id", help="the entity's key (code, hostname …)")] = None,
    limit: Annotated[int, typer.Option(help="rows to show, newest first")] = 50,
) -> None:
    """Show the audit log (档案库): who changed what, when, before and after."""
    from inventory.audit import list_audit
    from inventory.db import session_scope

    with session_scope() as session:
        rows = list_audit(session, entity=entity, entity_id=ident, limit=limit)
    table = Table(title="audit log 档案库")
    for name in ("when (UTC)", "actor", "entity", "id", "action", "change"):
        table.add_column(name)
    for row in rows:
        if row.action == "update" and row.before and row.after:
            change = "; ".join(f"{k}: {row.before.get(k)!r} → {row.after.get(k)!r}" for k in row.after)
        else:
            change = json.dumps(row.after or row.before, ensure_ascii=False)[:160]
        table.add_row(row.at.strftime("%Y-%m-%d %H:%M:%S"), row.actor, row.entity, row.entity_id, row.action, change)
    console.print(table)


def archive_command(
    system: Annotated[str, typer.Argument(help="system code, e.g. S00212")],
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="also write the dossier as a workbook")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the dossier as JSON")] = False,
    lang: Annotated[str, typer.Option(help="zh | en: language of reasons")] = "zh",
) -> None:
    """The archive of one system (档案库): survey facts and sources, strategy and reasons, every plan version,
    run events with verification evidence, sign-off and decommissioning."""
    import json

    from inventory.archive import SystemNotFoundError, archive_workbook, system_archive
    from inventory.db import session_scope

    with session_scope() as session:
        try:
            archive = system_archive(session, code=system)
        except SystemNotFoundError as exc:
            err_console.print(f"[red]error:[/] {escape(str(exc))}")
            raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps(archive.as_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_archive(archive, lang)
    if xlsx is not None:
        archive_workbook(archive, xlsx)
        console.print(f"wrote {xlsx}")


def _print_archive(archive: SystemArchive, lang: str) -> None:
    facts = archive.system
    console.rule(f"档案 archive — {facts['code']} {facts['name']} ({archive.department})")
    console.print(", ".join(f"{k}: {v}" for k, v in facts.items() if k not in ("code", "name", "zombie_evidence")
                            and v is not None), highlight=False, markup=False)
    history = Table(title="history 变更记录 (who, when, what)")
    for column in ("at", "by", "action", "changed"):
        history.add_column(column)
    for row in archive.history:
        changed = ", ".join(sorted((row["after"] or {}).keys()))[:120]
        history.add_row(str(row["at"])[:19], row["actor"], row["action"], changed)
    console.print(history)
    servers = Table(title="servers 服务器 and the sources of their facts")
    for column in ("hostname", "room", "status", "facts from"):
        servers.add_column(column)
    for s in archive.servers:
        sources = sorted({o["source"] for obs in s["sources"].values() for o in obs})
        servers.add_row(s["hostname"], s["room"], s["status"], ", ".join(sources) or "survey")
    console.print(servers)
    plans = Table(title="plans 迁移计划 (every version that planned it)")
    for column in ("plan", "wave", "strategy", "target", "status", "reason"):
        plans.add_column(column)
    for p in archive.plans:
        target = p["target"] or {}
        summary = " + ".join(f"{g['flavor']}×{g['count']}" for g in target.get("instances") or []) or target.get(
            "flavor") or ""
        plans.add_row(p["plan"], str(p["wave"] or "—"), p["strategy"], summary, p["status"],
                      p["reason_zh"] if lang == "zh" else p["reason_en"])
    console.print(plans)
    for run in archive.runs:
        console.print(f"run {run['run']} item {run['item']} (wave {run['wave']}, {run['strategy']}): {run['state']}"
                      f"{' — ' + run['error'] if run['error'] else ''}; {len(run['events'])} event(s): "
                      f"`shangyun migrate events {run['item']}`", highlight=False, markup=False)
    for check in archive.verifications:
        console.print(f"功能验证 verification {str(check['at'])[:19]}: {'passed' if check.get('passed') else 'FAILED'} "
                      f"({len(check.get('checks') or [])} check(s))", highlight=False)
        for result in check.get("checks") or []:
            console.print(f"  {'✓' if result['ok'] else '✗'} {result['kind']} {result['target']}: expected "
                          f"{result['expected']}, observed {result['observed']}", highlight=False, markup=False)
    for signoff in archive.signoffs:
        console.print(f"签字确认 sign-off: {signoff['by']} at {str(signoff['at'])[:19]} (run {signoff['run']})",
                      highlight=False)
    for row in archive.decommission:
        what = row.get("server") or row.get("step")
        console.print(f"下线 decommission: {what} at {str(row['at'])[:19]}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the inventory commands to ``app``."""
    app.command("import")(import_command)
    app.command("export")(export_command)
    app.command("sample")(sample_command)
    app.command("archive")(archive_command)
    app.command("rooms")(rooms_command)
    app.command("audit")(audit_command)
