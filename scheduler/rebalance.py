"""The rebalancer: a pure function from a cluster snapshot (FORMATS.md §2) to ordered moves (§3).

Goals
    ``balance`` — lower the hottest hosts' CPU load toward the zone's mean with as few live migrations
    as needed: repeatedly move, from the hottest host, the instance whose load best evens it with the
    coolest host that can take it; then trade into cool hosts whose allocation is full (a cold
    instance out to a host with room, a warm one from a host above the mean in).
    ``consolidate`` — free whole hosts: hosts not ``up`` are emptied first; then hosts are emptied in
    order of what they can carry (smallest first; with ``max_moves``, fewest instances first), each
    instance going to the active host whose room left after taking it is smallest — the sum of the
    squared free shares of vCPU allocation, RAM and CPU load, so that instances go where their
    shape matches the room (a busy instance to a host with load to spare, a quiet one to an
    overcommitted host); a host is freed only if all of it fits elsewhere. Three passes. Before and after,
    every host above ``max_load`` hands its busiest instances to the tightest active host that takes them
    (an idle one if none does), or is named with why it cannot.
    ``storage`` — even out pool use with volume migrations, fullest pool to emptiest.

Every move is checked against the state at that point of the sequence, so every intermediate state
fits: allocations within ``vcpus × cpu_ratio``, ``memory_mb × ram_ratio`` and ``disk_gb``; an instance
never leaves its zone; nothing goes to a host that is not ``up``; and no move raises a host's CPU
load (busy cores / vcpus) above ``max_load``. Only running instances move (status ``active``, power
state running): the others stay where they are and keep their room, so a host holding one is never
emptied. ``max_moves`` caps the migrations; they are spent where they free the most hosts
(consolidate) or cut the most imbalance (balance). Infeasible goals
return no moves and a reason instead of raising. An instance the search moved more than once (out of a
host emptied later, say) moves once, straight to where it ends, when an order of those direct moves fits
at every step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from inventory.errors import InvalidInputError
from inventory.models.enums import RebalanceGoal
from scheduler.snapshot import Cluster

BALANCE_TARGET_STDDEV = 0.05
EPS = 1e-9


@dataclass
class Move:
    kind: str  # live_migrate | volume_migrate
    item: str
    source: str
    target: str

    def as_json(self) -> dict[str, str]:
        key = "instance" if self.kind == "live_migrate" else "volume"
        return {"kind": self.kind, key: self.item, "from": self.source, "to": self.target}


@dataclass
class Result:
    goal: str
    moves: list[Move]
    before: dict[str, float]
    after: dict[str, float]
    solve_seconds: float
    reasons: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """FORMATS.md §3 (plus ``reasons`` when something could not be done)."""
        out: dict[str, Any] = {"goal": self.goal, "solve_seconds": round(self.solve_seconds, 3),
                               "moves": [m.as_json() for m in self.moves], "before": self.before, "after": self.after}
        if self.reasons:
            out["reasons"] = self.reasons
        return out


class _State:
    """Allocations and load per host as moves are applied."""

    def __init__(self, c: Cluster, max_load: float) -> None:
        self.c = c
        self.max_load = max_load
        n = len(c.host_names)
        self.host = c.inst_host.copy()
        self.cpu = np.bincount(self.host, c.inst_vcpus, n).astype(np.float64)
        self.ram = np.bincount(self.host, c.inst_ram, n).astype(np.float64)
        self.disk = np.bincount(self.host, c.inst_disk, n).astype(np.float64)
        self.busy = np.bincount(self.host, c.inst_load, n).astype(np.float64)
        self.count = np.bincount(self.host, minlength=n).astype(np.int64)
        self.on_host: list[set[int]] = [set() for _ in range(n)]
        for i, h in enumerate(self.host):
            self.on_host[h].add(i)

    def fits(self, i: int, hosts: np.ndarray) -> np.ndarray:
        """Which of ``hosts`` can take instance ``i`` now (capacity, load limit, state)."""
        c = self.c
        ok: np.ndarray = (c.host_up[hosts]
                & (self.cpu[hosts] + c.inst_vcpus[i] <= c.cap_cpu[hosts] + EPS)
                & (self.ram[hosts] + c.inst_ram[i] <= c.cap_ram[hosts] + EPS)
                & (self.disk[hosts] + c.inst_disk[i] <= c.cap_disk[hosts] + EPS)
                & ((self.busy[hosts] + c.inst_load[i]) / c.host_vcpus[hosts] <= self.max_load + EPS))
        return ok

    def move(self, i: int, target: int) -> Move:
        c = self.c
        source = int(self.host[i])
        for array, amount in ((self.cpu, c.inst_vcpus[i]), (self.ram, c.inst_ram[i]), (self.disk, c.inst_disk[i]),
                              (self.busy, c.inst_load[i])):
            array[source] -= amount
            array[target] += amount
        self.count[source] -= 1
        self.count[target] += 1
        self.on_host[source].discard(i)
        self.on_host[target].add(i)
        self.host[i] = target
        return Move("live_migrate", c.instance_ids[i], c.host_names[source], c.host_names[target])


def host_figures(c: Cluster, host_of: np.ndarray) -> dict[str, float]:
    """Active hosts, the highest host CPU load and its standard deviation over hosts that are up."""
    n = len(c.host_names)
    busy = np.bincount(host_of, c.inst_load, n) / c.host_vcpus
    count = np.bincount(host_of, minlength=n)
    up = busy[c.host_up] if c.host_up.any() else busy
    return {"active_hosts": int((count > 0).sum()), "max_host_cpu": round(float(busy.max(initial=0.0)), 4),
            "stddev_host_cpu": round(float(up.std()) if up.size else 0.0, 4)}


def pool_figures(c: Cluster, pool_of: np.ndarray) -> dict[str, float]:
    used = np.bincount(pool_of, c.volume_size, len(c.pool_names)) / c.pool_capacity if c.pool_names else np.zeros(0)
    return {"max_pool_use": round(float(used.max(initial=0.0)), 4),
            "stddev_pool_use": round(float(used.std()) if used.size else 0.0, 4)}


GoalPlan = Callable[[Cluster, int, float], tuple[list[Move], list[str], dict[str, float], dict[str, float]]]
GOALS: dict[RebalanceGoal, GoalPlan] = {}


def goal_plan(goal: RebalanceGoal) -> Callable[[GoalPlan], GoalPlan]:
    """Register the planner of ``goal``: ``(cluster, max moves, max load) → (moves, reasons, before, after)``."""
    def register(plan: GoalPlan) -> GoalPlan:
        GOALS[goal] = plan
        return plan
    return register


def parse_goal(name: str) -> RebalanceGoal:
    """The registered goal called ``name``; InvalidInputError naming the choices otherwise."""
    try:
        goal = RebalanceGoal(name)
    except ValueError:
        goal = None
    if goal is None or goal not in GOALS:
        raise InvalidInputError(f"unknown goal {name!r}: {', '.join(GOALS)}", field="goal")
    return goal


def rebalance(c: Cluster, goal: RebalanceGoal | str, *, max_moves: int | None = None,
              max_load: float = 0.8) -> Result:
    """Plan the moves for ``goal``; see the module docstring."""
    started = time.perf_counter()
    chosen = parse_goal(goal)
    budget = max_moves if max_moves is not None else 10**9
    moves, reasons, before, after = GOALS[chosen](c, budget, max_load)
    return Result(chosen, moves, before, after, time.perf_counter() - started, reasons)


@goal_plan(RebalanceGoal.STORAGE)
def _storage_goal(c: Cluster, budget: int, max_load: float) -> tuple[list[Move], list[str], dict[str, float],
                                                                         dict[str, float]]:
    volume_moves, notes, pool_of = _storage(c, budget)
    return (volume_moves, notes, pool_figures(c, c.volume_pool) | host_figures(c, c.inst_host),
            pool_figures(c, pool_of) | host_figures(c, c.inst_host))


def _compute_goal(then: Callable[[_State, list[Move], int], list[str]]) -> GoalPlan:
    """A compute goal: evacuate hosts that are not up, then ``then``; before/after host figures."""
    def plan(c: Cluster, budget: int, max_load: float) -> tuple[list[Move], list[str], dict[str, float],
                                                                 dict[str, float]]:
        state = _State(c, max_load)
        moves: list[Move] = []
        reasons = _evacuate(state, moves, budget)
        reasons += then(state, moves, budget)
        moves = _direct(c, max_load, moves, state.host)
        if not moves and not reasons:
            reasons.append("nothing to gain: no move improves the goal within the constraints")
        return moves, reasons, host_figures(c, c.inst_host), host_figures(c, state.host)
    return plan


def _direct(c: Cluster, max_load: float, moves: list[Move], final: np.ndarray) -> list[Move]:
    """The same end state in fewer moves: an instance the plan moved several times (out of a host that was
    itself emptied later, say) moves once, straight to where it ends. Made in an order where every step
    fits, from a fresh state; if no such order is found, the plan's own moves are kept."""
    index = {name: k for k, name in enumerate(c.instance_ids)}
    first_moved: dict[int, int] = {}
    for step, move in enumerate(moves):
        first_moved.setdefault(index[move.item], step)
    pending = [i for i in sorted(first_moved, key=first_moved.__getitem__) if final[i] != c.inst_host[i]]
    if len(pending) == len(moves):
        return moves
    state, direct = _State(c, max_load), []
    while pending:
        waiting = []
        for i in pending:
            if state.fits(i, np.array([final[i]]))[0]:
                direct.append(state.move(i, int(final[i])))
            else:
                waiting.append(i)
        if len(waiting) == len(pending):
            return moves
        pending = waiting
    return direct


