"""Agentless collection for real: ansible-runner's setup against this machine, once through
``ansible_connection=local`` and once over SSH to an OpenSSH sshd the test starts on a loopback port
with generated host and user keys. Unreachable hosts are reported, never fatal."""

from __future__ import annotations

import getpass
import subprocess
from pathlib import Path

import psutil
import pytest
from sqlmodel import Session, col, select

from collectors.ansible_facts import facts_from_setup, parse_listening
from inventory.db import create_db_engine
from inventory.models import ObservedListener, Server, ServerObservation
from tests.conftest import run_cli

LOCAL = 'ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"'
DEAD_HOST = "dead ansible_host=127.0.0.1 ansible_port=9 ansible_connection=ssh"


def _servers(db_url: str) -> dict[str, Server]:
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        found = {s.hostname: s for s in session.exec(select(Server))}
    engine.dispose()
    return found


def _observations(db_url: str, hostname: str) -> dict[tuple[str, str], object]:
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        rows = session.exec(select(ServerObservation).join(Server, col(Server.id) == ServerObservation.server_id)
                            .where(Server.hostname == hostname)).all()
        found = {(r.field, str(r.source)): r.value for r in rows}
    engine.dispose()
    return found


def _assert_facts_of_this_machine(server: Server) -> None:
    assert server.cpu_cores == psutil.cpu_count(logical=True)
    assert server.memory_gb == pytest.approx(psutil.virtual_memory().total / 1024**3, rel=0.02)
    assert server.os and server.storage_gb and server.storage_gb > 0
    assert server.virtualization  # this test machine is a guest of some kind; Ansible says which


def test_local_facts_upsert_servers_and_report_unreachable(db_url: str, tiny_estate: Path, tmp_path: Path) -> None:
    assert run_cli("import", str(tiny_estate), db_url=db_url).returncode == 0
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(f"[all]\nthis-box {LOCAL} shangyun_hostname=this-box shangyun_room=R0001\n{DEAD_HOST}\n"
                         f"orphan {LOCAL} shangyun_hostname=orphan-box\n")
    result = run_cli("collect", "ansible", "-i", str(inventory), db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "created this-box" in result.stdout
    assert "dead: unreachable" in result.stderr.replace("\n", " ")
    assert "orphan-box: not in the inventory; set the host variable shangyun_room" in result.stderr.replace("\n", " ")
    servers = _servers(db_url)
    assert "orphan-box" not in servers
    _assert_facts_of_this_machine(servers["this-box"])
    assert _observations(db_url, "this-box")[("cpu_cores", "ansible")] == psutil.cpu_count(logical=True)

    engine = create_db_engine(db_url)
    with Session(engine) as session:
        ports = set(session.exec(select(ObservedListener.port).where(
            ObservedListener.server_id == servers["this-box"].id)))
    engine.dispose()
    listening = {c.laddr.port for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN and c.laddr}
    assert ports and ports <= listening

    again = run_cli("collect", "ansible", "-i", str(inventory), "--limit", "this-box", db_url=db_url)
    assert again.returncode == 0 and "unchanged this-box" in again.stdout, again.stdout + again.stderr


def test_ssh_facts_reconcile_with_the_survey(db_url: str, tiny_estate: Path, tmp_path: Path,
                                             sshd: dict[str, str]) -> None:
    """Over a real SSH connection; the survey declared wrong memory, so a conflict is listed."""
    assert run_cli("import", str(tiny_estate), db_url=db_url).returncode == 0
    survey = tmp_path / "survey"
    survey.mkdir()
    (survey / "servers.csv").write_text("主机名,所在机房,CPU核数,内存,操作系统\nssh-box,R0002,96,2T,CentOS 7\n",
                                        encoding="utf-8")
    assert run_cli("import", str(survey), db_url=db_url).returncode == 0
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[all]\nssh-box shangyun_hostname=ssh-box "
        f"ansible_host=127.0.0.1 ansible_port={sshd['port']} ansible_user={getpass.getuser()} "
        f"ansible_ssh_private_key_file={sshd['key']} ansible_python_interpreter=/usr/bin/python3 "
        f"ansible_ssh_common_args='-o UserKnownHostsFile={sshd['known_hosts']} -o StrictHostKeyChecking=yes'\n")
    result = run_cli("collect", "ansible", "-i", str(inventory), db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "updated ssh-box" in result.stdout, result.stdout + result.stderr
    server = _servers(db_url)["ssh-box"]
    _assert_facts_of_this_machine(server)
    assert server.room_id is not None

    conflicts = run_cli("conflicts", "--json", db_url=db_url)
    import json

    by_field = {c["field"]: c for c in json.loads(conflicts.stdout) if c["hostname"] == "ssh-box"}
    assert by_field.keys() >= {"cpu_cores", "memory_gb", "os"}
    assert by_field["memory_gb"]["chosen"]["source"] == "ansible"
    assert [o["value"] for o in by_field["memory_gb"]["others"]] == [2048.0]

    # A later survey saying the same wrong thing does not undo the measured value, and says why.
    again = run_cli("import", str(survey), db_url=db_url)
    assert again.returncode == 0 and "kept the measured value" in again.stderr + again.stdout
    assert _servers(db_url)["ssh-box"].memory_gb == server.memory_gb


def test_wrong_ssh_key_is_reported_not_fatal(db_url: str, tmp_path: Path, sshd: dict[str, str]) -> None:
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        f"[all]\nlocked ansible_host=127.0.0.1 ansible_port={sshd['port']} ansible_user={getpass.getuser()} "
        f"ansible_ssh_private_key_file={other} "
        f"ansible_ssh_common_args='-o UserKnownHostsFile={sshd['known_hosts']} -o StrictHostKeyChecking=yes'\n")
    result = run_cli("collect", "ansible", "-i", str(inventory), db_url=db_url)
    assert result.returncode == 0
    assert "locked: unreachable" in result.stderr.replace("\n", " ") and "Permission denied" in result.stderr
    assert "0 host(s) stored, 1 not collected" in result.stdout
    assert _servers(db_url) == {}


