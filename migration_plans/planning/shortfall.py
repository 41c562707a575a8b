"""What expansion lets the whole programme finish, when systems wait for cloud capacity.

For each platform the waiting systems need, the deficit is their need minus what stays free once the
platform's planned expansions are in (per resource, rounded up: whole physical vCPUs, GB of memory, tenths
of a TB of storage). Re-packed with those expansions in service from wave 1, the programme finishes in
wave K. The expansions may come later than wave 1 at no cost while the re-packed programme still finishes
by wave K: a binary search over the waves 1..K finds the latest start such an expansion may land by.
Every figure comes from re-running the same packer (``waves.pack``), so what this module promises is what
``plan create --assume-expansion`` then shows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence

from migration_plans.planning.model import Expansion, PlanParams, Platform, Shortfall
from migration_plans.planning.waves import Packing, Unit, pack, wave_dates

GB_PER_TB = 1024
STORAGE_STEP_GB = GB_PER_TB / 10  # storage is asked for in tenths of a TB, as the warning prints it


def shortfalls(order: Sequence[Unit], params: PlanParams, platforms: Sequence[Platform],
               fixed: dict[int, int], packing: Packing) -> list[Shortfall]:
    """The expansion each short platform needs (see the module docstring); empty when nothing waits."""
    waiting = [u for u in order if u.id in packing.short]
    if not waiting or packing.headroom is None:
        return []
    deficits: dict[str, tuple[int, float, float]] = {}
    for platform in platforms:
        need = [sum(u.platform_need[platform.name][i] for u in waiting if platform.name in u.platform_need)
                for i in range(3)]
        if not any(need):
            continue
        free = packing.headroom.final(platform.name)
        short = [max(0.0, n - f) for n, f in zip(need, free, strict=True)]
        if any(x > 1e-9 for x in short):
            deficits[platform.name] = (math.ceil(short[0] / platform.cpu_ratio - 1e-9), math.ceil(short[1] - 1e-9),
                                       math.ceil(short[2] / STORAGE_STEP_GB - 1e-9) * STORAGE_STEP_GB)

    def with_expansions(wave: int) -> Packing:
        day = wave_dates(params, wave)[0]
        grown = [dataclasses.replace(p, expansions=(*p.expansions, Expansion(
            day, deficits[p.name][0] * p.cpu_ratio, deficits[p.name][1], deficits[p.name][2], assumed=True)))
            if p.name in deficits else p for p in platforms]
        return pack(order, params, grown, fixed)

    def finish(result: Packing) -> int | None:
        return None if result.short else max(result.wave_of.values(), default=0)

    best = finish(with_expansions(1))
    ready: int | None = None
    if best is not None:
        low, high = 1, best  # finish(with_expansions(low)) == best holds throughout
        while low < high:
            middle = (low + high + 1) // 2
            if finish(with_expansions(middle)) == best:
                low = middle
            else:
                high = middle - 1
        ready = low
    ready_by = wave_dates(params, ready)[0] if ready is not None else None
    finish_on: dt.date | None = wave_dates(params, best)[1] if best else None
    out = []
    for name, (vcpus, memory_gb, storage_gb) in sorted(deficits.items()):
        codes = tuple(sorted(c for u in waiting if name in u.platform_need for c in u.systems))
        out.append(Shortfall(name, codes, vcpus, float(memory_gb), round(storage_gb, 1), ready_by, ready,
                             best, finish_on))
    return out