def _zone_hosts(c: Cluster) -> dict[int, np.ndarray]:
    return {z: np.flatnonzero(c.host_zone == z) for z in range(len(c.zones))}


def _best_fit(state: _State, i: int, candidates: np.ndarray) -> int | None:
    """The candidate with the least room left after taking ``i`` (squared free shares), or None."""
    ok = candidates[state.fits(i, candidates)]
    if ok.size == 0:
        return None
    c = state.c
    left = [1 - (state.cpu[ok] + c.inst_vcpus[i]) / c.cap_cpu[ok],
            1 - (state.ram[ok] + c.inst_ram[i]) / c.cap_ram[ok],
            1 - (state.busy[ok] + c.inst_load[i]) / c.host_vcpus[ok] / max(state.max_load, EPS)]
    residual = left[0] ** 2 + left[1] ** 2 + left[2] ** 2
    return int(ok[int(np.argmin(residual))])


def _size(c: Cluster, i: int) -> float:
    return float(c.inst_vcpus[i] + c.inst_ram[i] / 4096)


def _evacuate(state: _State, moves: list[Move], budget: int) -> list[str]:
    """Empty every host that is not up (they must receive nothing and hold nothing)."""
    c = state.c
    zones = _zone_hosts(c)
    reasons: list[str] = []
    for h in np.flatnonzero(~c.host_up):
        for i in sorted(state.on_host[h], key=lambda i: -_size(c, i)):
            if not c.inst_movable[i]:
                reasons.append(f"{c.instance_ids[i]} on {c.host_names[h]} (not up) is not running: "
                               "only a running instance can be live-migrated")
                continue
            if len(moves) >= budget:
                return [*reasons, f"move limit reached while emptying {c.host_names[h]} (not up)"]
            targets = zones[int(c.host_zone[h])]
            active = targets[(state.count[targets] > 0) & (targets != h)]
            target = _best_fit(state, i, active)
            if target is None:
                target = _best_fit(state, i, targets[targets != h])
            if target is None:
                reasons.append(f"{c.instance_ids[i]} on {c.host_names[h]} (not up) fits on no host of its zone")
                continue
            moves.append(state.move(i, target))
    return reasons


