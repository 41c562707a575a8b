"""Ansible driver: run one playbook of ``playbooks/`` through ansible-runner.

A failed playbook is a *result* (status, return code, per-host outcome, artifacts path), not an
exception, as ansible-runner itself has it; only a run that cannot start raises ``DriverError``.
Events stream to ``on_event`` as they happen.

Secrets: a variable whose name contains ``pass``, ``secret``, ``token`` or ``key`` is masked wherever
Shangyun shows or records it (``masked``). Its value, when it carries one (not a ``…_file`` path), is
given as ``{env: NAME}`` or ``{file: PATH}`` and read only when the playbook starts. It reaches Ansible
in an extra-variables file of its own (mode 0600, on tmpfs where there is one, removed when the run
ends); the inventory and extra variables hold ``{{ shangyun_secret_N }}`` in its place, and
ansible-runner's env files are suppressed, so nothing it keeps (``inventory/hosts.json``, ``env/``,
the artifacts with their ``command`` file) contains the secret.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.errors import DriverError
from inventory.settings import environment_secret, executable_path, get_settings

CHECKOUT_PLAYBOOKS = Path(__file__).resolve().parents[1] / "playbooks"
SECRET_MARKERS = ("pass", "secret", "token", "key")
SECRET_SOURCES = ("env", "file")


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


def secret_name(name: str) -> bool:
    """Whether a variable called ``name`` is masked in output and events."""
    return any(m in name.lower() for m in SECRET_MARKERS)


def carries_secret(name: str) -> bool:
    """Whether ``name``'s value is itself a secret (``…_file`` variables hold a path to one)."""
    return secret_name(name) and not name.lower().endswith("_file")


def is_reference(value: Any) -> bool:
    """``{env: NAME}`` or ``{file: PATH}``."""
    return (isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in SECRET_SOURCES
            and isinstance(next(iter(value.values())), str) and bool(next(iter(value.values()))))


def is_literal(value: Any) -> bool:
    """A value that can be a secret: text or a number (not a flag such as ``ansible_host_key_checking``)."""
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def masked(variables: Mapping[str, Any]) -> dict[str, Any]:
    """``variables`` with secret-looking values replaced, for events and logs."""
    return {k: ("***" if secret_name(k) else v) for k, v in variables.items()}


def reveal(name: str, value: Any) -> str:
    """The secret ``value`` stands for (a reference is read now); the error names the variable, never the value."""
    if not is_reference(value):
        return str(value)
    source, where = next(iter(value.items()))
    if source == "env":
        found = environment_secret(where)
        if found is None:
            raise DriverError(f"{name}: environment variable {where} is not set")
        return found
    try:
        return Path(where).read_text(encoding="utf-8").rstrip("\n")
    except OSError as exc:
        raise DriverError(f"{name}: cannot read {where} ({exc.strerror})") from None