def test_missing_inventory_is_a_clear_error(db_url: str, tmp_path: Path) -> None:
    result = run_cli("collect", "ansible", "-i", str(tmp_path / "nope.ini"), db_url=db_url)
    assert result.returncode == 2 and "nope.ini: no such inventory" in result.stderr


def test_setup_facts_map_to_inventory_units() -> None:
    facts = {"ansible_hostname": "web01", "ansible_processor_vcpus": 8, "ansible_memtotal_mb": 15884,
             "ansible_mounts": [{"mount": "/", "device": "/dev/sda1", "size_total": 100 * 1024**3},
                                {"mount": "/srv", "device": "/dev/sdb1", "size_total": 400 * 1024**3},
                                {"mount": "/bind", "device": "/dev/sdb1", "size_total": 400 * 1024**3},
                                {"mount": "/mnt/nfs", "device": "nas:/export", "size_total": 9 * 1024**4}],
             "ansible_distribution": "CentOS", "ansible_distribution_version": "7.9",
             "ansible_default_ipv4": {"address": "10.1.2.3"}, "ansible_product_serial": "NA",
             "ansible_system_vendor": "Inspur", "ansible_product_name": "NF5280M5",
             "ansible_virtualization_role": "host", "ansible_virtualization_type": "kvm"}
    host = facts_from_setup("web01.example", facts, {"shangyun_room": "R0003"})
    assert (host.hostname, host.cpu_cores, host.memory_gb, host.storage_gb) == ("web01", 8, 15.51, 500.0)
    assert (host.os, host.ip, host.serial, host.model) == ("CentOS 7.9", "10.1.2.3", None, "Inspur NF5280M5")
    assert host.hypervisor is True and host.virtualization == "kvm" and host.room == "R0003"


def test_ss_output_parses_to_listening_ports() -> None:
    output = ('LISTEN 0 244 127.0.0.1:5432 0.0.0.0:* users:(("postgres",pid=88,fd=6))\n'
              'LISTEN 0 511 [::]:80 [::]:* users:(("nginx",pid=9,fd=7),("nginx",pid=10,fd=7))\n'
              'LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=9,fd=6))\n'
              "LISTEN 0 128 *:22 *:*\n")
    assert [(p.port, p.process) for p in parse_listening(output)] == [(22, None), (80, "nginx"), (5432, "postgres")]
