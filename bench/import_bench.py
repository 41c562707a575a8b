"""Survey import benchmark: city, province and stress samples on SQLite and PostgreSQL.

    python -m bench.import_bench [--scales city,province,stress] [--databases sqlite,postgresql]

Each import runs in its own process (so peak RSS is that import's alone) into an empty, migrated
database, and the table prints scale, database, rows, seconds, rows/second and peak RSS against the
targets (≥ 20,000 rows/s overall; province under 2 GB). PostgreSQL is the server at
SHANGYUN_BENCH_PG_URL (default: the local ``test`` database), in a schema the bench creates and drops.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

OUT = Path(__file__).resolve().parent / "out"
PG_URL = os.environ.get("SHANGYUN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
TARGET_ROWS_PER_S = 20000
PROVINCE_RSS_LIMIT_MB = 2048


def _worker(path: str, url: str) -> None:
    """Import ``path`` into ``url`` and print seconds, rows and peak RSS as JSON (runs in a child)."""
    from collectors.survey.importer import import_survey
    from inventory.audit import Actor
    from inventory.db import create_db_engine, upgrade

    engine = create_db_engine(url)
    upgrade(engine)
    start = time.perf_counter()
    outcome = import_survey(Path(path), engine=engine, actor=Actor("bench"))
    seconds = time.perf_counter() - start
    report = outcome.report
    rows = report.samples_inserted + sum(c.created + c.updated + c.unchanged for c in report.counts.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rows": rows, "errors": len(report.errors), "peak_mb": peak_mb}))


def _estate(scale: str) -> Path:
    from collectors.sample.estate import SCALES, generate, write_estate

    folder = OUT / f"{scale}-seed1"
    if not (folder / "samples.csv").exists():
        write_estate(generate(SCALES[scale], 1), folder)
    return folder


def _database(kind: str, scale: str) -> tuple[str, tuple[Engine, str] | None]:
    if kind == "sqlite":
        path = OUT / f"bench-{scale}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", None
    import sqlalchemy as sa

    from inventory.db import normalize_url

    schema = f"shangyun_bench_{scale}"
    admin = sa.create_engine(normalize_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    return f"{PG_URL}?options=-csearch_path%3D{schema}", (admin, schema)


def _drop(handle: tuple[Engine, str] | None) -> None:
    if handle is None:
        return
    import sqlalchemy as sa

    admin, schema = handle
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scales", default="city,province,stress")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--worker", nargs=2, metavar=("PATH", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(*args.worker)
        return
    OUT.mkdir(exist_ok=True)
    console = Console(width=160)
    table = Table(title="survey import (one transaction per import; samples via COPY / executemany)")
    for column in ("scale", "database", "rows", "seconds", "rows/s", "peak RSS MB", "vs target"):
        table.add_column(column, justify="left" if column in ("scale", "database", "vs target") else "right")
    total_rows = total_seconds = 0.0
    for scale in args.scales.split(","):
        folder = _estate(scale)
        for database in args.databases.split(","):
            url, handle = _database(database, scale)
            try:
                done = subprocess.run([sys.executable, "-m", "bench.import_bench", "--worker", str(folder), url],
                                      capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
            finally:
                _drop(handle)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            rate = result["rows"] / result["seconds"]
            total_rows += result["rows"]
            total_seconds += result["seconds"]
            verdict = "ok" if rate >= TARGET_ROWS_PER_S else f"below {TARGET_ROWS_PER_S} rows/s"
            if scale == "province" and result["peak_mb"] > PROVINCE_RSS_LIMIT_MB:
                verdict += f"; over {PROVINCE_RSS_LIMIT_MB} MB"
            if result["errors"]:
                verdict += f"; {result['errors']} errors"
            table.add_row(scale, database, f"{result['rows']:,}", f"{result['seconds']:.1f}", f"{rate:,.0f}",
                          f"{result['peak_mb']:.0f}", verdict)
            console.print(f"{scale}/{database}: {result['rows']:,} rows in {result['seconds']:.1f} s", style="dim")
    console.print(table)
    rate = total_rows / total_seconds
    console.print(f"overall: {total_rows:,.0f} rows in {total_seconds:.1f} s = {rate:,.0f} rows/s "
                  f"(target ≥ {TARGET_ROWS_PER_S:,})")


if __name__ == "__main__":
    main()
