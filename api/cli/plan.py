"""CLI commands of the migration planner: ``zombies`` and ``plan create|list|show|export|diff|savings``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from inventory import clock
from inventory.errors import InvalidInputError
from inventory.models.enums import NetworkZone, RoomStatus

console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(emoji=False, stderr=True, width=None if sys.stderr.isatty() else 200)
plan_app = typer.Typer(help="Migration plans: strategies, waves that close rooms early, savings.",
                       no_args_is_help=True)
DEFAULT_MAX_SYSTEMS = 40


def _wan(cny: float) -> str:
    return f"{cny / 10000:,.1f}"


def zombies_command(
    apply: Annotated[bool, typer.Option("--apply/--dry-run", help="mark detected zombies in the inventory")] = True,
    limit: Annotated[int | None, typer.Option(help="show at most N systems")] = None,
) -> None:
    """Detect zombie systems (僵尸系统) from the daily rollups; mark them with their evidence."""
    from sqlmodel import Session

    from inventory.audit import Actor
    from inventory.db import get_engine
    from inventory.settings import get_cost_defaults
    from migration_plans.load import load_estate
    from migration_plans.store import mark_zombies

    with Session(get_engine()) as session:
        estate = load_estate(session, get_cost_defaults())
        found = mark_zombies(session, estate, Actor.cli())
        if apply:
            session.commit()
        else:
            session.rollback()
    table = Table(title="zombie systems 僵尸系统" + ("" if apply else " (dry run: nothing marked)"))
    for name in ("system", "zombie", "days", "CPU avg (max server)", "memory avg", "daily users", "evidence"):
        table.add_column(name)
    names = {s.code: s.name for s in estate.systems}
    for ev in sorted(found, key=lambda e: (not e.zombie, e.system))[:limit]:
        users = "" if ev.daily_users is None else str(ev.daily_users)
        table.add_row(f"{ev.system} {names[ev.system]}", "yes" if ev.zombie else "candidate", str(ev.days),
                      f"{ev.cpu_avg:.1%}", f"{ev.memory_avg:.1%}", users, ev.reason)
    console.print(table)
    zombies = sum(e.zombie for e in found)
    console.print(f"{zombies} zombie(s) {'marked' if apply else 'found'}, {len(found) - zombies} idle candidate(s) "
                  "with users recorded or unknown (not marked)")


@plan_app.command("create")
def create_command(
    name: Annotated[str, typer.Option("--name", help="plan name; an existing name makes its next version")],
    start: Annotated[str, typer.Option("--start", help="first day of wave 1, YYYY-MM-DD")],
    wave_days: Annotated[int, typer.Option("--wave-days", min=1, help="length of a wave in days")] = 14,
    max_systems: Annotated[int | None, typer.Option(
        "--max-systems-per-wave", min=1, help=f"default {DEFAULT_MAX_SYSTEMS} when no limit is given")] = None,
    max_vcpus: Annotated[int | None, typer.Option("--max-vcpus-per-wave", min=1)] = None,
    first_small: Annotated[bool, typer.Option("--first-waves-small",
                                              help="waves 1–2: ≤ 10 servers of simple systems")] = False,
    sizing_days: Annotated[int, typer.Option("--sizing-days", min=1, help="p95 window for right-sizing")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="print only the plan document (FORMATS.md §4)")] = False,
    assume_expansion: Annotated[list[str] | None, typer.Option(
        "--assume-expansion", help="what-if: PLATFORM:YYYY-MM-DD:+vcpu,+gb,+tb counted as if declared "
        "(repeatable; recorded in the plan as assumed, never stored as a platform's expansion)")] = None,
) -> None:
    """Plan every system: strategy, target, move group and wave; store it and print it."""
    from sqlmodel import Session

    from inventory.audit import Actor
    from inventory.db import get_engine
    from inventory.expansions import parse_spec
    from inventory.settings import get_cost_defaults
    from migration_plans.load import load_estate, with_assumed
    from migration_plans.planning.model import PlanParams
    from migration_plans.planning.planner import plan
    from migration_plans.store import PlanNotFoundError, diff_documents, resolve, save_plan, started_waves

    try:
        start_day = dt.date.fromisoformat(start)
    except ValueError:
        raise InvalidInputError(f"--start {start!r} is not a date (YYYY-MM-DD)") from None
    if max_systems is None and max_vcpus is None:
        max_systems = DEFAULT_MAX_SYSTEMS
    params = PlanParams(name, start_day, wave_days, max_systems, max_vcpus, first_small)
    assumed = [parse_spec(text) for text in assume_expansion or []]
    with Session(get_engine()) as session:
        estate = with_assumed(load_estate(session, get_cost_defaults(), sizing_days), assumed)
        if not estate.systems:
            raise InvalidInputError("the inventory has no business systems; `shangyun import` a survey first")
        try:
            previous = resolve(session, name)
        except PlanNotFoundError:
            previous = None
        fixed = started_waves(session, previous, clock.today()) if previous else []
        before = (previous.version, previous.document) if previous else None
        result = plan(estate, params, fixed=fixed)
        saved = save_plan(session, result, estate, Actor.cli(), fixed)
        document, version = saved.document, saved.version
        session.commit()
    if as_json:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    _print_plan(document, waves_shown=5)
    if before is not None:
        diff = diff_documents(before[1], document)
        console.print(f"re-planned {name}@{before[0]} → @{version}; kept {len(fixed)} started wave(s); "
                      f"{len(diff.moved)} system(s) moved wave, {len(diff.restrategised)} changed strategy, "
                      f"{len(diff.resized)} resized, {len(diff.added)} added, {len(diff.removed)} removed")


def _print_plan(document: dict[str, Any], waves_shown: int | None = None) -> None:
    from migration_plans.planning.savings import SavingsModel

    waves = document["waves"]
    rooms_by_wave: dict[int, list[str]] = {}
    for room in document["rooms"]:
        if room["closes_after_wave"] is not None:
            rooms_by_wave.setdefault(room["closes_after_wave"], []).append(room["room"])
    table = Table(title=f"plan {document['plan']}@{document.get('version', 1)} — waves 迁移批次")
    for column in ("wave", "dates", "systems", "strategies", "rooms closing after it"):
        table.add_column(column)
    for wave in waves[:waves_shown] if waves_shown else waves:
        strategies = Counter(item["strategy"] for item in wave["items"])
        table.add_row(str(wave["index"]), f"{wave['start']} – {wave['end']}", str(len(wave["items"])),
                      ", ".join(f"{k} {v}" for k, v in strategies.most_common()),
                      " ".join(rooms_by_wave.get(wave["index"], [])) or "—")
    console.print(table)
    if waves_shown and len(waves) > waves_shown:
        console.print(f"… {len(waves) - waves_shown} more wave(s): `shangyun plan show {document['plan']}`")
    kept = Counter(item["strategy"] for item in document["not_migrated"])
    console.print(f"not migrated: {len(document['not_migrated'])} ({', '.join(f'{k} {v}' for k, v in kept.items())})")
    closing = sum(1 for r in document["rooms"] if r["closes_after_wave"] is not None)
    blocked = [r for r in document["rooms"] if r["closes_after_wave"] is None]
    console.print(f"rooms: {closing} of {len(document['rooms'])} close; {len(blocked)} stay open (blocked by systems "
                  "retained or not placed: `shangyun plan show` lists which)")
    sizing = _sizing_totals(document)
    if sizing:
        console.print("sizing 规格 (cloud items, p95 × 1.3 demand vs allocation): " + "; ".join(
            f"{kind} {d['vcpus']:,.0f}/{a['vcpus']:,.0f} vCPU ({a['vcpus'] / d['vcpus']:.2f}×), "
            f"{d['memory_gb']:,.0f}/{a['memory_gb']:,.0f} GB ({a['memory_gb'] / d['memory_gb']:.2f}×)"
            for kind, (d, a) in sizing.items() if d["vcpus"] and d["memory_gb"]), highlight=False)
    if document.get("finance"):
        model = SavingsModel.from_json(document["finance"])
        console.print(model.headline("en"), highlight=False)
        console.print(model.headline("zh") + f"；逐年明细：shangyun plan savings {document['plan']}", highlight=False)
    savings = document["savings"]
    console.print(f"wave order: room cost avoided over {savings['horizon_waves']} waves at run rate (the order's "
                  f"objective, before cloud costs and the N+1 rule) {_wan(savings['objective_cny'])} 万元, "
                  f"proven upper bound {_wan(savings['upper_bound_cny'])} 万元, gap {savings['gap']:.1%}",
                  highlight=False)
    capacity = document.get("capacity") or {}
    for e in capacity.get("expansions", []):
        label = "expansion 扩容" + ("（假设 assumed）" if e["assumed"] else "")
        console.print(f"{label}: {e['platform']} +{e['vcpus']:g} vCPU, +{e['memory_gb']:g} GB, "
                      f"+{e['storage_gb'] / 1024:g} TB from {e['ready_on']}", highlight=False, markup=False)
    for line in (w for w in document["warnings"] if w.startswith("capacity: ")):
        console.print(line, highlight=False, markup=False)
    if document["warnings"]:
        console.print(f"{len(document['warnings'])} warning(s), e.g. {document['warnings'][0]}", highlight=False,
                      markup=False)


def _sizing_totals(document: dict[str, Any]) -> dict[str, tuple[dict[str, float], dict[str, float]]]:
    """Per strategy of cloud items: demand and allocation in all."""
    out: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
    for wave in document["waves"]:
        for item in wave["items"]:
            target = item.get("target") or {}
            if not target.get("demand"):
                continue
            demand, allocated = out.setdefault(item["strategy"], ({"vcpus": 0.0, "memory_gb": 0.0},
                                                                   {"vcpus": 0.0, "memory_gb": 0.0}))
            for key in ("vcpus", "memory_gb"):
                demand[key] += target["demand"][key]
                allocated[key] += target["allocated"][key]
    return out


def _load(ref: str) -> Any:
    from inventory.db import session_scope
    from migration_plans.store import resolve

    with session_scope() as session:
        return resolve(session, ref)


@plan_app.command("list")
def list_command() -> None:
    """List plans and their versions."""
    from inventory.db import session_scope
    from migration_plans.store import list_plans

    with session_scope() as session:
        plans = list_plans(session)
    table = Table(title="plans — net saving: over the plan's fiscal years, after cloud, hosting and lines still "
                        "under contract (万元)")
    for column in ("plan", "status", "created", "by", "start", "waves", "fiscal years", "net saving (万元)",
                   "order gap"):
        table.add_column(column)
    for p in plans:
        finance = p.document.get("finance")
        years = f"{finance['years'][0]['year']}–{finance['years'][-1]['year']}" if finance else "—"
        table.add_row(f"{p.name}@{p.version}", p.status, p.created_at.strftime("%Y-%m-%d %H:%M"), p.created_by,
                      p.start.isoformat(), str(len(p.document["waves"])), years,
                      f"{finance['total_net_wan']:,.1f}" if finance else "— (re-plan)",
                      f"{p.document['savings']['gap']:.1%}")
    console.print(table)


@plan_app.command("show")
def show_command(ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")],
                 wave: Annotated[int | None, typer.Option(help="list the items of this wave")] = None) -> None:
    """Show a plan: every wave, rooms that stay open and why, or one wave's items."""
    plan = _load(ref)
    document = plan.document
    if wave is None:
        _print_plan(document)
        blocked = [r for r in document["rooms"] if r["closes_after_wave"] is None]
        if blocked:
            table = Table(title="rooms that stay open 无法关停的机房")
            table.add_column("room")
            table.add_column("annual cost (万元)")
            table.add_column("kept open by")
            for room in blocked:
                table.add_row(room["room"], _wan(room["annual_cost_cny"]), ", ".join(room["blocked_by"]))
            console.print(table)
        _print_reusable(plan)
        return
    found = next((w for w in document["waves"] if w["index"] == wave), None)
    if found is None:
        raise InvalidInputError(f"the plan has no wave {wave}")
    table = Table(title=f"wave {wave}: {found['start']} – {found['end']}")
    for column in ("system", "name", "strategy", "zone 网络区域", "target", "demand → allocated", "group", "servers",
                   "reason 理由"):
        table.add_column(column)
    for item in found["items"]:
        target = item["target"]
        sizing = ""
        if target and target.get("demand"):
            d, a = target["demand"], target["allocated"]
            sizing = f"{d['vcpus']:g}→{a['vcpus']:g} vCPU, {d['memory_gb']:g}→{a['memory_gb']:g} GB"
        shown = " + ".join(f"{g['flavor']}×{g['count']}" for g in target.get("instances") or []) if target else ""
        destination = (item.get("destination") or {}).get("platform")
        table.add_row(item["system"], item["name"], item["strategy"], _zone(item.get("zone")),
                      shown or (f"{target['count']}× {target['flavor']}" if target else "")
                      or (f"→ {destination}" if destination else ""), sizing,
                      str(item["move_group"]), str(len(item["servers"])), item["reason_zh"])
    console.print(table)