def _consolidate(state: _State, moves: list[Move], budget: int) -> list[str]:
    c = state.c
    reasons: list[str] = []
    for zone_hosts in _zone_hosts(c).values():  # first, so the hot hosts' load is packed with the rest
        _relieve_hot_hosts(state, moves, budget, zone_hosts)
    for zone_hosts in _zone_hosts(c).values():
        capacity = _effective_capacity(state, zone_hosts)
        # Without a move limit, empty the hosts that can carry least (keeping the big, overcommittable
        # ones); with a limit, the ones that cost fewest moves first.
        order = sorted((int(h) for h in zone_hosts if c.host_up[h] and state.count[h] > 0),
                       key=partial(_emptying_order, state, capacity, budget < 10**9))
        freed: set[int] = set()
        for attempt in range(3):  # later passes use the room earlier moves made
            if attempt == 2:  # the last tries the hosts that ended least used first
                order = sorted((h for h in order if state.count[h] > 0), key=partial(_fill, state))
            for h in order:
                if state.count[h] > 0 and h not in freed and len(moves) + state.count[h] <= budget:
                    _try_to_empty(state, h, zone_hosts, freed, moves)
    if not moves:
        reasons.append("no host can be emptied: its instances fit nowhere else within capacity and max load")
    for zone_hosts in _zone_hosts(c).values():
        reasons += _relieve_hot_hosts(state, moves, budget, zone_hosts)
    return reasons


