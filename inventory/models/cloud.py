"""The government cloud side: platforms (OpenStack or Kubernetes), their hosts, flavor catalogue,
instances, storage pools and volumes, and departments' capacity requests.

A platform may host a system only when ``platform.mlps_level >= system.mlps_level`` (GB/T 22239-2019).
Platforms and capacity requests are model families (``XBase`` / ``X`` / ``XPublic``) as in
``inventory.models.estate``; a platform's unit prices are kept out of its base, as room costs are.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from inventory.models.enums import (
    CapacityRequestStatus,
    HostState,
    InstanceStatus,
    NetworkZone,
    PlatformKind,
    PowerState,
    SecrecyLevel,
)


class CloudPlatformBase(SQLModel):
    name: str = Field(max_length=128, unique=True, index=True)
    kind: PlatformKind = Field(sa_type=sa.String(16))
    mlps_level: int
    vcpus: int
    memory_gb: float
    storage_gb: float
    allocated_vcpus: int | None = None
    allocated_memory_gb: float | None = None
    allocated_storage_gb: float | None = None
    cpu_ratio: float | None = None
    # Measured use (cores busy, memory and storage in use); None where no collector measured it.
    used_vcpus: float | None = None
    used_memory_gb: float | None = None
    used_storage_gb: float | None = None
    # An intranet platform's protection approval (分级保护): the highest secrecy level it may host.
    secrecy_level: SecrecyLevel | None = Field(default=None, sa_type=sa.String(16))
    # The network zone the platform serves (互联网区 / 政务外网 / 政务内网); None: not declared (政务外网 assumed).
    network_zone: NetworkZone | None = Field(default=None, sa_type=sa.String(16))


class CloudPlatformPrices(SQLModel):
    """Unit prices per month (CNY per vCPU, per GB of memory, per GB of storage); None where not given."""

    vcpu_monthly_cny: float | None = None
    memory_gb_monthly_cny: float | None = None
    storage_gb_monthly_cny: float | None = None


class CloudPlatform(CloudPlatformPrices, CloudPlatformBase, table=True):
    __tablename__ = "cloud_platform"
    id: int | None = Field(default=None, primary_key=True)


class CloudPlatformPublic(CloudPlatformBase):
    id: int
    cpu_ratio: float = Field(description="vCPU overcommit (1.0 where none is recorded)")
    allocated: dict[str, float | None]
    used: dict[str, float | None]
    allocation_ratio: dict[str, float | None] = Field(description="allocated ÷ (physical × overcommit); vCPU "
                                                      "capacity is vcpus × cpu_ratio")
    use_ratio: dict[str, float | None] = Field(description="measured ÷ physical")


class CloudHostBase(SQLModel):
    name: str = Field(max_length=128)
    vcpus: int
    memory_gb: float
    disk_gb: float
    cpu_ratio: float = 1.0
    ram_ratio: float = 1.0
    state: HostState = Field(default=HostState.UP, sa_type=sa.String(16))
    zone: str | None = Field(default=None, max_length=64)


class CloudHost(CloudHostBase, table=True):
    __tablename__ = "cloud_host"
    __table_args__ = (sa.UniqueConstraint("platform_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="cloud_platform.id", index=True, ondelete="CASCADE")


class CloudHostPublic(CloudHostBase):
    allocated_vcpus: float
    allocated_memory_gb: float
    cpu_load: float | None = Field(description="busy cores ÷ vcpus, from the instances' measured use")
    instances: int
    allocation_ratio: float | None = Field(description="allocated vCPUs ÷ (vcpus × cpu_ratio)")


class Flavor(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("platform_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="cloud_platform.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=64)
    vcpus: int
    memory_gb: float
    disk_gb: float | None = None
    monthly_cny: float | None = None


class PlatformExpansion(SQLModel, table=True):
    """Capacity a platform is due to gain on a day (扩容计划): physical vCPUs (overcommitted like the rest),
    memory and storage in GB. Declared in the survey's expansions sheet or with ``shangyun platform expand``."""

    __tablename__ = "platform_expansion"
    __table_args__ = (sa.UniqueConstraint("platform_id", "ready_on"),)
    id: int | None = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="cloud_platform.id", index=True, ondelete="CASCADE")
    ready_on: dt.date  # the day the capacity is in service
    vcpus: int = 0
    memory_gb: float = 0.0
    storage_gb: float = 0.0
    note: str | None = Field(default=None, max_length=200)