def _zone(value: str | None) -> str:
    return f"{NetworkZone(value).zh} {value}" if value else "—"


def _print_reusable(plan: Any) -> None:
    """The servers the plan's closing rooms free for reuse (issue 16 §8), room by room."""
    from inventory import clock
    from inventory.db import session_scope
    from migration_plans.assets import reusable_servers

    moves = {s: sum(i["strategy"] == s for w in plan.document["waves"] for i in w["items"])
             for s in ("intranet", "relocate")}
    with session_scope() as session:
        freed = reusable_servers(session, plan, clock.today())
    if not freed:
        return
    table = Table(title="servers freed for reuse 可再利用的服务器 (under depreciation age, in rooms the plan closes)")
    for column in ("room", "closes after wave", "servers", "cores", "memory GB"):
        table.add_column(column)
    for room in freed:
        table.add_row(room.room, str(room.closes_after_wave), str(len(room.servers)), str(room.cores),
                      f"{room.memory_gb:g}")
    console.print(table)
    console.print(f"{sum(len(r.servers) for r in freed)} server(s), {sum(r.cores for r in freed)} cores: they can "
                  f"serve the plan's {moves['intranet']} intranet and {moves['relocate']} relocation move(s) "
                  "(`shangyun rooms assets ROOM` lists each)", markup=False, highlight=False)