def _relieve_hot_hosts(state: _State, moves: list[Move], budget: int, zone_hosts: np.ndarray) -> list[str]:
    """Bring every host of the zone above the load limit under it: its busiest instance that fits goes to
    the tightest active host, else to an idle one; a host that cannot be relieved is named, with why."""
    c = state.c
    reasons = []
    for h in zone_hosts[c.host_up[zone_hosts]]:
        while state.busy[h] / c.host_vcpus[h] > state.max_load + EPS:
            others = zone_hosts[(zone_hosts != h) & c.host_up[zone_hosts]]
            active = others[state.count[others] > 0]
            step = None
            if len(moves) < budget:
                for i in sorted((i for i in state.on_host[h] if c.inst_movable[i]), key=lambda i: -c.inst_load[i]):
                    target = _best_fit(state, i, active)
                    target = target if target is not None else _best_fit(state, i, others)
                    if target is not None:
                        step = (i, target)
                        break
            if step is None:
                why = "the move limit is reached" if len(moves) >= budget else \
                    "none of its running instances fits on another host of its zone within capacity and max load"
                reasons.append(f"{c.host_names[h]} stays at {state.busy[h] / c.host_vcpus[h]:.0%} CPU load: {why}")
                break
            moves.append(state.move(*step))
    return reasons


def _try_to_empty(state: _State, h: int, zone_hosts: np.ndarray, freed: set[int], moves: list[Move]) -> None:
    """Move all of host ``h``'s instances to the other active hosts of its zone, or none of them."""
    c = state.c
    if not c.inst_movable[list(state.on_host[h])].all():
        return  # an instance that is not running cannot leave, so the host cannot be emptied
    targets = np.array([g for g in zone_hosts if g != h and g not in freed and state.count[g] > 0], dtype=np.int64)
    tentative: list[tuple[int, int]] = []
    for i in sorted(state.on_host[h], key=lambda i: -_size(c, i)):
        target = _best_fit(state, i, targets)
        if target is None:
            break
        tentative.append((i, int(state.host[i])))
        state.move(i, target)
    if state.count[h] == 0:
        freed.add(h)
        moves.extend(Move("live_migrate", c.instance_ids[i], c.host_names[h], c.host_names[state.host[i]])
                     for i, _ in tentative)
    else:
        for i, source in reversed(tentative):
            state.move(i, source)


def _fill(state: _State, h: int) -> float:
    """How full host ``h`` is by its tightest resource (CPU load counted against the load limit)."""
    c = state.c
    return float(max(state.cpu[h] / c.cap_cpu[h], state.ram[h] / c.cap_ram[h],
                     state.busy[h] / c.host_vcpus[h] / max(state.max_load, EPS)))


