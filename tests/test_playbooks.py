"""The execution playbooks for real through the Ansible driver (ansible-runner), against this machine:
with ``ansible_connection=local`` and over SSH to an sshd the test starts on a loopback port. A
"source" directory stands in for a source server's data and a "target" directory for the new one."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import pytest

from drivers.ansible import masked, run_playbook

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}


def _ssh(sshd: dict[str, str]) -> dict[str, Any]:
    return {"ansible_host": "127.0.0.1", "ansible_port": int(sshd["port"]), "ansible_user": getpass.getuser(),
            "ansible_ssh_private_key_file": sshd["key"], "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={sshd['known_hosts']} -o StrictHostKeyChecking=yes"}


def _source(tmp_path: Path) -> Path:
    data = tmp_path / "source" / "data"
    (data / "nested").mkdir(parents=True)
    (data / "ledger.csv").write_text("id,amount\n1,100\n", encoding="utf-8")
    (data / "nested" / "blob.bin").write_bytes(bytes(range(256)) * 64)
    return data


def _inventory(connection: dict[str, Any], **variables: Any) -> dict[str, Any]:
    return {"all": {"hosts": {"src01": connection | variables}}}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(params=["local", "ssh"])
def connection(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "local":
        return LOCAL
    sshd: dict[str, str] = request.getfixturevalue("sshd")
    return _ssh(sshd)


def test_preflight_sync_cutover_verify_rollback(tmp_path: Path, connection: dict[str, Any]) -> None:
    data = _source(tmp_path)
    target = tmp_path / "target"
    address = tmp_path / "service.address"
    variables = {"shangyun_data_paths": [str(data)], "shangyun_target": str(target),
                 "shangyun_address_file": str(address), "shangyun_source_address": "10.1.2.3",
                 "shangyun_target_address": "sy-s00001"}
    inventory = _inventory(connection, **variables)
    artifacts = tmp_path / "artifacts"

    assert run_playbook("preflight", inventory, artifacts_root=artifacts).succeeded
    first = run_playbook("sync", inventory, artifacts_root=artifacts)
    assert first.succeeded and first.hosts["src01"].changed >= 1
    assert _tree(target / "data") == _tree(data)
    again = run_playbook("sync", inventory, artifacts_root=artifacts)
    assert again.succeeded and again.hosts["src01"].changed == 0  # idempotent: nothing left to copy

    (data / "ledger.csv").write_text("id,amount\n1,100\n2,250\n", encoding="utf-8")  # written after the sync
    assert run_playbook("cutover", inventory, artifacts_root=artifacts).succeeded  # final delta sync
    assert _tree(target / "data") == _tree(data)
    assert address.read_text() == "address=sy-s00001\n"
    verified = run_playbook("verify", inventory, artifacts_root=artifacts)
    assert verified.succeeded, verified.failure()
    assert Path(verified.artifacts, "job_events").is_dir()

    assert run_playbook("rollback", inventory, artifacts_root=artifacts).succeeded
    assert address.read_text() == "address=10.1.2.3\n"


def test_verify_fails_on_different_data_and_failed_command(tmp_path: Path) -> None:
    data = _source(tmp_path)
    target = tmp_path / "target"
    inventory = _inventory(LOCAL, shangyun_data_paths=[str(data)], shangyun_target=str(target))
    assert run_playbook("sync", inventory, artifacts_root=tmp_path / "a").succeeded
    (target / "data" / "ledger.csv").write_text("tampered\n", encoding="utf-8")
    result = run_playbook("verify", inventory, artifacts_root=tmp_path / "a")
    assert not result.succeeded and "target data differs from the source" in result.failure()

    failing = _inventory(LOCAL, shangyun_commands=["test -e /definitely/not/here"], shangyun_compare_data=False)
    result = run_playbook("verify", failing, artifacts_root=tmp_path / "b")
    assert result.status == "failed" and result.rc != 0 and "src01 failed" in result.failure()


def test_preflight_reports_the_missing_path_and_unreachable_hosts(tmp_path: Path) -> None:
    inventory = {"all": {"hosts": {
        "src01": LOCAL | {"shangyun_data_paths": [str(tmp_path / "nope")]},
        "gone": {"ansible_host": "127.0.0.1", "ansible_port": 9, "ansible_connection": "ssh",
                 "shangyun_connect_timeout": 2}}}}
    result = run_playbook("preflight", inventory, artifacts_root=tmp_path / "a", timeout=120)
    assert not result.succeeded
    assert f"data path {tmp_path / 'nope'} does not exist" in result.hosts["src01"].message  # type: ignore[operator]
    assert result.hosts["gone"].failed and "Connection refused" in (result.hosts["gone"].message or "")


def test_decommission_on_a_stand_in_writes_its_marker(tmp_path: Path) -> None:
    marker = tmp_path / "DECOMMISSIONED"
    inventory = _inventory(LOCAL, shangyun_power_off=False, shangyun_marker=str(marker))
    assert run_playbook("decommission", inventory, artifacts_root=tmp_path / "a").succeeded
    assert marker.read_text() == "decommissioned by Shangyun\n"


def test_secret_variables_are_masked_for_events() -> None:
    shown = masked({"ansible_user": "ops", "db_password": "hunter2", "api_token": "t0k", "shangyun_target": "/x"})
    assert shown == {"ansible_user": "ops", "db_password": "***", "api_token": "***", "shangyun_target": "/x"}
