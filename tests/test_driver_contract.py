"""The runbooks' contract: every step's action and revert is a registered action, every registered action
is used, and every driver has each member of its Protocol (``drivers.protocols``) with the same parameters.
mypy checks the calls statically; this checks the pairs that only meet at run time."""

from __future__ import annotations

import inspect
from typing import Any, Protocol

import pytest

from drivers.kubernetes import KubernetesDriver
from drivers.openstack import OpenStackDriver
from drivers.protocols import CloudOps, ClusterOps, MoveOps
from inventory.models.enums import Strategy
from migration_plans.execution.actions import ACTIONS, Action
from migration_plans.execution.runbooks import RUNBOOKS, runbook

PAIRS = [(CloudOps, OpenStackDriver), (MoveOps, OpenStackDriver), (ClusterOps, KubernetesDriver)]


def _protocol_members(protocol: type) -> list[str]:
    return [name for name, value in vars(protocol).items() if callable(value) and not name.startswith("_")]


def mismatches(protocol: type, driver: type) -> list[str]:
    """Members of ``protocol`` that ``driver`` lacks or declares with other parameters."""
    wrong = []
    for name in _protocol_members(protocol):
        if not callable(getattr(driver, name, None)):
            wrong.append(f"{driver.__name__} has no {name}")
            continue
        expected = [(p.name, p.kind, p.default) for p in inspect.signature(getattr(protocol, name)).parameters.values()]
        got = [(p.name, p.kind, p.default) for p in inspect.signature(getattr(driver, name)).parameters.values()]
        if got != expected:
            wrong.append(f"{driver.__name__}.{name}{inspect.signature(getattr(driver, name))} differs from the "
                         f"protocol's {inspect.signature(getattr(protocol, name))}")
    return wrong


@pytest.mark.parametrize(("protocol", "driver"), PAIRS, ids=lambda t: t.__name__)
def test_every_driver_implements_its_protocol(protocol: type, driver: type) -> None:
    assert _protocol_members(protocol)
    assert mismatches(protocol, driver) == []


def test_the_contract_check_sees_a_missing_or_changed_method() -> None:
    class Short(Protocol):
        def wait_ready(self, namespace: str, name: str) -> None: ...
        def scale(self, name: str) -> None: ...

    class Renamed(Protocol):
        def wait_ready(self, ns: str, name: str) -> None: ...

    assert mismatches(Short, KubernetesDriver) == ["KubernetesDriver has no scale"]
    assert len(mismatches(Renamed, KubernetesDriver)) == 1


def test_every_step_holds_registered_actions_and_every_action_is_used() -> None:
    used: set[str] = set()
    for strategy, steps in RUNBOOKS.items():
        assert runbook(strategy.value) is steps
        names = [s.name for s in steps]
        assert len(names) == len(set(names)), strategy  # a step name addresses one step (approve ITEM STEP)
        for step in steps:
            for done in (step.action, step.revert):
                if done is None:
                    continue
                assert isinstance(done, Action) and ACTIONS[done.name] is done, (strategy, step.name)
                assert callable(done.run)
                used.add(done.name)
            if step.gate:
                assert step.action.driver == "gate", step.name
    assert used == set(ACTIONS)


def test_only_strategies_that_move_have_runbooks() -> None:
    assert set(RUNBOOKS) == {s for s in Strategy if s.leaves_room}
    with pytest.raises(ValueError, match="retain"):
        runbook("retain")


def _noop(ctx: Any) -> dict[str, Any]:
    return {}


def test_an_action_name_is_registered_once() -> None:
    from migration_plans.execution.actions import action

    with pytest.raises(ValueError, match="defined twice"):
        action("gate")(_noop)