@plan_app.command("export")
def export_command(ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")],
                   fmt: Annotated[str, typer.Option("--format", help="json | yaml | xlsx")] = "json",
                   out: Annotated[Path | None, typer.Option(help="file to write (stdout for json/yaml)")] = None,
                   ) -> None:
    """Export a plan as JSON (FORMATS.md §4), YAML or an xlsx workbook."""
    from migration_plans.export import plan_workbook

    document = _load(ref).document
    if fmt == "json":
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    elif fmt == "yaml":
        import yaml

        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    elif fmt == "xlsx":
        target = out or Path(f"{document['plan']}.xlsx")
        plan_workbook(document, target)
        console.print(f"wrote {target}")
        return
    else:
        raise InvalidInputError("--format must be json, yaml or xlsx")
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(text)


@plan_app.command("diff")
def diff_command(a: Annotated[str, typer.Argument(help="NAME[@VERSION]")],
                 b: Annotated[str, typer.Argument(help="NAME[@VERSION]")]) -> None:
    """What changed between two plans, system by system."""
    from migration_plans.store import diff_documents

    diff = diff_documents(_load(a).document, _load(b).document)
    if diff.empty:
        console.print("no differences")
        return
    table = Table(title=f"{a} → {b}")
    for column in ("system", "change", "before", "after"):
        table.add_column(column)
    for code in diff.added:
        table.add_row(code, "added", "", "")
    for code in diff.removed:
        table.add_row(code, "removed", "", "")
    for code, before, after in diff.moved:
        table.add_row(code, "wave", str(before or "not migrated"), str(after or "not migrated"))
    for code, before, after in diff.restrategised:
        table.add_row(code, "strategy", before, after)
    for code, before, after in diff.resized:
        table.add_row(code, "flavor", str(before), str(after))
    console.print(table)


