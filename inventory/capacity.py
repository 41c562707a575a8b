"""One definition of cloud utilization, used by the sample, the forecast, the metrics, the API and the
dashboard alike.

- **capacity** for allocation = physical × overcommit: vCPUs × ``cpu_ratio`` (memory and storage are not
  overcommitted);
- **allocation ratio** = allocated ÷ (physical × overcommit);
- **use ratio** = measured ÷ physical (busy cores ÷ physical vCPUs, memory and storage in use ÷ installed).

A platform's ``vcpus`` is its physical vCPUs (hardware threads); a city reporting its cloud "above 75%"
means the allocation ratio.
"""

from __future__ import annotations

from typing import Protocol

RESOURCES = ("vcpus", "memory_gb", "storage_gb")


class PlatformFigures(Protocol):
    """What the definition reads of a platform (a ``CloudPlatform`` row or a day of its history)."""

    @property
    def vcpus(self) -> int: ...
    @property
    def memory_gb(self) -> float: ...
    @property
    def storage_gb(self) -> float: ...
    @property
    def cpu_ratio(self) -> float | None: ...
    @property
    def allocated_vcpus(self) -> float | None: ...
    @property
    def allocated_memory_gb(self) -> float | None: ...
    @property
    def allocated_storage_gb(self) -> float | None: ...
    @property
    def used_vcpus(self) -> float | None: ...
    @property
    def used_memory_gb(self) -> float | None: ...
    @property
    def used_storage_gb(self) -> float | None: ...


def overcommit(cpu_ratio: float | None) -> float:
    """The vCPU overcommit ratio (1 where none is recorded)."""
    return cpu_ratio or 1.0


def physical(platform: PlatformFigures) -> dict[str, float]:
    """Installed capacity per resource."""
    return {"vcpus": float(platform.vcpus), "memory_gb": float(platform.memory_gb),
            "storage_gb": float(platform.storage_gb)}


def allocatable_vcpus(vcpus: float, cpu_ratio: float | None) -> float:
    """vCPUs that may be allocated: physical vCPUs × overcommit."""
    return vcpus * overcommit(cpu_ratio)


def allocatable(platform: PlatformFigures) -> dict[str, float]:
    """What may be allocated per resource: physical × overcommit (vCPUs only)."""
    return physical(platform) | {"vcpus": allocatable_vcpus(platform.vcpus, platform.cpu_ratio)}


def allocated(platform: PlatformFigures) -> dict[str, float | None]:
    return {"vcpus": None if platform.allocated_vcpus is None else float(platform.allocated_vcpus),
            "memory_gb": platform.allocated_memory_gb, "storage_gb": platform.allocated_storage_gb}


def used(platform: PlatformFigures) -> dict[str, float | None]:
    return {"vcpus": platform.used_vcpus, "memory_gb": platform.used_memory_gb, "storage_gb": platform.used_storage_gb}


def ratio(part: float | None, whole: float) -> float | None:
    """``part ÷ whole``, or None where either is unknown or the whole is empty."""
    return None if part is None or whole <= 0 else part / whole


def allocation_ratios(platform: PlatformFigures) -> dict[str, float | None]:
    """Allocated ÷ (physical × overcommit), per resource."""
    cap = allocatable(platform)
    return {r: ratio(v, cap[r]) for r, v in allocated(platform).items()}


def use_ratios(platform: PlatformFigures) -> dict[str, float | None]:
    """Measured ÷ physical, per resource (None where no collector measured it)."""
    cap = physical(platform)
    return {r: ratio(v, cap[r]) for r, v in used(platform).items()}


def free(platform: PlatformFigures) -> dict[str, float]:
    """Room left to allocate per resource."""
    cap = allocatable(platform)
    return {r: cap[r] - (v or 0.0) for r, v in allocated(platform).items()}


def host_allocation_ratio(allocated_vcpus: float, vcpus: int, cpu_ratio: float | None) -> float | None:
    """A host's vCPU allocation ratio, by the same definition."""
    return ratio(allocated_vcpus, allocatable_vcpus(vcpus, cpu_ratio))
