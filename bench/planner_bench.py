"""Planner benchmark: city, province and stress estates planned by the room-closing optimiser and
by two baselines (department by department, random order).

    python -m bench.planner_bench [--scales city,province,stress]

Each scale's sample estate is imported once into bench/out/plan-SCALE.db (SQLite), then one child
process per scale loads the estate, plans it three ways and reports time, peak RSS, savings over the
horizon, the upper bound and the gap, how early rooms close (mean closing wave of the rooms that
close), right-sizing (allocated ÷ p95 × 1.3 demand, vCPU and memory, over every cloud item) and the
savings model's net saving over the plan's fiscal years. Targets: stress in ≤ 30 s and ≤ 2 GB;
objective ≥ 95 % of the bound on city and province; allocated ÷ demand ≤ 1.25 for vCPU and memory on
city and province.
Per-wave limits scale with the estate: 40 systems per 14-day wave for a city, 20× for a province,
100× for the stress estate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.import_bench import OUT, _estate

LIMITS = {"tiny": 4, "city": 40, "province": 800, "stress": 4000}
START = dt.date(2027, 1, 4)


def _database(scale: str) -> str:
    path = OUT / f"plan-{scale}.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        from collectors.survey.importer import import_survey
        from inventory.audit import Actor
        from inventory.db import create_db_engine, upgrade

        engine = create_db_engine(url)
        upgrade(engine)
        import_survey(_estate(scale), engine=engine, actor=Actor("bench"))
        engine.dispose()
    return url


def _worker(scale: str, url: str) -> None:
    from sqlmodel import Session

    from inventory.db import create_db_engine
    from inventory.models.enums import Strategy
    from inventory.settings import get_cost_defaults
    from migration_plans.load import load_estate
    from migration_plans.planning.model import PlanParams
    from migration_plans.planning.planner import plan
    from migration_plans.planning.waves import DepartmentOrder, RandomOrder

    engine = create_db_engine(url)
    started = time.perf_counter()
    with Session(engine) as session:
        estate = load_estate(session, get_cost_defaults())
    load_seconds = time.perf_counter() - started
    params = PlanParams("bench", START, max_systems_per_wave=LIMITS[scale])
    started = time.perf_counter()
    best = plan(estate, params)
    plan_seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def mean_close(result: object) -> float:
        waves = [r.closes_after_wave for r in result.rooms if r.closes_after_wave]  # type: ignore[attr-defined]
        return statistics.fmean(waves) if waves else 0.0

    department = plan(estate, params, ordering=DepartmentOrder())
    randomised = plan(estate, params, ordering=RandomOrder(1))
    targets = [d.target for d in best.decisions.values() if d.target is not None and d.strategy in (
        Strategy.REHOST, Strategy.REPLATFORM)]
    demand = (sum(t.demand_vcpus for t in targets), sum(t.demand_memory_gb for t in targets))
    allocated = (sum(t.vcpus for t in targets), sum(t.memory_gb for t in targets))
    assert best.savings is not None
    print(json.dumps({
        "vcpu_ratio": allocated[0] / demand[0] if demand[0] else 1.0,
        "memory_ratio": allocated[1] / demand[1] if demand[1] else 1.0,
        "net_wan": best.savings.total_net_wan, "steady_wan": best.savings.steady_state.net_saving_wan,
        "years": f"{best.savings.years[0].year}–{best.savings.years[-1].year}",
        "systems": len(estate.systems), "servers": sum(len(s.servers) for s in estate.systems),
        "rooms": len(estate.rooms), "waves": len(best.waves), "load_s": load_seconds, "plan_s": plan_seconds,
        "peak_mb": peak_mb, "objective": best.objective_cny, "bound": best.upper_bound_cny,
        "department": department.objective_cny, "random": randomised.objective_cny,
        "close_opt": mean_close(best), "close_dept": mean_close(department), "close_random": mean_close(randomised),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description="planner benchmark")
    parser.add_argument("--scales", default="city,province,stress")
    parser.add_argument("--worker", nargs=2, metavar=("SCALE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(*args.worker)
        return
    OUT.mkdir(exist_ok=True)
    console = Console(width=200)
    table = Table(title="migration planner: the wave order's objective (room cost avoided over 3 years at run rate, "
                        "万元) vs baselines and its proven bound; right-sizing; the savings model's net (万元)")
    for column in ("scale", "systems", "servers", "rooms", "waves", "load s", "plan s", "peak RSS MB", "objective",
                   "upper bound", "gap", "dept-by-dept", "random", "mean closing wave opt/dept/random",
                   "vCPU alloc÷demand", "memory alloc÷demand", "net saving FYs (steady FY)", "vs target"):
        table.add_column(column, justify="left" if column in ("scale", "vs target") else "right")
    for scale in args.scales.split(","):
        url = _database(scale)
        done = subprocess.run([sys.executable, "-m", "bench.planner_bench", "--worker", scale, url],
                              capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        share = r["objective"] / r["bound"] if r["bound"] else 1.0
        verdict = []
        if scale in ("city", "province") and share < 0.95:
            verdict.append("objective < 95 % of bound")
        if scale == "stress" and (r["plan_s"] > 30 or r["peak_mb"] > 2048):
            verdict.append("over 30 s / 2 GB")
        if scale in ("city", "province") and max(r["vcpu_ratio"], r["memory_ratio"]) > 1.25:
            verdict.append("allocated > 1.25 × demand")
        table.add_row(scale, f"{r['systems']:,}", f"{r['servers']:,}", f"{r['rooms']:,}", str(r["waves"]),
                      f"{r['load_s']:.1f}", f"{r['plan_s']:.2f}", f"{r['peak_mb']:.0f}", f"{r['objective'] / 1e4:,.0f}",
                      f"{r['bound'] / 1e4:,.0f}", f"{1 - share:.1%}", f"{r['department'] / 1e4:,.0f}",
                      f"{r['random'] / 1e4:,.0f}",
                      f"{r['close_opt']:.1f} / {r['close_dept']:.1f} / {r['close_random']:.1f}",
                      f"{r['vcpu_ratio']:.2f}", f"{r['memory_ratio']:.2f}",
                      f"{r['net_wan']:,.0f} {r['years']} ({r['steady_wan']:,.0f})", "; ".join(verdict) or "ok")
        console.print(f"{scale}: planned in {r['plan_s']:.2f} s", style="dim")
    console.print(table)


if __name__ == "__main__":
    main()
