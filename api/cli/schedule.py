"""CLI: ``shangyun schedule`` — rebalance a cloud platform, rank rooms to close."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from inventory import clock
from inventory.errors import InvalidInputError
from inventory.settings import get_room_weights

if TYPE_CHECKING:
    from scheduler.rebalance import Result
    from scheduler.room_flags import RoomFlag

schedule_app = typer.Typer(help="Keep the cloud balanced (调度).", no_args_is_help=True)
console = Console(emoji=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(emoji=False, stderr=True)


@schedule_app.command("rebalance")
def rebalance_command(
    goal: Annotated[str, typer.Option(help="balance | consolidate | storage")],
    snapshot: Annotated[Path | None, typer.Option(help="cluster snapshot JSON (FORMATS.md §2)")] = None,
    platform: Annotated[str | None, typer.Option(help="or: a platform of the inventory")] = None,
    max_moves: Annotated[int | None, typer.Option(min=0, help="at most this many migrations")] = None,
    max_load: Annotated[float, typer.Option(min=0.05, max=1.0, help="no host's CPU load above this")] = 0.8,
    as_json: Annotated[bool, typer.Option("--json", help="print only the result (FORMATS.md §3)")] = False,
    show: Annotated[int, typer.Option(min=0, help="moves listed in the table view")] = 50,
    propose: Annotated[bool, typer.Option("--apply", help="with --platform: store the moves as a proposal for "
                                          "an operator to approve (shangyun schedule approve)")] = False,
    auto: Annotated[bool, typer.Option("--auto", help="with --platform: apply the moves now, without approval")]
    = False,
    cloud: Annotated[str | None, typer.Option(help="clouds.yaml cloud that --auto applies the moves on")] = None,
) -> None:
    """Plan live and volume migrations for a goal; print the moves with before/after figures.

    With ``--apply`` the moves are stored as a proposal (approval mode); ``--auto --cloud C`` applies them
    at once."""
    from scheduler.rebalance import parse_goal, rebalance
    from scheduler.snapshot import SnapshotError, parse_snapshot

    parse_goal(goal)
    if (snapshot is None) == (platform is None):
        raise InvalidInputError("give --snapshot FILE or --platform NAME")
    if (propose or auto) and platform is None:
        raise InvalidInputError("--apply and --auto need --platform: a snapshot file names no cloud")
    if auto and cloud is None:
        raise InvalidInputError("--auto needs --cloud NAME (clouds.yaml) to apply the moves on")
    try:
        if snapshot is not None:
            document = json.loads(snapshot.read_text(encoding="utf-8"))
        else:
            from inventory.db import session_scope
            from inventory.writers.cloud import cluster_snapshot

            with session_scope() as session:
                document = cluster_snapshot(session, platform or "")
        cluster = parse_snapshot(document)
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"{snapshot}: {exc}", field="snapshot") from None
    except SnapshotError as exc:
        raise InvalidInputError(f"{snapshot or platform}: " + "\n  ".join(exc.problems)) from None
    result = rebalance(cluster, goal, max_moves=max_moves, max_load=max_load)
    if (propose or auto) and result.moves:
        proposal_id = _store(platform or "", result, max_load, max_moves)
        if auto:
            _approve_and_apply(proposal_id, cloud or "", quiet=as_json)
        elif not as_json:
            console.print(f"proposal 调整方案 #{proposal_id} stored: approve with `shangyun schedule approve "
                          f"{proposal_id} --cloud NAME` or reject it", highlight=False)
    if as_json:
        sys.stdout.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
        return
    table = Table(title=f"rebalance 再平衡 — goal {goal}, {len(result.moves)} move(s), {result.solve_seconds:.2f} s")
    for column in ("figure", "before", "after"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for key, before in result.before.items():
        table.add_row(key, f"{before:g}", f"{result.after[key]:g}")
    console.print(table)
    for move in result.moves[:show]:
        console.print(f"{move.kind} {move.item}: {move.source} → {move.target}", markup=False, highlight=False)
    if len(result.moves) > show:
        console.print(f"… and {len(result.moves) - show} more (use --json for all)")
    for reason in result.reasons:
        console.print(f"[yellow]note:[/] {reason}", highlight=False)


def _store(platform: str, result: Result, max_load: float, max_moves: int | None) -> int:
    from inventory.audit import Actor
    from inventory.db import session_scope
    from scheduler.proposals import store_proposal

    with session_scope() as session:
        proposal = store_proposal(session, platform, result, max_load, max_moves, Actor.cli())
        assert proposal.id is not None
        return proposal.id


def _approve_and_apply(proposal_id: int, cloud: str, quiet: bool = False) -> None:
    from drivers.openstack import OpenStackDriver
    from inventory.audit import Actor
    from inventory.db import session_scope
    from scheduler.proposals import apply, approve

    def progress(index: int, move: dict[str, str], status: str) -> None:
        if not quiet:
            item = move.get("instance") or move.get("volume")
            console.print(f"  {index + 1}. {move['kind']} {item} → {move['to']}: {status}", highlight=False,
                          markup=False)

    driver = OpenStackDriver.connect(cloud)
    with session_scope() as session:
        approve(session, proposal_id, Actor.cli())
        proposal = apply(session, proposal_id, driver, progress)
        status, done, error = proposal.status, proposal.moves_done, proposal.error
    total = len(proposal.result.get("moves", []))
    (err_console if quiet else console).print(f"proposal #{proposal_id}: {status}, {done} of {total} move(s) done"
                                              + (f" — {error}" if error else ""), markup=False, highlight=False)
    if status != "completed":
        raise typer.Exit(1)


@schedule_app.command("proposals")
def proposals_command(
    status: Annotated[str | None, typer.Option(help="proposed | running | completed | failed | stale | rejected")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List rebalance proposals, newest first."""
    from sqlmodel import select

    from inventory.db import session_scope
    from inventory.models import CloudPlatform
    from scheduler.proposals import list_proposals

    with session_scope() as session:
        names = {p.id: p.name for p in session.exec(select(CloudPlatform))}
        rows = [{"id": p.id, "platform": names.get(p.platform_id), "goal": p.goal, "status": p.status,
                 "moves": len(p.result.get("moves", [])), "moves_done": p.moves_done,
                 "created_at": p.created_at.isoformat(), "created_by": p.created_by, "decided_by": p.decided_by,
                 "before": p.result.get("before"), "after": p.result.get("after"), "error": p.error}
                for p in list_proposals(session, status)]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title="rebalance proposals 调整方案")
    for column in ("id", "platform", "goal", "status", "moves", "created", "by", "note"):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r["id"]), str(r["platform"]), str(r["goal"]), str(r["status"]),
                      f"{r['moves_done']}/{r['moves']}", str(r["created_at"])[:16], str(r["created_by"]),
                      str(r["error"] or ""))
    console.print(table)


