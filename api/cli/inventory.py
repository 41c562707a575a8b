"""CLI: the inventory as people read it — ``rooms``, ``audit``, ``archive``, ``conflicts``, ``samples prune``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from inventory.errors import InvalidInputError
from inventory.models.enums import AuditAction

if TYPE_CHECKING:
    from inventory.views.archive import SystemArchive

console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(emoji=False, stderr=True)


samples_app = typer.Typer(help="Raw utilization samples.", no_args_is_help=True)


@samples_app.command("prune")
def prune_command(
    days: Annotated[int | None, typer.Option(
        min=1, help="keep this many days (default SHANGYUN_SAMPLE_RETENTION_DAYS)")] = None,
) -> None:
    """Delete raw samples past the retention window; the daily rollups stay."""
    from inventory.audit import Actor
    from inventory.db import session_scope
    from inventory.retention import prune_samples
    from inventory.settings import get_settings

    keep = days or get_settings().sample_retention_days
    with session_scope() as session:
        deleted = prune_samples(session, keep, Actor.cli())
    Console(emoji=False).print(f"deleted {deleted} raw sample(s) older than {keep} days; daily rollups kept")


def conflicts_command(
    host: Annotated[str | None, typer.Option(help="only this hostname")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Server facts on which sources disagree: the value kept (measured beats declared, newer beats older)
    and what the other sources said."""
    import json

    from rich.table import Table

    from inventory.db import session_scope
    from inventory.reconcile import conflicts

    with session_scope() as session:
        found = conflicts(session, host)

    def described(o: Any) -> dict[str, Any]:
        return {"source": o.source, "value": o.value, "at": o.at.isoformat()}

    if as_json:
        sys.stdout.write(json.dumps([{"hostname": c.hostname, "field": c.field, "chosen": described(c.chosen),
                                      "others": [described(o) for o in c.others]} for c in found],
                                    ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title="conflicts 数据冲突 (kept value: measured beats declared, newer beats older)")
    for column in ("hostname", "field", "kept", "from", "others"):
        table.add_column(column)
    for c in found:
        others = "; ".join(f"{o.value!r} ({o.source}, {o.at:%Y-%m-%d %H:%M})" for o in c.others)
        table.add_row(c.hostname, c.field, repr(c.chosen.value), f"{c.chosen.source}, {c.chosen.at:%Y-%m-%d %H:%M}",
                      others)
    Console(emoji=False).print(table)
    Console(emoji=False).print(f"{len(found)} conflict(s)")


def _cny(value: float) -> str:
    return f"{value / 10000:,.1f}"


rooms_app = typer.Typer(help="Machine rooms (机房): costs, and the disposal of a closing room's servers.")


@rooms_app.callback(invoke_without_command=True)
def rooms_main(
    ctx: typer.Context,
    sort: Annotated[str, typer.Option(help="order by: code | cost")] = "code",
    limit: Annotated[int | None, typer.Option(help="show only the first N rooms")] = None,
) -> None:
    """List machine rooms with annual cost parts (万元), servers, systems and status."""
    if ctx.invoked_subcommand is None:
        rooms_command(sort, limit)


@rooms_app.command("assets")
def assets_command(
    room: Annotated[str, typer.Argument(help="the room's code")],
    plan: Annotated[str | None, typer.Option(help="the plan (default: the current one)")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="also write the list as a workbook for finance")] = None,
) -> None:
    """The servers of a room and what becomes of each when it closes (资产处置): moves with its system,
    stays in use, secrecy office, reuse, transfer or scrap."""
    from inventory import clock
    from inventory.db import session_scope
    from migration_plans.assets import LABELS, counts, disposals_as_configured, room_assets
    from migration_plans.store import PlanNotFoundError, named_or_current

    with session_scope() as session:
        try:
            chosen = named_or_current(session, plan)
        except PlanNotFoundError:
            if plan is not None:
                raise
            chosen = None
        assets = room_assets(session, room, chosen)
        label = f"{chosen.name}@{chosen.version}" if chosen else "no plan"
    today = clock.today()
    rows = disposals_as_configured(assets, today)
    table = Table(title=f"{room}: servers and their disposal 资产处置 ({label}, as of {today})")
    for name in ("hostname", "model", "cores", "memory GB", "purchased", "age", "systems", "disposal", "why"):
        table.add_column(name)
    for row in rows:
        a = row.asset
        table.add_row(a.hostname, a.model or "", str(a.cpu_cores), f"{a.memory_gb:g}", str(a.purchase_date or "—"),
                      f"{row.age_years:.1f}" if row.age_years is not None else "—",
                      ", ".join(f"{s.code}:{s.strategy or 'stays'}" for s in a.systems),
                      f"{LABELS[row.disposal]} {row.disposal}", row.reason)
    console.print(table)
    console.print(", ".join(f"{LABELS[k]} {k} {v}" for k, v in sorted(counts(rows).items())) or "no servers")
    if xlsx is not None:
        from inventory.views.cells import write_rows_workbook

        write_rows_workbook(xlsx, "资产处置 disposal", ["hostname", "model", "cores", "memory_gb", "purchased",
                                                      "age_years", "systems", "disposal", "处置", "why"],
                            [[r.asset.hostname, r.asset.model, r.asset.cpu_cores, r.asset.memory_gb,
                              r.asset.purchase_date, round(r.age_years, 1) if r.age_years is not None else None,
                              ", ".join(s.code for s in r.asset.systems), r.disposal, LABELS[r.disposal], r.reason]
                             for r in rows])
        console.print(f"wrote {xlsx}")


def rooms_command(
    sort: str = "code",
    limit: int | None = None,
) -> None:
    """List machine rooms with annual cost parts (万元), servers, systems and status."""
    from inventory.costs import Basis
    from inventory.db import session_scope
    from inventory.settings import get_cost_defaults
    from inventory.views.queries import room_rows

    with session_scope() as session:
        rows = room_rows(session, get_cost_defaults())
    if sort not in ("code", "cost"):
        raise InvalidInputError("--sort must be code or cost")
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
        if row.action == AuditAction.UPDATE and row.before and row.after:
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

    from inventory.db import session_scope
    from inventory.views.archive import archive_workbook, system_archive

    with session_scope() as session:
        archive = system_archive(session, code=system)
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
    app.add_typer(rooms_app, name="rooms")
    app.command("audit")(audit_command)
    app.command("archive")(archive_command)
    app.command("conflicts")(conflicts_command)
    app.add_typer(samples_app, name="samples")
