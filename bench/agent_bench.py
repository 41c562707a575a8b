"""Agent cost benchmark: CPU seconds per hour and RSS of ``shangyun collect local``.

    python -m bench.agent_bench [--reports 30] [--interval 2]

Runs the real agent process (printing reports, no push) for ``--reports`` reports at a short
interval, reads its CPU time and resident memory from /proc, and extrapolates the CPU cost per
report to the production interval of 60 s. Targets: ≤ 0.1 % of one core (3.6 CPU-s per hour) and
≤ 50 MB RSS. The 1 s CPU sampling window inside each report sleeps; it costs no CPU.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description="agent cost benchmark")
    parser.add_argument("--reports", type=int, default=30)
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args()
    shangyun = str(Path(sys.executable).with_name("shangyun"))
    agent = subprocess.Popen([shangyun, "collect", "local", "--interval", str(args.interval)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert agent.stdout is not None
    agent.stdout.readline()  # first report: start-up is paid once, not per report
    start_cpu, peak = _cpu_seconds(agent.pid), _rss_mb(agent.pid)
    started = time.monotonic()
    for _ in range(args.reports):
        agent.stdout.readline()
        peak = max(peak, _rss_mb(agent.pid))
    per_report = (_cpu_seconds(agent.pid) - start_cpu) / args.reports
    elapsed = time.monotonic() - started
    agent.terminate()
    agent.wait(10)
    per_hour = per_report * 3600 / 60
    table = Table(title="psutil agent (collect local), extrapolated to one report per 60 s")
    for column in ("reports", "wall s", "CPU s / report", "CPU s / hour @60 s", "share of one core", "peak RSS MB",
                   "vs target"):
        table.add_column(column, justify="right")
    ok = per_hour <= 3.6 and peak <= 50
    table.add_row(str(args.reports), f"{elapsed:.0f}", f"{per_report:.4f}", f"{per_hour:.2f}",
                  f"{per_hour / 3600:.4%}", f"{peak:.1f}", "ok" if ok else "over ≤0.1 % core / ≤50 MB")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
