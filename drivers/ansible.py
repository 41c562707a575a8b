"""Ansible driver: run one playbook of ``playbooks/`` through ansible-runner.

A failed playbook is a *result* (status, return code, per-host outcome, artifacts path), not an
exception, as ansible-runner itself has it; only a run that cannot start raises ``DriverError``.
Events stream to ``on_event`` as they happen. Extra variables whose name contains ``password``,
``secret`` or ``token`` go to Ansible through ansible-runner's ``env/extravars`` file and are masked
in the returned parameters, so they never reach Shangyun's event log.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.errors import DriverError
from inventory.settings import executable_path, get_settings

CHECKOUT_PLAYBOOKS = Path(__file__).resolve().parents[1] / "playbooks"
SECRET_MARKERS = ("password", "secret", "token")


@dataclass(frozen=True)
class HostOutcome:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    message: str | None = None  # the first failure's message


@dataclass
class PlaybookResult:
    playbook: str
    status: str  # successful | failed | timeout | canceled
    rc: int
    hosts: dict[str, HostOutcome] = field(default_factory=dict)
    artifacts: str = ""
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)  # host → facts its set_fact tasks set
    stdout_tail: str = ""  # the end of Ansible's output, for a run that did not get going

    @property
    def succeeded(self) -> bool:
        return self.status == "successful" and self.rc == 0

    def failure(self) -> str:
        """One line saying which hosts failed and why."""
        bad = {h: o for h, o in self.hosts.items() if o.failed or o.unreachable}
        if not bad:
            return f"{self.playbook}: {self.status} (rc {self.rc})"
        return f"{self.playbook}: " + "; ".join(
            f"{h} {'unreachable' if o.unreachable else 'failed'}: {o.message or 'no message'}" for h, o in bad.items())


def _message(result: dict[str, Any]) -> str:
    """The useful failure text: a loop's first failed item's message rather than "One or more items failed"."""
    for item in result.get("results") or []:
        if isinstance(item, dict) and item.get("failed"):
            return _message(item)
    message, stderr = str(result.get("msg") or ""), str(result.get("stderr") or "").strip()
    return (f"{message}: {stderr}" if message and stderr else message or stderr)[:500]


def masked(variables: Mapping[str, Any]) -> dict[str, Any]:
    """``variables`` with secret-looking values replaced, for events and logs."""
    return {k: ("***" if any(m in k.lower() for m in SECRET_MARKERS) else v) for k, v in variables.items()}


def playbooks_dir() -> Path:
    """The playbooks: ``SHANGYUN_PLAYBOOKS_DIR`` (an installed copy, e.g. the container image) or the checkout's."""
    return get_settings().playbooks_dir or CHECKOUT_PLAYBOOKS


def _search_path() -> str:
    path = executable_path()
    if not shutil.which("ansible-playbook", path=path):
        raise DriverError("ansible-playbook not found; install ansible-core")
    return path


def stop_leftovers(artifacts_root: Path, grace: float = 5.0) -> int:
    """Stop ansible-playbook processes still running from ``artifacts_root`` (left by a worker killed
    mid-step: ansible-runner gives them their own terminal session, so they outlive it). Returns how many."""
    import psutil

    marker = str(artifacts_root.resolve())
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        command = " ".join(proc.info["cmdline"] or [])
        if proc.pid != os.getpid() and "ansible-playbook" in command and marker in command:
            found.append(proc)
    for proc in found:
        proc.terminate()
    _, alive = psutil.wait_procs(found, timeout=grace)
    for proc in alive:
        proc.kill()
    return len(found)


def run_playbook(playbook: str | Path, inventory: Mapping[str, Any] | Path, *,
                 extravars: Mapping[str, Any] | None = None, limit: str | None = None, artifacts_root: Path,
                 timeout: int | None = 600, forks: int = 5, env: Mapping[str, str] | None = None,
                 on_event: Callable[[dict[str, Any]], None] | None = None,
                 on_raw_event: Callable[[dict[str, Any]], None] | None = None) -> PlaybookResult:
    """Run ``playbooks/<playbook>.yml`` (or the playbook file ``playbook``) against ``inventory``: Ansible's
    ``--list`` JSON shape, or an inventory file. This is the one place Shangyun calls ansible-runner.

    ``artifacts_root`` keeps ansible-runner's private data dir (events, stdout) per run for later
    reading; its path is in the result. ``env`` adds Ansible settings (``ANSIBLE_TIMEOUT``, say);
    ``on_raw_event`` sees every ansible-runner event whole, for callers that read results (facts).
    """
    import ansible_runner

    playbooks = playbooks_dir()
    path = playbook if isinstance(playbook, Path) else playbooks / f"{playbook}.yml"
    name = path.stem
    if not path.exists():
        raise DriverError(f"no playbook {name!r} in {path.parent}")
    if isinstance(inventory, Path) and not inventory.exists():
        raise DriverError(f"{inventory}: no such inventory")
    hosts: dict[str, dict[str, Any]] = {}
    reports: dict[str, dict[str, Any]] = {}

    def handle(event: dict[str, Any]) -> bool:
        data = event.get("event_data") or {}
        host, kind = data.get("host"), event.get("event", "")
        if host and kind in {"runner_on_ok", "runner_on_failed", "runner_on_unreachable"}:
            counts = hosts.setdefault(host, {"ok": 0, "changed": 0, "failed": 0, "unreachable": 0, "message": None})
            result = data.get("res") or {}
            if kind == "runner_on_ok":
                counts["ok"] += 1
                counts["changed"] += bool(result.get("changed"))
                if str(data.get("task_action", "")).endswith("set_fact"):
                    reports.setdefault(host, {}).update(result.get("ansible_facts") or {})
            elif not data.get("ignore_errors"):
                counts["failed" if kind == "runner_on_failed" else "unreachable"] += 1
                counts["message"] = counts["message"] or _message(result)
        if on_event is not None:
            on_event({"event": kind, "host": host, "task": data.get("task")})
        if on_raw_event is not None:
            on_raw_event(event)
        return True

    artifacts_root.mkdir(parents=True, exist_ok=True)
    try:
        runner = ansible_runner.run(
            private_data_dir=str(artifacts_root), playbook=str(path),
            inventory=str(inventory.resolve()) if isinstance(inventory, Path) else dict(inventory),
            extravars=dict(extravars or {}), limit=limit, forks=forks, quiet=True, timeout=timeout,
            event_handler=handle, envvars={"PATH": _search_path(), "ANSIBLE_RETRY_FILES_ENABLED": "False",
                                           "ANSIBLE_ROLES_PATH": str(playbooks / "roles"), **(env or {})})
    except (OSError, ValueError) as exc:  # ansible-runner's ConfigurationError derives from Exception
        raise DriverError(f"{name}: ansible-runner could not start ({type(exc).__name__})") from None
    outcomes = {h: HostOutcome(**v) for h, v in hosts.items()}
    tail = (runner.stdout.read()[-600:] if runner.stdout else "").strip()
    return PlaybookResult(name, str(runner.status), int(runner.rc if runner.rc is not None else -1), outcomes,
                          str(Path(runner.config.artifact_dir)), reports, tail)
