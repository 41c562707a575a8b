"""Secrets in migration runs (issue 15 §6), with a real ansible-runner playbook against localhost.

Attacks reproduced: ``ansible_become_pass`` and ``ansible_ssh_pass`` were printed in clear by
``migrate run --dry-run`` (the masking looked for ``password``, not ``pass``), stored in clear in
``migration_run.site`` and written by ansible-runner into the run's ``inventory/hosts.json``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from drivers.ansible import masked, run_playbook
from drivers.errors import DriverError
from migration_plans.execution.site import SiteError, load_site

BECOME = "Tr0ub4dor&3-become"
TOKEN = "sy-token-9f2c1e7a55d04b1b"
OS_PASSWORD = "os-admin-pw-31d9"


def test_names_with_pass_secret_token_or_key_are_masked() -> None:
    shown = masked({"ansible_become_pass": BECOME, "ansible_ssh_pass": BECOME, "vault_key": "k", "api_token": TOKEN,
                    "db_secret": "s", "ansible_user": "ops"})
    assert shown == {"ansible_become_pass": "***", "ansible_ssh_pass": "***", "vault_key": "***",
                     "api_token": "***", "db_secret": "***", "ansible_user": "ops"}


def test_a_site_profile_names_secrets_and_never_holds_them(tmp_path: Path) -> None:
    literal = tmp_path / "literal.yaml"
    literal.write_text(f"connection: ssh\nansible_vars: {{ansible_user: ops, ansible_become_pass: '{BECOME}'}}\n",
                       encoding="utf-8")
    with pytest.raises(SiteError) as refused:
        load_site(literal)
    assert "ansible_become_pass" in str(refused.value) and "{env: VARIABLE}" in str(refused.value)
    assert BECOME not in str(refused.value)
    named = tmp_path / "named.yaml"
    named.write_text("connection: ssh\nansible_vars: {ansible_user: ops, ansible_ssh_private_key_file: /k/id,\n"
                     "  ansible_host_key_checking: false, ansible_become_pass: {env: SY_BECOME}}\n", encoding="utf-8")
    stored = load_site(named).model_dump(mode="json")  # what a run record keeps
    assert stored["ansible_vars"]["ansible_become_pass"] == {"env": "SY_BECOME"}


def test_secrets_reach_ansible_but_no_file_it_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real playbook sees each secret (its SHA-256 comes back through set_fact); no byte of any file
    under the run's artifacts holds one, nor a secret of the worker's own environment (ansible-runner
    writes the environment it hands Ansible into each run's ``command`` file)."""
    monkeypatch.setenv("SY_TEST_BECOME", BECOME)
    monkeypatch.setenv("OS_PASSWORD", OS_PASSWORD)  # in the worker's environment, as openstacksdk may read it
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    playbook = tmp_path / "see.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.set_fact:\n"
                        "        seen_become: \"{{ ansible_become_pass | hash('sha256') }}\"\n"
                        "        seen_token: \"{{ api_token | hash('sha256') }}\"\n", encoding="utf-8")
    inventory = {"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "ansible_become_pass": {"env": "SY_TEST_BECOME"}}}}}
    artifacts = tmp_path / "runs"
    result = run_playbook(playbook, inventory, extravars={"api_token": {"file": str(token_file)}},
                          artifacts_root=artifacts, timeout=120)
    assert result.succeeded, result.stdout_tail
    assert result.reports["localhost"] == {"seen_become": hashlib.sha256(BECOME.encode()).hexdigest(),
                                           "seen_token": hashlib.sha256(TOKEN.encode()).hexdigest()}
    written = [p for p in artifacts.rglob("*") if p.is_file()]
    assert any(p.name == "hosts.json" for p in written)  # the inventory ansible-runner wrote
    for path in written:
        content = path.read_bytes()
        assert all(secret.encode() not in content for secret in (BECOME, TOKEN, OS_PASSWORD)), path

    missing = {"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                               "ansible_become_pass": {"env": "SY_TEST_UNSET"}}}}}
    with pytest.raises(DriverError, match="ansible_become_pass: environment variable SY_TEST_UNSET is not set"):
        run_playbook(playbook, missing, artifacts_root=tmp_path / "again", timeout=60)
