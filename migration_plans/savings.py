"""The savings timeline for finance: per wave, rooms closed, annual room cost stopped, cloud cost
added and the net — all as annual run-rates after that wave.

A room closed after wave k stops costing from wave k+1; finance's own rule (a room closed in fiscal
year N is paid through year N) is applied by the fiscal-year report. Cloud cost is each migrated
system's target price × 12 from the wave it moves in.
"""

from __future__ import annotations

from dataclasses import dataclass

from migration_plans.model import MigrationPlan, Strategy


@dataclass(frozen=True)
class WaveSavings:
    wave: int
    rooms_closed: tuple[str, ...]
    room_cost_stopped_cny: float  # cumulative annual room cost stopped after this wave
    cloud_cost_added_cny: float  # cumulative annual cloud cost of systems moved so far
    net_cny: float


def savings_timeline(plan: MigrationPlan) -> list[WaveSavings]:
    """Cumulative annual figures after each wave (wave 0: rooms with nothing to move)."""
    closed_by: dict[int, list[str]] = {}
    cost_by_room = {r.room: r.annual_cny for r in plan.rooms}
    for room in plan.rooms:
        if room.closes_after_wave is not None:
            closed_by.setdefault(room.closes_after_wave, []).append(room.room)
    cloud_by_wave: dict[int, float] = {}
    for code, wave in plan.wave_of.items():
        decision = plan.decisions[code]
        if decision.target is not None and decision.strategy in (Strategy.REHOST, Strategy.REPLATFORM):
            cloud_by_wave[wave] = cloud_by_wave.get(wave, 0.0) + decision.target.monthly_cny * 12
    stopped = cloud = 0.0
    timeline = []
    for wave in range(0, len(plan.waves) + 1):
        rooms = tuple(sorted(closed_by.get(wave, [])))
        stopped += sum(cost_by_room[r] for r in rooms)
        cloud += cloud_by_wave.get(wave, 0.0)
        if wave == 0 and not rooms:
            continue
        timeline.append(WaveSavings(wave, rooms, round(stopped, 2), round(cloud, 2), round(stopped - cloud, 2)))
    return timeline
