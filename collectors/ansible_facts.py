"""Agentless collection: Ansible facts gathered through ansible-runner, as plain records.

The playbook (``collectors/ansible/gather.yml``) runs ``setup`` and lists listening TCP ports with
``ss``; it changes nothing on the hosts. Hosts that cannot be reached or fail are returned as
``HostFailure`` with Ansible's message; they never stop the run. No database access here.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.ansible import run_playbook
from drivers.errors import DriverError
from inventory.errors import ExternalError
from inventory.records.agent import Listening
from inventory.records.hosts import HostFacts, HostFailure

PLAYBOOK = Path(__file__).parent / "ansible" / "gather.yml"
LISTENING_TASK = "Listening TCP ports"
VARIABLES_TASK = "Shangyun host variables"
MB_PER_GB = 1024
BYTES_PER_GB = 1024**3
# `ss -Hltnp`: State Recv-Q Send-Q Local:Port Peer:Port [users:(("name",pid=..,fd=..))]
_SS_LINE = re.compile(r"^\S+\s+\d+\s+\d+\s+(?P<local>\S+):(?P<port>\d+)\s+\S+(?:\s+users:\(\(\"(?P<proc>[^\"]+)\")?")






@dataclass
class AnsibleRun:
    facts: list[HostFacts] = field(default_factory=list)
    failures: list[HostFailure] = field(default_factory=list)


class AnsibleError(ExternalError):
    """The run itself could not start (bad inventory, no ansible-playbook); message safe to show."""


def _known(value: Any) -> str | None:
    """Ansible reports unknown DMI strings as ``NA`` (or blanks); treat them as unknown."""
    text = str(value).strip() if value is not None else ""
    return None if text in {"", "NA", "N/A", "None", "To be filled by O.E.M.", "Not Specified"} else text


def facts_from_setup(inventory_name: str, facts: dict[str, Any], hostvars: dict[str, Any]) -> HostFacts:
    """Map ``setup``'s ``ansible_facts`` (keys with or without the ``ansible_`` prefix) to a record."""

    def get(key: str) -> Any:
        return facts.get(f"ansible_{key}", facts.get(key))

    memory_mb = get("memtotal_mb")
    mounts = get("mounts") or []
    local = [m for m in mounts if str(m.get("device", "")).startswith("/dev/") or m.get("mount") == "/"]
    seen_devices: set[str] = set()
    storage = 0.0
    for mount in local:
        device = str(mount.get("device", mount.get("mount")))
        if device not in seen_devices and mount.get("size_total"):
            seen_devices.add(device)
            storage += float(mount["size_total"]) / BYTES_PER_GB
    distribution = " ".join(str(p) for p in (get("distribution"), get("distribution_version")) if _known(p))
    role = _known(get("virtualization_role"))
    vendor, product = _known(get("system_vendor")), _known(get("product_name"))
    return HostFacts(
        inventory_name=inventory_name,
        hostname=str(hostvars.get("shangyun_hostname") or get("hostname") or inventory_name),
        cpu_cores=int(get("processor_vcpus")) if get("processor_vcpus") else None,
        memory_gb=round(float(memory_mb) / MB_PER_GB, 2) if memory_mb else None,
        storage_gb=round(storage, 2) if storage else None,
        os=distribution or None,
        ip=(get("default_ipv4") or {}).get("address") or next(iter(get("all_ipv4_addresses") or []), None),
        serial=_known(get("product_serial")),
        vendor=vendor,
        model=" ".join(p for p in (vendor, product) if p) or None,
        hypervisor=None if role is None else role == "host",
        virtualization=_known(get("virtualization_type")),
        room=_known(hostvars.get("shangyun_room")),
    )


def parse_listening(ss_output: str) -> list[Listening]:
    """Listening ports from ``ss -Hltnp`` output, one per port (first process wins)."""
    ports: dict[int, str | None] = {}
    for line in ss_output.splitlines():
        match = _SS_LINE.match(line.strip())
        if match:
            ports.setdefault(int(match["port"]), match["proc"])
    return [Listening(port=port, process=process) for port, process in sorted(ports.items())]


def gather(inventory: Path, limit: str | None = None, forks: int = 5, timeout: int = 30) -> AnsibleRun:
    """Run the fact-gathering playbook over ``inventory``; every host ends up in facts or failures."""
    if not inventory.exists():
        raise AnsibleError(f"{inventory}: no such inventory")
    run = AnsibleRun()
    found: dict[str, dict[str, Any]] = {}
    ports: dict[str, list[Listening]] = {}
    failed: dict[str, str] = {}
    hostvars: dict[str, dict[str, Any]] = {}

    def on_event(event: dict[str, Any]) -> None:
        data = event.get("event_data") or {}
        host, result = data.get("host"), data.get("res") or {}
        kind = event.get("event")
        if not host:
            return
        if kind == "runner_on_ok" and "ansible_facts" in result and data.get("task_action") in {
                "gather_facts", "ansible.builtin.gather_facts", "setup", "ansible.builtin.setup"}:
            found[host] = result["ansible_facts"]
        elif kind == "runner_on_ok" and data.get("task") == LISTENING_TASK and result.get("rc") == 0:
            ports[host] = parse_listening(str(result.get("stdout", "")))
        elif kind == "runner_on_ok" and data.get("task") == VARIABLES_TASK and isinstance(result.get("msg"), dict):
            hostvars[host] = {f"shangyun_{k}": v for k, v in result["msg"].items() if v not in (None, "")}
        elif kind in {"runner_on_unreachable", "runner_on_failed"} and data.get("task") == "Gathering Facts":
            failed.setdefault(host, ("unreachable: " if kind == "runner_on_unreachable" else "failed: ")
                              + str(result.get("msg") or "no message").strip())

    with tempfile.TemporaryDirectory(prefix="shangyun-ansible-") as private:
        try:
            result = run_playbook(PLAYBOOK, inventory, limit=limit, forks=forks, artifacts_root=Path(private),
                                  timeout=None, env={"ANSIBLE_TIMEOUT": str(timeout)}, on_raw_event=on_event)
        except DriverError as exc:
            raise AnsibleError(str(exc)) from None
        if result.status not in {"successful", "failed"} or (not found and not failed):
            raise AnsibleError(f"ansible-playbook did not run ({result.status}, rc {result.rc}): {result.stdout_tail}")
    for host, facts in sorted(found.items()):
        record = facts_from_setup(host, facts, hostvars.get(host, {}))
        run.facts.append(HostFacts(**{**record.__dict__, "listening": ports.get(host, [])}))
    run.failures = [HostFailure(host, reason) for host, reason in sorted(failed.items()) if host not in found]
    return run

