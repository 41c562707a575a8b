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
Strategy
    a plan item's migration strategy (DOMAIN.md's "R"s): ``rehost`` onto an OpenStack VM,
    ``replatform`` into Kubernetes, ``retire`` (switch off), ``retain`` (stays; classified always),
    ``relocate`` (hardware hosted in the cloud data centre).
HostState
    a cloud host ``up`` (takes instances), ``down`` (is emptied, takes nothing) or ``unknown``.
InstanceStatus
    a cloud instance's status as the cloud reports it (Nova's, lower-cased); ``unknown`` otherwise.
SampleSource
    who measured a utilization sample or reported a server fact: the ``survey``, the ``agent``,
    ``ansible``, ``openstack`` or ``kubernetes``.
JobStatus
    a scheduler job run: ``running`` → ``ok`` | ``failed``.
EventPhase, EventStatus
    a run event's phase (``before``/``after`` a step, ``revert_before``/``revert_after``, ``gate``,
    ``approve``, ``refuse``) and outcome.
RebalanceGoal
    ``balance``, ``consolidate`` or ``storage`` (FORMATS.md §3).
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
    INTRANET = "intranet"  # the government intranet (政务内网): classified systems only, moved by people

    @property
    def is_cloud(self) -> bool:
        """Whether non-classified systems may be placed on it (the intranet is not the cloud)."""
        return self is not PlatformKind.INTRANET


class NetworkZone(StrEnum):
    """The network a system serves from, and the zone a platform sits in (issue 16 §2)."""

    INTERNET = "internet"  # 互联网 (a platform's 互联网区)
    EXTRANET = "extranet"  # 政务外网
    PRIVATE = "private"  # a department's 专网: folds into the extranet, a system's network only
    INTRANET = "intranet"  # 政务内网: classified systems only

    @property
    def zh(self) -> str:
        return {"internet": "互联网区", "extranet": "政务外网", "private": "专网", "intranet": "政务内网"}[self.value]


class SecrecyLevel(StrEnum):
    """A classified system's secrecy level, and the highest a protected (分级保护) intranet platform is
    approved for: 秘密 < 机密 < 绝密."""

    CONFIDENTIAL = "confidential"  # 秘密
    SECRET = "secret"  # 机密
    TOP_SECRET = "top_secret"  # 绝密

    @property
    def rank(self) -> int:
        return list(SecrecyLevel).index(self) + 1

    @property
    def zh(self) -> str:
        return {"confidential": "秘密", "secret": "机密", "top_secret": "绝密"}[self.value]


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
    LOGIN_FAILED = "login_failed"  # a wrong username or password (the name tried, never the password)


class Strategy(StrEnum):
    REHOST = "rehost"  # as-is onto an OpenStack VM
    REPLATFORM = "replatform"  # into Kubernetes (containerized systems)
    RETIRE = "retire"  # zombie: switched off, data archived
    RETAIN = "retain"  # stays where it is (classified systems with no intranet platform to go to)
    RELOCATE = "relocate"  # hardware moved into the cloud data centre (托管)
    INTRANET = "intranet"  # classified: moved onto the government intranet (政务内网) by people, gate by gate

    @property
    def platform_kind(self) -> PlatformKind | None:
        """The kind of cloud platform this strategy moves a system onto; None when it does not."""
        return _CLOUD_KIND.get(self)

    @property
    def leaves_room(self) -> bool:
        """Whether the system's servers leave their room, so that the room can close."""
        return self is not Strategy.RETAIN

    @classmethod
    def to_cloud(cls) -> tuple[Strategy, ...]:
        """The strategies that place a system on a cloud platform (and so need sizing and capacity)."""
        return tuple(s for s in cls if s.platform_kind is not None)


_CLOUD_KIND = {Strategy.REHOST: PlatformKind.OPENSTACK, Strategy.REPLATFORM: PlatformKind.KUBERNETES}


class HostState(StrEnum):
    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, reported: str | None) -> HostState:
        """The state a cloud reported, or ``unknown`` for one outside the set."""
        try:
            return cls((reported or "").lower())
        except ValueError:
            return cls.UNKNOWN


class InstanceStatus(StrEnum):
    ACTIVE = "active"
    BUILD = "build"
    SHUTOFF = "shutoff"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    SHELVED = "shelved"
    SHELVED_OFFLOADED = "shelved_offloaded"
    MIGRATING = "migrating"
    RESIZE = "resize"
    VERIFY_RESIZE = "verify_resize"
    REBOOT = "reboot"
    HARD_REBOOT = "hard_reboot"
    RESCUE = "rescue"
    ERROR = "error"
    DELETED = "deleted"
    SOFT_DELETED = "soft_deleted"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, reported: str | None) -> InstanceStatus:
        """The status a cloud reported, or ``unknown`` for one outside the set."""
        try:
            return cls((reported or "").lower())
        except ValueError:
            return cls.UNKNOWN


class PowerState(StrEnum):
    """What the hypervisor says of an instance, apart from the cloud's status: an ``active`` instance
    whose hypervisor lost it has no power state, and only a running one can be live-migrated."""

    RUNNING = "running"
    PAUSED = "paused"
    SHUTDOWN = "shutdown"
    CRASHED = "crashed"
    SUSPENDED = "suspended"
    NO_STATE = "no_state"


class SampleSource(StrEnum):
    SURVEY = "survey"
    AGENT = "agent"
    ANSIBLE = "ansible"
    OPENSTACK = "openstack"
    KUBERNETES = "kubernetes"


class JobStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


class EventPhase(StrEnum):
    BEFORE = "before"
    AFTER = "after"
    REVERT_BEFORE = "revert_before"
    REVERT_AFTER = "revert_after"
    GATE = "gate"
    APPROVE = "approve"
    REFUSE = "refuse"


class EventStatus(StrEnum):
    STARTED = "started"
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"
    WAITING = "waiting"
    REFUSED = "refused"
    APPROVED = "approved"


class RebalanceGoal(StrEnum):
    BALANCE = "balance"
    CONSOLIDATE = "consolidate"
    STORAGE = "storage"