def _emptying_order(state: _State, capacity: dict[int, float], limited: bool, h: int) -> tuple[float, float]:
    moves, carry = float(state.count[h]), capacity[h]
    return (moves, carry) if limited else (carry, moves)


def _effective_capacity(state: _State, hosts: np.ndarray) -> dict[int, float]:
    """How many of the zone's average vCPUs each host can carry, by its tightest resource."""
    c = state.c
    members = np.isin(state.host, hosts)
    vcpus = max(float(c.inst_vcpus[members].sum()), EPS)
    per_vcpu = [float(c.inst_ram[members].sum()) / vcpus, float(c.inst_load[members].sum()) / vcpus,
                float(c.inst_disk[members].sum()) / vcpus]
    out = {}
    for h in hosts:
        limits = [c.cap_cpu[h], c.cap_ram[h] / max(per_vcpu[0], EPS),
                  c.host_vcpus[h] * state.max_load / max(per_vcpu[1], EPS), c.cap_disk[h] / max(per_vcpu[2], EPS)]
        out[int(h)] = float(min(limits))
    return out


def _balance(state: _State, moves: list[Move], budget: int) -> list[str]:
    """Per zone, hot hosts hand instances to the coolest hosts with room until near the zone's mean."""
    c = state.c
    reasons: list[str] = []
    for zone_hosts in _zone_hosts(c).values():
        hosts = zone_hosts[c.host_up[zone_hosts]]
        if hosts.size < 2:
            continue
        for _ in range(8):  # passes: a later pass uses the room earlier ones made
            loads = state.busy[hosts] / c.host_vcpus[hosts]
            mean = float(loads.mean())
            ceiling = min(mean + BALANCE_TARGET_STDDEV / 2, state.max_load)
            if loads.std() <= BALANCE_TARGET_STDDEV and loads.max() <= state.max_load + EPS:
                break
            moved = False
            for hot in hosts[np.argsort(-loads)]:
                while len(moves) < budget and state.busy[hot] / c.host_vcpus[hot] > ceiling:
                    move = _best_balancing_move(state, int(hot), hosts, ceiling)
                    if move is None:
                        break
                    moves.append(state.move(*move))
                    moved = True
                if len(moves) >= budget:
                    return reasons
            if not moved:
                break
        if len(moves) < budget:
            _swap_into_full_hosts(state, moves, budget, hosts)
    return reasons


def _swap_into_full_hosts(state: _State, moves: list[Move], budget: int, hosts: np.ndarray) -> None:
    """Cool hosts whose allocation is full cannot take load by a move. Trade instead, in two live
    migrations: a cold instance of the cool host goes to a host with room (staying under the ceiling),
    then a warm instance of a host above the mean takes its place, which stays within the band.
    Each step is a checked move."""
    c = state.c
    band = BALANCE_TARGET_STDDEV / 2
    for _ in range(8):
        loads = state.busy[hosts] / c.host_vcpus[hosts]
        mean = float(loads.mean())
        ceiling = min(mean + band, state.max_load)
        if loads.std() <= BALANCE_TARGET_STDDEV * 0.8:
            return
        hot_hosts = hosts[loads > mean]  # above the mean: may give a warm instance and stay in the band
        cool_hosts = hosts[loads < mean - band]
        if hot_hosts.size == 0 or cool_hosts.size == 0:
            return
        donors = np.flatnonzero(np.isin(state.host, hot_hosts) & (c.inst_load > 0) & c.inst_movable)
        traded = False
        for g in cool_hosts[np.argsort(state.busy[cool_hosts] / c.host_vcpus[cool_hosts])]:
            if len(moves) + 2 > budget:
                return
            if _trade(state, moves, int(g), donors, hosts, mean, ceiling):
                traded = True
                donors = donors[state.busy[state.host[donors]] / c.host_vcpus[state.host[donors]] > mean]
        if not traded:
            return


