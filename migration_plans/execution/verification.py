"""Functional verification (功能验证) after cutover, run against the migrated target, not the source.

The site profile declares each system's checks (``Site.checks``): HTTP (status and text), TCP ports,
commands (exit 0 and expected output) and, by default, the data: every data path's checksum on the
source against its copy on the target (a local path, or ``host:path`` on a new instance). HTTP and TCP
run from Shangyun itself; checksums and commands run through Ansible (``playbooks/checks.yml``) on the
hosts that hold them. ``{address}`` in a check is each target's address.

Every result says what was compared (expected and observed). The results go into the step's event
and the system's archive (audit entity ``system``, action ``verify``). A failed check raises
``VerificationFailedError``: the executor stops the item before sign-off and waits for a person, who fixes
the cause and approves ``verify`` to check again, or rolls the item back.
"""

from __future__ import annotations

import socket
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import httpx

from drivers.ansible import run_playbook
from drivers.errors import DriverError
from inventory.errors import ConflictError
from inventory.models.enums import Strategy

if TYPE_CHECKING:
    from migration_plans.execution.actions import SourceServer, StepContext

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
MAX_BODY = 1 << 20  # an HTTP check reads at most 1 MiB of the answer


@dataclass(frozen=True)
class CheckResult:
    kind: str  # http | tcp | command | data
    target: str  # what was checked: URL, host:port, host: command, path pair
    ok: bool
    expected: str
    observed: str


class VerificationFailedError(ConflictError):
    """At least one check failed; ``results`` holds every check's result."""

    def __init__(self, results: list[CheckResult]) -> None:
        self.results = results
        failed = [r for r in results if not r.ok]
        super().__init__(f"{len(failed)} of {len(results)} check(s) failed: " + "; ".join(
            f"{r.kind} {r.target}: expected {r.expected}, got {r.observed}" for r in failed)[:1500])


@dataclass
class _Host:
    """One host the checks playbook runs on, and what it measures there."""

    variables: dict[str, Any]
    paths: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """A migrated target: its inventory name, the address checks use, and how Ansible reaches it (None:
    unreachable for commands)."""

    name: str
    address: str
    host_vars: dict[str, Any] | None


def targets(ctx: StepContext, in_place: bool = False) -> list[Target]:
    """The migrated targets of ``ctx``'s item: its instances (rehost), its Service (replatform), or the
    moved servers themselves (relocate, ``in_place``)."""
    site = ctx.site
    local = site.connection == "local"
    if in_place:
        return [Target(s.hostname, "127.0.0.1" if local else (s.ip or s.hostname).split(",")[0].strip(),
                       LOCAL if local else {"ansible_host": (s.ip or s.hostname).split(",")[0].strip()}
                       | site.ansible_vars) for s in ctx.servers]
    if ctx.strategy == Strategy.REPLATFORM:
        address = f"{ctx.resource_name}.{ctx.project_name}.svc"
        return [Target(ctx.resource_name, "127.0.0.1" if local else address, LOCAL if local else None)]
    out = []
    for planned in ctx.instances:
        ip = ctx.made(planned.name).get("target_ip")
        if local:
            out.append(Target(planned.name, "127.0.0.1", LOCAL))
        elif ip:
            out.append(Target(planned.name, ip, {"ansible_host": ip} | (
                site.target_ansible_vars if site.target_ansible_vars is not None else site.ansible_vars)))
        else:
            out.append(Target(planned.name, planned.name, None))
    return out


def verify(ctx: StepContext, in_place: bool = False) -> dict[str, Any]:
    """Run every check of the item's system; its results, or ``VerificationFailedError``."""
    results = run_checks(ctx, in_place)
    if any(not r.ok for r in results):
        raise VerificationFailedError(results)
    return {"checks": [asdict(r) for r in results], "checks_passed": len(results)}


