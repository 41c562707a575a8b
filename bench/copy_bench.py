"""Whole-record copy benchmark: `db copy` both ways, `db backup` and `db restore` of a sample estate.

    python -m bench.copy_bench [--scales city] [--batch-rows 5000]

For each scale the sample estate is imported into a SQLite file, then, each in its own process (so
peak RSS is that step's alone): copied SQLite → PostgreSQL, PostgreSQL → a new SQLite file, backed up
from SQLite and restored into PostgreSQL. The table prints tables, rows, seconds, rows/second, peak
RSS and whether every table verified (row count and digest on both sides). Memory must stay bounded
(under 512 MB) whatever the estate's size. PostgreSQL is the server at SHANGYUN_BENCH_PG_URL (default:
the local ``test`` database), in schemas the bench creates and drops.
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
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from bench.import_bench import OUT, PG_URL, _estate

RSS_LIMIT_MB = 512
ROOT = Path(__file__).resolve().parent.parent


def _worker(step: str, source: str, target: str, batch_rows: int) -> None:
    """Run one step and print its figures as JSON (runs in a child)."""
    from inventory.dbcopy.backup import backup, restore
    from inventory.dbcopy.copy import copy_database

    start = time.perf_counter()
    if step == "backup":
        manifest = backup(source, Path(target))
        tables, rows, ok = len(manifest.tables), manifest.rows, True
    else:
        report = (restore(Path(source), target, batch_rows=batch_rows) if step == "restore" else
                  (None, copy_database(source, target, batch_rows=batch_rows)))[1]
        tables, rows, ok = len(report.checks), report.rows, report.ok
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tables": tables, "rows": rows, "ok": ok, "seconds": seconds, "peak_mb": peak_mb}))


def _pg_schema(name: str) -> str:
    from inventory.db import normalize_url

    admin = sa.create_engine(normalize_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    admin.dispose()
    return f"{PG_URL}?options=-csearch_path%3D{name}"


def _drop_schemas(names: list[str]) -> None:
    from inventory.db import normalize_url

    admin = sa.create_engine(normalize_url(PG_URL))
    with admin.begin() as conn:
        for name in names:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
    admin.dispose()


def _fresh_file(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm", ".partial"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def _run(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.copy_bench", *args], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench step {args[:2]} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scales", default="city")
    parser.add_argument("--batch-rows", type=int, default=5000)
    parser.add_argument("--worker", nargs=4, metavar=("STEP", "SOURCE", "TARGET", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        step, source, target, batch = args.worker
        _worker(step, source, target, int(batch))
        return
    OUT.mkdir(exist_ok=True)
    console = Console(width=160)
    table = Table(title=f"whole-record copy (batches of {args.batch_rows} rows; target written in one transaction)")
    for column in ("scale", "step", "tables", "rows", "seconds", "rows/s", "peak RSS MB", "verified", "vs bound"):
        table.add_column(column, justify="left" if column in ("scale", "step", "verified", "vs bound") else "right")
    for scale in args.scales.split(","):
        source_file = _fresh_file(OUT / f"copy-{scale}.db")
        subprocess.run([sys.executable, "-m", "bench.import_bench", "--worker", str(_estate(scale)),
                        f"sqlite:///{source_file}"], cwd=ROOT, check=True, capture_output=True)
        schemas = [f"shangyun_copybench_{scale}_{n}" for n in ("copied", "restored")]
        sqlite_source = f"sqlite:///{source_file}"
        back = f"sqlite:///{_fresh_file(OUT / f'copy-{scale}-back.db')}"
        backup_file = str(_fresh_file(OUT / f"copy-{scale}.backup.sqlite"))
        copied, restored = _pg_schema(schemas[0]), _pg_schema(schemas[1])
        steps = [("copy SQLite → PostgreSQL", ("copy", sqlite_source, copied)),
                 ("copy PostgreSQL → SQLite", ("copy", copied, back)),
                 ("backup SQLite → file", ("backup", sqlite_source, backup_file)),
                 ("restore file → PostgreSQL", ("restore", backup_file, restored))]
        try:
            for label, (step, source, target) in steps:
                result = _run("--worker", step, source, target, str(args.batch_rows))
                seconds, rows, peak = float(result["seconds"]), int(result["rows"]), float(result["peak_mb"])
                table.add_row(scale, label, str(result["tables"]), f"{rows:,}", f"{seconds:.1f}",
                              f"{rows / seconds:,.0f}", f"{peak:.0f}", "yes" if result["ok"] else "NO",
                              "ok" if peak <= RSS_LIMIT_MB else f"over {RSS_LIMIT_MB} MB")
                console.print(f"{scale}: {label}: {rows:,} rows in {seconds:.1f} s", style="dim")
        finally:
            _drop_schemas(schemas)
    console.print(table)


if __name__ == "__main__":
    os.environ.setdefault("SHANGYUN_TODAY", "2026-11-30")
    main()