def _trade(state: _State, moves: list[Move], g: int, donors: np.ndarray, hosts: np.ndarray, mean: float,
           ceiling: float) -> bool:
    """One trade for cool host ``g`` (see ``_swap_into_full_hosts``); whether it was made."""
    c = state.c
    if donors.size == 0:
        return False
    want = (mean - state.busy[g] / c.host_vcpus[g]) * c.host_vcpus[g]  # busy cores g should gain
    others = hosts[hosts != g]
    for b in sorted((i for i in state.on_host[g] if c.inst_movable[i]), key=lambda i: float(c.inst_load[i]))[:4]:
        room_cpu = c.cap_cpu[g] - state.cpu[g] + c.inst_vcpus[b]
        room_ram = c.cap_ram[g] - state.ram[g] + c.inst_ram[b]
        room_disk = c.cap_disk[g] - state.disk[g] + c.inst_disk[b]
        gain = c.inst_load[donors] - c.inst_load[b]
        donor_host = state.host[donors]
        after_donor = (state.busy[donor_host] - c.inst_load[donors]) / c.host_vcpus[donor_host]
        ok = ((c.inst_vcpus[donors] <= room_cpu + EPS) & (c.inst_ram[donors] <= room_ram + EPS)
              & (c.inst_disk[donors] <= room_disk + EPS) & (gain > EPS)
              & ((state.busy[g] + gain) / c.host_vcpus[g] <= ceiling + EPS)
              & (after_donor >= mean - BALANCE_TARGET_STDDEV / 2))
        candidates = donors[ok]
        if candidates.size == 0:
            continue
        a = int(candidates[int(np.argmin(np.abs(c.inst_load[candidates] - c.inst_load[b] - want)))])
        buffer = others[state.fits(b, others)]
        buffer = buffer[(state.busy[buffer] + c.inst_load[b]) / c.host_vcpus[buffer] <= ceiling + EPS]
        buffer = buffer[buffer != state.host[a]]
        if buffer.size == 0:
            return False
        k = int(buffer[int(np.argmin(state.busy[buffer] / c.host_vcpus[buffer]))])
        moves.append(state.move(b, k))
        if not state.fits(a, np.array([g]))[0]:  # cannot happen by construction; undo rather than break a rule
            moves.pop()
            state.move(b, g)
            continue
        moves.append(state.move(a, g))
        return True
    return False


def _best_balancing_move(state: _State, hot: int, hosts: np.ndarray, ceiling: float) -> tuple[int, int] | None:
    """An instance of ``hot`` and one of the coolest hosts with room that takes it without going above
    ``ceiling``, lowering the pair's peak; the instance that brings ``hot`` closest to the ceiling."""
    c = state.c
    instances = np.fromiter((i for i in state.on_host[hot] if c.inst_movable[i]), dtype=np.int64)
    if instances.size == 0:
        return None
    load_hot = state.busy[hot] / c.host_vcpus[hot]
    others = hosts[hosts != hot]
    room = (state.cpu[others] < c.cap_cpu[others] - EPS) & (state.ram[others] < c.cap_ram[others] - EPS)
    others = others[room]
    if others.size == 0:
        return None
    loads = state.busy[others] / c.host_vcpus[others]
    k = min(32, others.size - 1)
    cool = others[np.argpartition(loads, k)[: k + 1]] if others.size > 32 else others
    cool = cool[np.argsort(state.busy[cool] / c.host_vcpus[cool])]
    for g in cool:
        new_g = (state.busy[g] + c.inst_load[instances]) / c.host_vcpus[g]
        new_hot = (load_hot * c.host_vcpus[hot] - c.inst_load[instances]) / c.host_vcpus[hot]
        useful = (new_g <= ceiling + EPS) & (np.maximum(new_g, new_hot) < load_hot - EPS) & (c.inst_load[instances] > 0)
        for j in np.flatnonzero(useful)[np.argsort(np.abs(new_hot[useful] - ceiling))]:
            i = int(instances[j])
            if state.fits(i, np.array([g]))[0]:
                return i, int(g)
    return None