class _SecretsAside:
    """Replace each secret value in an inventory or extra variables by a reference to an extra variable
    of its own, collecting the values for a private extra-variables file."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.sources: set[str] = set()  # environment variables a reference named

    def hides(self, name: str, value: str) -> bool:
        """Whether the environment variable ``name`` is kept from Ansible and its artifacts."""
        return (name.startswith("SHANGYUN_") or carries_secret(name) or name in self.sources
                or value in self.values.values())

    def variables(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(values)
        for name, value in values.items():
            templated = isinstance(value, str) and "{{" in value  # e.g. from Ansible Vault: Ansible resolves it
            if carries_secret(name) and not templated and (is_reference(value) or is_literal(value)):
                if is_reference(value) and "env" in value:
                    self.sources.add(value["env"])
                key = f"shangyun_secret_{len(self.values)}"
                self.values[key] = reveal(name, value)
                out[name] = "{{ " + key + " }}"
        return out

    @contextmanager
    def file(self) -> Iterator[str | None]:
        """``-e @FILE`` for ansible-playbook, the file readable by this user only, in memory where the system
        has a tmpfs (``/dev/shm``), and removed when the run ends; None without secrets. Values are
        ``!unsafe``, so Ansible never templates a secret that happens to hold ``{{``."""
        if not self.values:
            yield None
            return
        folder = Path(tempfile.mkdtemp(prefix="shangyun-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
        path = folder / "secrets.yml"
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.writelines(f"{k}: !unsafe {json.dumps(v)}\n" for k, v in self.values.items())
            yield f"-e @{shlex.quote(str(path))}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def group(self, group: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(group)
        if isinstance(group.get("vars"), Mapping):
            out["vars"] = self.variables(group["vars"])
        if isinstance(group.get("hosts"), Mapping):
            out["hosts"] = {h: self.variables(v) if isinstance(v, Mapping) else v for h, v in group["hosts"].items()}
        if isinstance(group.get("children"), Mapping):
            out["children"] = {g: self.group(c) if isinstance(c, Mapping) else c
                               for g, c in group["children"].items()}
        if isinstance(group.get("hostvars"), Mapping):  # _meta
            out["hostvars"] = {h: self.variables(v) if isinstance(v, Mapping) else v
                               for h, v in group["hostvars"].items()}
        return out

    def inventory(self, inventory: Mapping[str, Any]) -> dict[str, Any]:
        return {name: self.group(g) if isinstance(g, Mapping) else g for name, g in inventory.items()}


def playbooks_dir() -> Path:
    """The playbooks: ``SHANGYUN_PLAYBOOKS_DIR`` (an installed copy, e.g. the container image) or the checkout's."""
    return get_settings().playbooks_dir or CHECKOUT_PLAYBOOKS


def _search_path() -> str:
    path = executable_path()
    if not shutil.which("ansible-playbook", path=path):
        raise DriverError("ansible-playbook not found; install ansible-core")
    return path


def stop_leftovers(artifacts_root: Path, grace: float = 5.0) -> int:
    """Stop ansible-playbook processes still running from ``artifacts_root``, and what they started (left by
    a worker killed mid-step, or by a step that timed out: ansible-runner gives them their own terminal
    session, so they outlive it). Returns how many ansible-playbook processes there were."""
    import psutil

    marker = str(artifacts_root.resolve())
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        command = " ".join(proc.info["cmdline"] or [])
        if proc.pid != os.getpid() and "ansible-playbook" in command and marker in command:
            found.append(proc)
    playbooks = len(found)
    for proc in list(found):
        try:
            found.extend(proc.children(recursive=True))
        except psutil.NoSuchProcess:
            continue
    for proc in found:
        try:
            proc.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(found, timeout=grace)
    for proc in alive:
        proc.kill()
    return playbooks


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
    import ansible_runner.interface

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
    secrets = _SecretsAside()
    hidden_inventory = str(inventory.resolve()) if isinstance(inventory, Path) else secrets.inventory(inventory)
    hidden_extravars = secrets.variables(extravars or {})
    try:
        with secrets.file() as secret_args:
            runner = ansible_runner.interface.init_runner(
                private_data_dir=str(artifacts_root), playbook=str(path), inventory=hidden_inventory,
                extravars=hidden_extravars, cmdline=secret_args, limit=limit, forks=forks, quiet=True,
                timeout=timeout, event_handler=handle, suppress_env_files=True,
                envvars={"PATH": _search_path(), "ANSIBLE_RETRY_FILES_ENABLED": "False",
                         "ANSIBLE_ROLES_PATH": str(playbooks / "roles"), **(env or {})})
            # ansible-runner hands Ansible a copy of this process's environment and writes it into the run's
            # ``command`` artifact: Shangyun's own settings and every secret stay out of both.
            runner.config.env = {k: v for k, v in runner.config.env.items() if not secrets.hides(k, v)}
            runner.run()
        if runner.status == "timeout":  # ansible-runner stops its pexpect child; its forks and their tasks linger
            stop_leftovers(artifacts_root)
    except (OSError, ValueError) as exc:  # ansible-runner's ConfigurationError derives from Exception
        raise DriverError(f"{name}: ansible-runner could not start ({type(exc).__name__})") from None
    outcomes = {h: HostOutcome(**v) for h, v in hosts.items()}
    tail = (runner.stdout.read()[-600:] if runner.stdout else "").strip()
    return PlaybookResult(name, str(runner.status), int(runner.rc if runner.rc is not None else -1), outcomes,
                          str(Path(runner.config.artifact_dir)), reports, tail)