@schedule_app.command("approve")
def approve_command(
    proposal: Annotated[int, typer.Argument(help="proposal id")],
    cloud: Annotated[str, typer.Option(help="clouds.yaml cloud to apply the moves on")],
) -> None:
    """Approve a proposal and apply it now, move by move; stops at the first failure (re-run resumes)."""
    _approve_and_apply(proposal, cloud)


@schedule_app.command("reject")
def reject_command(
    proposal: Annotated[int, typer.Argument(help="proposal id")],
    reason: Annotated[str, typer.Option(help="why it is declined")],
) -> None:
    """Decline a proposal; nothing is moved."""
    from inventory.audit import Actor
    from inventory.db import session_scope
    from scheduler.proposals import reject

    with session_scope() as session:
        reject(session, proposal, Actor.cli(), reason)
    console.print(f"proposal #{proposal} rejected")


@schedule_app.command("events")
def events_command(proposal: Annotated[int, typer.Argument(help="proposal id")],
                   as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """The event log of one proposal: decisions and each move's start and end."""
    from inventory.db import session_scope
    from scheduler.proposals import events, get_proposal

    with session_scope() as session:
        get_proposal(session, proposal)
        rows = [{"at": e.at.isoformat(), "move": e.move_index, "kind": e.kind, "status": e.status,
                 "message": e.message} for e in events(session, proposal)]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    for e in rows:
        index = e["move"]
        move = f"#{index + 1} " if isinstance(index, int) else ""
        console.print(f"{str(e['at'])[:19]} {e['kind']} {move}{e['status']}: {e['message']}", markup=False,
                      highlight=False)


@schedule_app.command("rooms")
def rooms_command(
    plan: Annotated[str | None, typer.Option(help="plan whose retain items keep rooms open (default: newest)")]
    = None,
    limit: Annotated[int | None, typer.Option(min=1, help="show the top N")] = None,
    lang: Annotated[str, typer.Option(help="zh | en: language of the reasons")] = "zh",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Rank the active machine rooms by how much closing them next is worth, with the reasons."""

    from inventory.db import session_scope
    from inventory.settings import get_cost_defaults
    from migration_plans.store import resolve
    from scheduler.room_data import load_room_inputs, newest_current_plan
    from scheduler.room_flags import score_rooms

    with session_scope() as session:
        plan_id = resolve(session, plan).id if plan else newest_current_plan(session)
        inputs = load_room_inputs(session, get_cost_defaults(), plan_id, clock.today())
    flags = score_rooms(inputs, get_room_weights())
    closable = [f for f in flags if f.closable][:limit]
    blocked = [f for f in flags if not f.closable][:limit]
    if as_json:
        sys.stdout.write(json.dumps({"closable": [_flag_json(f) for f in closable],
                                     "blocked": [_flag_json(f) for f in blocked]}, ensure_ascii=False, indent=2)
                         + "\n")
        return
    zh = lang == "zh"
    table = Table(title="rooms to close next 建议关停机房 — can close under the plan (score 0–1, higher = sooner)")
    for column in ("rank", "room", "name", "score", "万元/year", "reasons"):
        table.add_column(column, justify="right" if column in ("rank", "score", "万元/year") else "left")
    for rank, f in enumerate(closable, 1):
        table.add_row(str(rank), f.code, f.name, f"{f.score:.2f}", f"{f.annual_cost_cny / 10000:,.1f}",
                      ("；" if zh else "; ").join(f.reasons_zh if zh else f.reasons_en))
    console.print(table)
    if not blocked:
        return
    held = Table(title="rooms that cannot close yet 暂不能关停的机房 — what keeps each open, what would let it close")
    for column in ("room", "name", "score", "万元/year", "kept open by", "would close if"):
        held.add_column(column, justify="right" if column in ("score", "万元/year") else "left")
    for f in blocked:
        held.add_row(f.code, f.name, f"{f.score:.2f}", f"{f.annual_cost_cny / 10000:,.1f}",
                     "\n".join(f"{b.system}: {b.reason_zh if zh else b.reason_en}" for b in f.blockers),
                     "\n".join(f"{b.system}: {b.unblock_zh if zh else b.unblock_en}" for b in f.blockers))
    console.print(held)


def _flag_json(flag: RoomFlag) -> dict[str, object]:
    return {"room": flag.code, "name": flag.name, "score": flag.score, "factors": flag.factors,
            "annual_cost_cny": round(flag.annual_cost_cny), "reasons_zh": flag.reasons_zh,
            "reasons_en": flag.reasons_en, "blocked_by": [vars(b) for b in flag.blockers]}


@schedule_app.command("forecast")
def forecast_command(
    platform: Annotated[str | None, typer.Option(help="one platform (default: all)")] = None,
    plan: Annotated[str | None, typer.Option(help="plan whose waves add load (default: newest current)")] = None,
    horizon: Annotated[int, typer.Option(min=7, max=3650, help="days ahead")] = 730,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """When each platform's CPU, memory and storage allocation (and measured use) cross 75% and 90%,
    and how many hosts to add."""

    from inventory.db import session_scope
    from migration_plans.store import resolve
    from scheduler.forecast_data import platform_forecasts
    from scheduler.room_data import newest_current_plan

    with session_scope() as session:
        plan_id = resolve(session, plan).id if plan else newest_current_plan(session)
        forecasts = platform_forecasts(session, plan_id, clock.today(), horizon, platform)
    if as_json:
        sys.stdout.write(json.dumps([{
            "platform": f.platform, "model": f.model, "horizon_days": f.horizon_days,
            "expansion_hosts": f.expansion_hosts, "host_size": f.host_size,
            "expansions": [{"day": e.day.isoformat(), "amount": e.amount} for e in f.expansions],
            "resources": [{"resource": r.resource, "measure": r.measure, "capacity": r.capacity,
                           "capacity_at_horizon": r.capacity_at_horizon, "now": r.allocated_now,
                           "share_now": r.share_now, "share_at_horizon": r.share_at_horizon,
                           "trend_per_day": r.trend_per_day, "days_until": r.days_until,
                           "crossing": {k: v.isoformat() if v else None for k, v in r.crossing.items()}}
                          for r in f.resources]} for f in forecasts], ensure_ascii=False, indent=2) + "\n")
        return
    for f in forecasts:
        table = Table(title=f"capacity forecast 容量预测 — {f.platform} (model: {f.model})")
        for column in ("resource", "measure", "capacity", "now", "trend/day", f"at +{f.horizon_days} d",
                       "reaches 75%", "reaches 90%"):
            table.add_column(column, justify="left" if column == "resource" else "right")
        for r in f.resources:
            def when(label: str, r: object = r) -> str:
                day = r.crossing[label]  # type: ignore[attr-defined]
                return f"{day} ({r.days_until[label]} d)" if day else "not within horizon"  # type: ignore[attr-defined]
            table.add_row(r.resource, "allocated 已分配" if r.measure == "allocation" else "in use 已使用",
                          f"{r.capacity:,.0f}", f"{r.allocated_now:,.0f} ({r.share_now:.0%})",
                          f"{r.trend_per_day:g}", f"{r.share_at_horizon:.0%}", when("75%"), when("90%"))
        console.print(table)
        for e in f.expansions:
            console.print(f"planned expansion 扩容计划 {e.day}: +{e.amount['vcpus_used']:g} vCPU "
                          f"(+{e.amount['vcpus']:g} allocatable), +{e.amount['memory_gb']:g} GB memory, "
                          f"+{e.amount['storage_gb'] / 1024:g} TB storage", highlight=False)
        size = ", ".join(f"{k} {v:g}" for k, v in f.host_size.items() if not k.endswith("_used"))
        console.print(f"expansion 扩容建议: {f.expansion_hosts} host(s) of {size} keep every series under 75% "
                      f"for {f.horizon_days} days" if f.expansion_hosts else "no expansion needed within the horizon")


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app, name="schedule")
