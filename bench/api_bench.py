"""HTTP load benchmark: the province sample in PostgreSQL behind ``shangyun serve --workers 2``.

    python -m bench.api_bench [--pg-url URL] [--seconds 10] [--concurrency 4] [--schema NAME --keep]

Loads the province estate (1,000 rooms, 30,000 servers, 10,000 systems, 30 days of samples) into a
schema of its own, plans it, starts the server on 127.0.0.1 and drives each endpoint with a bounded
load generator (``bench.http_load``: ``--concurrency`` keep-alive connections for ``--seconds``, an
admin token), then a mix of all of them. Prints requests, requests/second, p50 and p99 latency and
errors per endpoint; the target is p99 ≤ 100 ms. The schema is dropped at the end unless ``--keep``
is given; a later run with ``--schema NAME`` then reuses it without importing again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from bench.http_load import run_load

TARGET_P99_MS = 100.0
ENDPOINTS = ["/api/v1/overview", "/api/v1/servers?limit=50", "/api/v1/systems?limit=50",
             "/api/v1/rooms?limit=50", "/api/v1/departments?limit=50", "/api/v1/capacity-requests",
             "/api/v1/servers?limit=50&q=srv01"]
SHANGYUN = str(Path(sys.executable).parent / "shangyun")


def _run(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    result = subprocess.run([SHANGYUN, *args], env=env, capture_output=True, text=True, input=stdin, check=False)
    if result.returncode != 0:
        raise SystemExit(f"shangyun {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def _cpu_ticks() -> tuple[int, int] | None:
    """(steal, total) CPU ticks since boot from /proc/stat; None where there is no such file."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def _steal_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> str:
    """The share of CPU time the hypervisor gave to other machines between two readings."""
    if before is None or after is None or after[1] == before[1]:
        return "n/a"
    return f"{(after[0] - before[0]) / (after[1] - before[1]):.0%}"


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=os.environ.get("SHANGYUN_TEST_PG_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--scale", default="province")
    parser.add_argument("--schema", help="PostgreSQL schema to load into (default: a new one per run)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the schema afterwards; a later run naming it with --schema skips the import")
    args = parser.parse_args()
    console = Console(width=130)  # the endpoints in full, also when the output is not a terminal
    from collectors.sample.estate import SCALES, generate, write_estate
    from inventory.db import create_db_engine, normalize_url

    schema = args.schema or f"shangyun_api_bench_{os.getpid()}"
    admin = sa.create_engine(normalize_url(args.pg_url))
    with admin.begin() as conn:
        loaded = conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f'"{schema}".app_user'}).scalar()
        # the admin user is written last, so its presence means the whole load finished
        loaded = loaded and conn.execute(sa.text(
            f'SELECT count(*) FROM "{schema}".app_user WHERE username = \'bench-admin\'')).scalar() == 1
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    separator = "&" if "?" in args.pg_url else "?"
    url = f"{args.pg_url}{separator}options=-csearch_path%3D{schema}"
    env = os.environ | {"SHANGYUN_DATABASE_URL": url, "SHANGYUN_SCHEDULER_IN_SERVE": "false"}
    server = None
    try:
        from inventory.db import upgrade

        engine = create_db_engine(url)
        upgrade(engine)
        engine.dispose()
        if not loaded:
            with tempfile.TemporaryDirectory() as folder:
                estate = Path(folder) / "estate"
                started = time.perf_counter()
                write_estate(generate(SCALES[args.scale], seed=1), estate)
                _run("import", str(estate), env=env)
                console.print(f"{args.scale} estate imported into PostgreSQL in {time.perf_counter() - started:.0f} s")
            _run("plan", "create", "--name", "bench", "--start", "2026-12-07", env=env)
            _run("user", "add", "bench-admin", "--role", "admin", "--password-stdin", env=env,
                 stdin="bench-password-1\n")
        else:
            console.print(f"schema {schema} already loaded: import skipped")
        token = _run("user", "token", "bench-admin", env=env).strip()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        log = open(Path(tempfile.gettempdir()) / f"api-bench-{port}.log", "wb")  # noqa: SIM115
        server = subprocess.Popen([SHANGYUN, "serve", "--port", str(port), "--workers", "2", "--no-scheduler"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        auth = {"Authorization": f"Bearer {token}"}
        asyncio.run(run_load(base, auth, ENDPOINTS, 3.0, 4))  # warm every worker's caches and connections
        table = Table(title=f"API load: {args.scale} in PostgreSQL, serve --workers 2, {args.concurrency} in flight, "
                            f"{args.seconds:g} s per row (target p99 ≤ {TARGET_P99_MS:g} ms)")
        for column in ("endpoint", "requests", "req/s", "p50 ms", "p99 ms", "errors", "target", "steal"):
            table.add_column(column, justify="left" if column in ("endpoint", "target") else "right")
        rows = [[p] for p in ENDPOINTS] + [ENDPOINTS]
        for paths in rows:
            ticks = _cpu_ticks()
            result = asyncio.run(run_load(base, auth, paths, args.seconds, args.concurrency))
            latencies = [v for p in paths for v in result.ok[p]]
            errors = sum(len(result.failed[p]) for p in paths)
            p50, p99 = _percentile(latencies, 0.5) * 1000, _percentile(latencies, 0.99) * 1000
            label = paths[0] if len(paths) == 1 else "mix of all the above"
            table.add_row(label, str(len(latencies)), f"{len(latencies) / args.seconds:.0f}", f"{p50:.1f}",
                          f"{p99:.1f}", str(errors), "ok" if p99 <= TARGET_P99_MS and not errors else "miss",
                          _steal_share(ticks, _cpu_ticks()))
        console.print(table)
        console.print("steal: the share of CPU time the hypervisor gave to other machines during the row; "
                      "on a shared machine rows with much of it say little about the server")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
