"""The psutil agent: one report of this machine (FORMATS.md §5).

CPU use is measured over ``sample_seconds``; disks are the mounted local filesystems (pseudo and
duplicate devices skipped); ``listening`` and ``connections`` come from the kernel's socket table,
with process names where the agent may read them (all of them when it runs as root).
``connections`` are outbound only, so each link is reported once, by its client.
"""

from __future__ import annotations

import datetime as dt
import platform
import socket

import psutil

from inventory.records.agent import MAX_SOCKETS, AgentReport, Connection, Disk, Listening

GB = 1024**3
PSEUDO_FS = {"tmpfs", "devtmpfs", "overlay", "squashfs", "proc", "sysfs", "cgroup", "cgroup2", "autofs", "nsfs"}


def _process_names() -> dict[int, str]:
    names: dict[int, str] = {}
    for proc in psutil.process_iter(["pid", "name"]):
        names[proc.info["pid"]] = proc.info["name"]
    return names


def _os_name() -> str:
    """Distribution and version from os-release (``Debian GNU/Linux 12``), else the kernel (``Linux 6.1``)."""
    try:
        release = platform.freedesktop_os_release()
    except OSError:  # not Linux, or no os-release file
        return f"{platform.system()} {platform.release()}"
    return " ".join(p for p in (release.get("NAME"), release.get("VERSION_ID")) if p)


def _disks() -> list[Disk]:
    disks, devices = [], set()
    for part in psutil.disk_partitions(all=False):
        if part.fstype in PSEUDO_FS or part.device in devices:
            continue
        devices.add(part.device)
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:  # unreadable mount (e.g. a stale network share)
            continue
        disks.append(Disk(mount=part.mountpoint, size_gb=round(usage.total / GB, 2), used_gb=round(usage.used / GB, 2)))
    return disks


def _sockets() -> tuple[list[Listening], list[Connection]]:
    names = _process_names()
    try:
        table = psutil.net_connections(kind="inet")
    except psutil.AccessDenied:  # some platforms need privileges for the socket table
        return [], []
    listening: dict[int, str | None] = {}
    connections: dict[tuple[str, str | None], None] = {}
    for conn in table:
        if conn.status == psutil.CONN_LISTEN and conn.laddr:
            listening.setdefault(conn.laddr.port, names.get(conn.pid) if conn.pid else None)
    for conn in table:
        # Outbound only: a connection whose local port is one we listen on was made *to* us, and
        # the client's agent reports it from its side.
        if conn.status == psutil.CONN_ESTABLISHED and conn.raddr and getattr(conn.laddr, "port", None) not in listening:
            process = names.get(conn.pid) if conn.pid else None
            connections[(f"{conn.raddr.ip}:{conn.raddr.port}", process)] = None
    # A report holds at most MAX_SOCKETS of each (the server refuses more): the first ones, in a stable order.
    return ([Listening(port=p, process=n) for p, n in sorted(listening.items())[:MAX_SOCKETS]],
            [Connection(remote=r, process=n) for r, n in sorted(connections, key=str)[:MAX_SOCKETS]])


def collect_report(sample_seconds: float = 1.0, hostname: str | None = None) -> AgentReport:
    """Measure this machine now."""
    cpu = psutil.cpu_percent(interval=sample_seconds) / 100
    memory = psutil.virtual_memory()
    listening, connections = _sockets()
    return AgentReport(
        hostname=hostname or socket.gethostname(),
        collected_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        os=_os_name(),
        cpu_cores=psutil.cpu_count(logical=True) or 1,
        memory_mb=round(memory.total / 1024**2),
        disks=_disks(),
        cpu_util=round(min(1.0, cpu), 4),
        memory_util=round(memory.percent / 100, 4),
        listening=listening,
        connections=connections,
    )