@plan_app.command("savings")
def savings_command(ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")],
                    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="also write the workbook here")] = None,
                    ) -> None:
    """The plan's savings for finance (万元): per fiscal year, and the rooms each wave closes."""
    from api.cli.report import print_savings
    from inventory.db import session_scope
    from migration_plans.export import finance_workbook
    from migration_plans.finance import savings_report
    from migration_plans.planning.savings import wave_closures

    plan = _load(ref)
    with session_scope() as session:
        report = savings_report(session, plan)
    model = report.model
    table = Table(title=f"rooms closing per wave 各批次关停机房 — {report.plan} (万元/年; stops costing from the next "
                        "fiscal year; ✓ = emptied for real)")
    for column in ("wave", "ends", "rooms closing", "their annual cost (万元/年)", "stop costing from FY"):
        table.add_column(column, justify="left" if column == "rooms closing" else "right")
    ends = {w["index"]: w["end"] for w in plan.document["waves"]}
    by_code = {r.room: r for r in model.rooms}
    closing = (RoomStatus.DECOMMISSIONING, RoomStatus.CLOSED)
    for wave, codes in sorted(wave_closures(model).items()):
        rooms = [by_code[c] for c in sorted(codes)]
        table.add_row(str(wave), ends.get(wave, "before wave 1"),
                      " ".join(f"{r.room}✓" if report.status.get(r.room) in closing else r.room
                               for r in rooms), f"{sum(r.annual_cost_wan for r in rooms):,.1f}",
                      str(rooms[0].stops_costing_from))
    console.print(table)
    print_savings(model, f"savings by fiscal year 年度节约 — plan {report.plan}", report.status)
    if xlsx:
        finance_workbook(model, report.status, xlsx)
        console.print(f"wrote {xlsx}")


def register(app: typer.Typer) -> None:
    """Add the planner commands to ``app``."""
    app.command("zombies")(zombies_command)
    app.add_typer(plan_app, name="plan")
