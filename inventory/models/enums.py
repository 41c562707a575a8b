"""Lifecycle states and choice sets of the inventory, as named constants.

RoomStatus
    ``active`` — in use and paid for; ``decommissioning`` — its last system has left or is leaving,
    closure under way; ``closed`` — switched off, finance stops paying its costs from the next year.
ServerStatus
    ``active`` — running in its room; ``retired`` — switched off after migration or retirement.
SystemStatus
    ``running`` — in production; ``zombie`` — running but unused (evidence in the planner);
    ``migrating`` — a migration run is under way; ``migrated`` — on the cloud; ``retired`` — switched off.
PlatformKind
    ``openstack`` (VMs, the ``rehost`` target) or ``kubernetes`` (containers, ``replatform``).
DependencySource
    ``declared`` in a survey, or ``observed`` from collected connections.
CapacityRequestStatus
    ``pending`` → ``approved`` | ``queued`` | ``rejected``.
"""

from __future__ import annotations

from enum import StrEnum


class RoomStatus(StrEnum):
    ACTIVE = "active"
    DECOMMISSIONING = "decommissioning"
    CLOSED = "closed"


class ServerStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class SystemStatus(StrEnum):
    RUNNING = "running"
    ZOMBIE = "zombie"
    MIGRATING = "migrating"
    MIGRATED = "migrated"
    RETIRED = "retired"


class PlatformKind(StrEnum):
    OPENSTACK = "openstack"
    KUBERNETES = "kubernetes"


class DependencySource(StrEnum):
    DECLARED = "declared"
    OBSERVED = "observed"


class CapacityRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    QUEUED = "queued"
    REJECTED = "rejected"


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    IMPORT = "import"
    VERIFY = "verify"  # functional verification of a migrated system, with every check's result