class CloudInstance(SQLModel, table=True):
    __tablename__ = "cloud_instance"
    __table_args__ = (sa.UniqueConstraint("platform_id", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="cloud_platform.id", index=True, ondelete="CASCADE")
    external_id: str = Field(max_length=128)
    name: str = Field(max_length=200)
    host_id: int | None = Field(default=None, foreign_key="cloud_host.id", ondelete="SET NULL")
    flavor_id: int | None = Field(default=None, foreign_key="flavor.id", ondelete="SET NULL")
    vcpus: int
    memory_gb: float
    disk_gb: float = 0.0
    cpu_util: float | None = None
    memory_util: float | None = None
    project: str | None = Field(default=None, max_length=128)
    system_id: int | None = Field(default=None, foreign_key="business_system.id", ondelete="SET NULL")
    status: InstanceStatus = Field(default=InstanceStatus.ACTIVE, sa_type=sa.String(32))
    power_state: PowerState | None = Field(default=None, sa_type=sa.String(16))


class StoragePool(SQLModel, table=True):
    __tablename__ = "storage_pool"
    __table_args__ = (sa.UniqueConstraint("platform_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="cloud_platform.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=128)
    capacity_gb: float | None = None  # None: the driver does not know (e.g. thin or "infinite" pools)
    backend: str | None = Field(default=None, max_length=64)


class Volume(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("pool_id", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    pool_id: int = Field(foreign_key="storage_pool.id", index=True, ondelete="CASCADE")
    external_id: str = Field(max_length=128)
    size_gb: float
    instance_id: int | None = Field(default=None, foreign_key="cloud_instance.id", ondelete="SET NULL")


class CapacityRequestBase(SQLModel):
    vcpus: int = 0
    memory_gb: float = 0.0
    storage_gb: float = 0.0
    purpose: str = Field(max_length=500)
    status: CapacityRequestStatus = Field(default=CapacityRequestStatus.PENDING, sa_type=sa.String(16))
    reason: str | None = Field(default=None, max_length=1000)
    requested_at: dt.datetime
    decided_at: dt.datetime | None = None
    mlps_level: int | None = None  # of the system the capacity is for (named, or as stated)
    classified: bool | None = None


class CapacityRequest(CapacityRequestBase, table=True):
    __tablename__ = "capacity_request"
    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    platform_id: int = Field(foreign_key="cloud_platform.id", index=True)
    system_id: int | None = Field(default=None, foreign_key="business_system.id", ondelete="SET NULL")


class CapacityRequestPublic(CapacityRequestBase):
    id: int
    department_code: str
    platform: str
    system_code: str | None = Field(None, description="the system it is for, when one was named")
    reason: str | None = Field(description="the answer, Chinese / English")
    reason_zh: str | None
    reason_en: str | None
    due: dt.date = Field(description="five working days after the request")
    overdue: bool


class NamespaceUsage(SQLModel, table=True):
    """A Kubernetes namespace's pods, resource requests and measured use (metrics API), at collection time."""

    __tablename__ = "namespace_usage"
    platform_id: int = Field(foreign_key="cloud_platform.id", primary_key=True, ondelete="CASCADE")
    namespace: str = Field(primary_key=True, max_length=253)
    pods: int
    cpu_request: float  # cores
    memory_request_gb: float
    cpu_usage: float | None = None  # cores; None when the metrics API is not installed
    memory_usage_gb: float | None = None
    collected_at: dt.datetime


class PlatformDailyBase(SQLModel):
    vcpus: int
    cpu_ratio: float = 1.0
    memory_gb: float
    storage_gb: float
    allocated_vcpus: float | None = None
    allocated_memory_gb: float | None = None
    allocated_storage_gb: float | None = None
    used_vcpus: float | None = None
    used_memory_gb: float | None = None
    used_storage_gb: float | None = None


class PlatformDaily(PlatformDailyBase, table=True):
    """A platform's capacity and allocation as recorded on one day (by imports and cloud collectors)."""

    __tablename__ = "platform_daily"
    platform_id: int = Field(foreign_key="cloud_platform.id", primary_key=True, ondelete="CASCADE")
    day: dt.date = Field(primary_key=True)


class PlatformDailyPublic(PlatformDailyBase):
    day: dt.date
    vcpus_capacity: float = Field(description="physical vCPUs × overcommit")
    allocation_ratio: dict[str, float | None] = Field(description="allocated ÷ (physical × overcommit)")
    use_ratio: dict[str, float | None] = Field(description="measured ÷ physical")