def run_checks(ctx: StepContext, in_place: bool = False) -> list[CheckResult]:
    """Every declared check against every target, and the data comparison; nothing raises on a failed check."""
    checks = ctx.site.checks_of(ctx.system_code)
    found = targets(ctx, in_place)
    results: list[CheckResult] = []
    for check in checks.http:
        urls = {check.url.replace("{address}", t.address) for t in found} if "{address}" in check.url else {check.url}
        results += [_http(url, check.status, check.contains, check.timeout) for url in sorted(urls)]
    for tcp in checks.tcp:
        addresses = [tcp.host] if tcp.host else sorted({t.address for t in found})
        results += [_tcp(address, tcp.port, tcp.timeout) for address in addresses]
    hosts: dict[str, _Host] = {}
    pairs: list[tuple[str, str, str, str]] = []  # source host, source path, target host, target path
    if checks.data and not in_place:
        for server in ctx.servers:
            source_vars = ctx.host_vars(server)
            for path in ctx.site.data_paths_of(ctx.system_code, server.hostname):
                holder, copy = _copy_of(ctx, server, path, found)
                hosts.setdefault(server.hostname, _Host(source_vars)).paths.append(path)
                if holder == server.hostname:
                    hosts[server.hostname].paths.append(copy)
                else:
                    target = next(t for t in found if t.name == holder)
                    hosts.setdefault(holder, _Host(dict(target.host_vars or {}))).paths.append(copy)
                pairs.append((server.hostname, path, holder, copy))
    unreachable = []
    for command in checks.commands:
        for target in found:
            if target.host_vars is None:
                unreachable.append(CheckResult("command", f"{target.name}: {command.run}", False,
                                               _expected(command.expect), "no address Ansible can reach"))
            else:
                hosts.setdefault(target.name, _Host(dict(target.host_vars))).commands.append(command.run)
    reports = _measure(ctx, hosts) if hosts else {}
    for source_host, source_path, target_host, target_path in pairs:
        original, replica = _sum(reports, source_host, source_path), _sum(reports, target_host, target_path)
        results.append(CheckResult("data", f"{source_host}:{source_path} → {target_host}:{target_path}",
                                   original is not None and original == replica,
                                   f"same files as the source ({original})", str(replica)))
    for command in checks.commands:
        for target in found:
            if target.host_vars is None:
                continue
            rc, output = _ran(reports, target.name, command.run)
            ok = rc == 0 and (command.expect is None or command.expect in output)
            results.append(CheckResult("command", f"{target.name}: {command.run}", ok, _expected(command.expect),
                                       f"exit {rc}, output {output[:200]!r}"))
    return results + unreachable


def _copy_of(ctx: StepContext, server: SourceServer, path: str, found: list[Target]) -> tuple[str, str]:
    """Which host holds the copy of ``server``'s ``path`` and where: the instance for ``ip:dir`` targets,
    else the source host itself (a local target directory)."""
    target, instance = ctx.target_of(server)
    host_part, colon, directory = target.partition(":")
    name = PurePosixPath(path).name
    if colon and instance and any(t.name == instance and t.host_vars is not None for t in found):
        return instance, str(PurePosixPath(directory) / name)
    return server.hostname, str(PurePosixPath(directory if colon else host_part) / name)


def _measure(ctx: StepContext, hosts: dict[str, _Host]) -> dict[str, dict[str, Any]]:
    inventory = {"all": {"hosts": {name: host.variables | {"shangyun_checksum_paths": host.paths,
                                                          "shangyun_check_commands": host.commands}
                                   for name, host in hosts.items()}}}
    result = run_playbook("checks", inventory, artifacts_root=ctx.artifacts_dir, timeout=ctx.site.step_timeout)
    if not result.reports and not result.succeeded:
        raise DriverError(result.failure())
    return result.reports


def _sum(reports: dict[str, dict[str, Any]], host: str, path: str) -> str | None:
    for item, rc, stdout in reports.get(host, {}).get("checks_checksums", []):
        if item == path:
            return str(stdout).strip() if rc == 0 else None
    return None


def _ran(reports: dict[str, dict[str, Any]], host: str, command: str) -> tuple[int, str]:
    for item, rc, stdout in reports.get(host, {}).get("checks_command_results", []):
        if item == command:
            return int(rc), str(stdout)
    return -1, "not run"


def _expected(text: str | None) -> str:
    return "exit 0" + (f", output containing {text!r}" if text is not None else "")


def _http(url: str, status: int, contains: str | None, timeout: float) -> CheckResult:
    expected = f"HTTP {status}" + (f", body containing {contains!r}" if contains is not None else "")
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=False) as response:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= MAX_BODY:
                    break
            text = body[:MAX_BODY].decode(response.encoding or "utf-8", errors="replace")
            found = contains is None or contains in text
            observed = f"HTTP {response.status_code}" + ("" if contains is None else (
                ", text found" if found else ", text not found"))
            return CheckResult("http", url, response.status_code == status and found, expected, observed)
    except httpx.HTTPError as exc:
        return CheckResult("http", url, False, expected, f"no answer ({type(exc).__name__})")


def _tcp(host: str, port: int, timeout: float) -> CheckResult:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return CheckResult("tcp", f"{host}:{port}", True, "port open", "connected")
    except OSError as exc:
        return CheckResult("tcp", f"{host}:{port}", False, "port open", f"refused or unreachable ({exc.strerror})")