def _storage(c: Cluster, budget: int) -> tuple[list[Move], list[str], np.ndarray]:
    pool_of = c.volume_pool.copy()
    if len(c.pool_names) < 2:
        return [], ["fewer than two storage pools: nothing to even out"], pool_of
    used = np.bincount(pool_of, c.volume_size, len(c.pool_names)).astype(np.float64)
    moves: list[Move] = []
    stuck: set[int] = set()
    while len(moves) < budget:
        share = used / c.pool_capacity
        if share.std() <= BALANCE_TARGET_STDDEV:
            break
        order = [int(p) for p in np.argsort(-share) if int(p) not in stuck]
        if not order:
            break
        full, empty = order[0], int(np.argmin(share))
        if full == empty:
            break
        gap = (used[full] * c.pool_capacity[empty] - used[empty] * c.pool_capacity[full]) / (
            c.pool_capacity[full] + c.pool_capacity[empty])
        candidates = np.flatnonzero((pool_of == full) & (c.volume_size > 0)
                                    & (used[empty] + c.volume_size <= c.pool_capacity[empty]))
        peak_now = share[full]
        if candidates.size:
            new_full = (used[full] - c.volume_size[candidates]) / c.pool_capacity[full]
            new_empty = (used[empty] + c.volume_size[candidates]) / c.pool_capacity[empty]
            peak = np.maximum(new_full, new_empty)
            k = int(np.argmin(np.abs(c.volume_size[candidates] - gap) + (peak >= peak_now) * 1e18))
            if peak[k] < peak_now:
                v = int(candidates[k])
                used[full] -= c.volume_size[v]
                used[empty] += c.volume_size[v]
                pool_of[v] = empty
                moves.append(Move("volume_migrate", c.volume_ids[v], c.pool_names[full], c.pool_names[empty]))
                stuck.clear()
                continue
        stuck.add(full)
    reasons = [] if moves else ["no volume move lowers the fullest pool's use"]
    return moves, reasons, pool_of


def replay(c: Cluster, moves: list[dict[str, str]], max_load: float) -> list[str]:
    """Check a move list step by step, independently of the planner; returns the violations."""
    host_index = {n: k for k, n in enumerate(c.host_names)}
    inst_index = {n: k for k, n in enumerate(c.instance_ids)}
    host = [int(h) for h in c.inst_host]
    n = len(c.host_names)
    cpu, ram, disk, busy = ([0.0] * n for _ in range(4))
    for i, h in enumerate(host):
        cpu[h] += float(c.inst_vcpus[i])
        ram[h] += float(c.inst_ram[i])
        disk[h] += float(c.inst_disk[i])
        busy[h] += float(c.inst_load[i])
    problems = []
    for step, move in enumerate(moves):
        if move["kind"] != "live_migrate":
            continue
        i, target = inst_index[move["instance"]], host_index[move["to"]]
        if c.host_names[host[i]] != move["from"]:
            problems.append(f"move {step}: {move['instance']} is not on {move['from']}")
        if not c.inst_movable[i]:
            problems.append(f"move {step}: {move['instance']} is not running, so it cannot be live-migrated")
        if c.host_zone[target] != c.host_zone[host[i]] or not c.host_up[target]:
            problems.append(f"move {step}: {move['to']} is in another zone or not up")
        source = host[i]
        for array, amount in ((cpu, c.inst_vcpus[i]), (ram, c.inst_ram[i]), (disk, c.inst_disk[i]),
                              (busy, c.inst_load[i])):
            array[source] -= float(amount)
            array[target] += float(amount)
        host[i] = target
        if (cpu[target] > c.cap_cpu[target] + 1e-6 or ram[target] > c.cap_ram[target] + 1e-6
                or disk[target] > c.cap_disk[target] + 1e-6):
            problems.append(f"move {step}: {move['to']} over capacity")
        if busy[target] / c.host_vcpus[target] > max_load + 1e-6:
            problems.append(f"move {step}: {move['to']} above max load")
    return problems


GOALS[RebalanceGoal.CONSOLIDATE] = _compute_goal(_consolidate)
GOALS[RebalanceGoal.BALANCE] = _compute_goal(_balance)
