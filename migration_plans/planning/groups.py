"""Move groups: systems joined by tight dependencies move in the same wave.

Groups are the connected components of the tight-dependency graph among the systems that move
(any strategy but ``retain``); a dependency cycle is simply one component. Loose dependencies are
reported per system, not enforced. A tight dependency between a moving and a retained system cannot
be honoured by any wave; both sides are flagged so the teams can plan the link (e.g. an intranet
gateway) before cutover.
"""

from __future__ import annotations

from collections.abc import Iterable

from inventory.models.enums import Strategy
from migration_plans.planning.model import Decision, Dependency


def _find(parent: dict[str, str], x: str) -> str:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def move_groups(decisions: dict[str, Decision], dependencies: Iterable[Dependency]
                ) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Group number per moving system (1.. by smallest member), and loose dependencies per system."""
    movers = {code for code, d in decisions.items() if d.strategy is not Strategy.RETAIN}
    parent = {code: code for code in movers}
    loose: dict[str, list[str]] = {}
    for dep in dependencies:
        if dep.system not in decisions or dep.depends_on not in decisions:
            continue
        if not dep.tight:
            loose.setdefault(dep.system, []).append(dep.depends_on)
            continue
        if dep.system in movers and dep.depends_on in movers:
            a, b = _find(parent, dep.system), _find(parent, dep.depends_on)
            if a != b:
                parent[max(a, b)] = min(a, b)
            continue
        mover, kept = (dep.system, dep.depends_on) if dep.system in movers else (dep.depends_on, dep.system)
        if mover in movers:
            decisions[mover].flags.append(f"tightly coupled with retained {kept}: plan the link before cutover")
            decisions[kept].flags.append(f"tightly coupled with {mover}, which moves")
    roots = sorted({_find(parent, code) for code in movers})
    number = {root: i for i, root in enumerate(roots, start=1)}
    return {code: number[_find(parent, code)] for code in movers}, {k: sorted(v) for k, v in loose.items()}
