"""The layers of ARCHITECTURE.md hold: ``api`` → ``scheduler`` / ``migration_plans`` → ``drivers`` /
``collectors`` → ``inventory``. Every import in every module is read (function-local ones too, since the
CLI imports lazily) and checked against what its package may use."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What each package may import besides itself (written from ARCHITECTURE.md, not from the code).
ALLOWED = {
    "inventory": set(),
    "collectors": {"inventory"},
    "drivers": {"inventory"},
    "migration_plans": {"drivers", "collectors", "inventory"},
    "scheduler": {"migration_plans", "drivers", "collectors", "inventory"},
    "api": {"scheduler", "migration_plans", "drivers", "collectors", "inventory"},
}
# Peers on one layer may use each other in one direction only: the fact gatherers run playbooks
# through the one ansible-runner wrapper in ``drivers``.
PEERS = {"collectors": {"drivers"}}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_every_module_imports_only_the_layers_below_it() -> None:
    wrong = []
    for package, allowed in ALLOWED.items():
        ours = set(ALLOWED) - {package}
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for name in sorted(_imports(path) & ours):
                if name not in allowed | PEERS.get(package, set()):
                    wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from migration_plans.store import resolve\n    return resolve\n")
    assert _imports(module) == {"migration_plans"}


def test_ansible_runner_is_wrapped_once() -> None:
    """Issue #14 named two ansible-runner wrappers; fact gathering now runs through the driver's."""
    users = {str(path.relative_to(ROOT)) for package in ALLOWED for path in (ROOT / package).rglob("*.py")
             if "ansible_runner" in _imports(path)}
    assert users == {"drivers/ansible.py"}
