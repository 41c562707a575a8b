"""SQLModel tables of the system of record; importing this package registers them all."""

from inventory.models.audit import AuditLog
from inventory.models.cloud import (
    CapacityRequest,
    CloudHost,
    CloudInstance,
    CloudPlatform,
    Flavor,
    NamespaceUsage,
    PlatformDaily,
    PlatformExpansion,
    StoragePool,
    Volume,
)
from inventory.models.enums import (
    AuditAction,
    CapacityRequestStatus,
    DependencySource,
    PlatformKind,
    RoomStatus,
    ServerStatus,
    SystemStatus,
)
from inventory.models.estate import (
    BusinessSystem,
    Department,
    Dependency,
    MlpsAssessment,
    Room,
    Server,
    SystemServer,
)
from inventory.models.observed import ObservedConnection, ObservedListener
from inventory.models.plans import ItemStatus, Plan, PlanItem, PlanStatus, PlanWave, WaveStatus
from inventory.models.provenance import ServerObservation
from inventory.models.rebalancing import JobRun, ProposalEvent, ProposalStatus, RebalanceProposal
from inventory.models.runs import ItemState, MigrationRun, RunEvent, RunItem, RunStatus
from inventory.models.users import ApiToken, LoginFailure, Role, User
from inventory.models.utilization import ImportStageSample, UtilizationDaily, UtilizationSample

__all__ = [
    "ApiToken",
    "AuditAction",
    "AuditLog",
    "BusinessSystem",
    "CapacityRequest",
    "CapacityRequestStatus",
    "CloudHost",
    "CloudInstance",
    "CloudPlatform",
    "Department",
    "Dependency",
    "DependencySource",
    "Flavor",
    "ImportStageSample",
    "ItemState",
    "ItemStatus",
    "JobRun",
    "LoginFailure",
    "MigrationRun",
    "MlpsAssessment",
    "NamespaceUsage",
    "ObservedConnection",
    "ObservedListener",
    "Plan",
    "PlanItem",
    "PlanStatus",
    "PlanWave",
    "PlatformDaily",
    "PlatformExpansion",
    "PlatformKind",
    "ProposalEvent",
    "ProposalStatus",
    "RebalanceProposal",
    "Role",
    "Room",
    "RoomStatus",
    "RunEvent",
    "RunItem",
    "RunStatus",
    "Server",
    "ServerObservation",
    "ServerStatus",
    "StoragePool",
    "SystemServer",
    "SystemStatus",
    "User",
    "UtilizationDaily",
    "UtilizationSample",
    "Volume",
    "WaveStatus",
]
