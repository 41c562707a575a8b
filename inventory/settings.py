"""Shangyun's one typed configuration, read from the environment (prefix ``SHANGYUN_``).

Every figure that DOMAIN.md calls an assumption lives here as a default so an estate can set its
own values (``SHANGYUN_DEFAULT_PUE=1.8``); per-room values in the inventory always win over these.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inventory.models.enums import RebalanceGoal

DEFAULT_DATABASE_URL = "sqlite:///./shangyun.db"
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"


class CostDefaults(BaseSettings):
    """Placeholders for room costs when a room's own figures are missing (DOMAIN.md, cost model)."""

    model_config = SettingsConfigDict(env_prefix="SHANGYUN_DEFAULT_", extra="ignore")

    pue: float = Field(2.0, description="PUE of a small department room (assumed)")
    tariff_cny_kwh: float = Field(0.7, description="electricity tariff, CNY per kWh (assumed)")
    server_max_power_w: float = Field(450.0, description="P_max of a 2U server in W (assumed)")
    idle_power_fraction: float = Field(0.65, description="P_idle as a fraction of P_max")
    cpu_util: float = Field(0.10, description="CPU use assumed when a server has no samples")
    rent_cny_m2: float = Field(1200.0, description="rent per m² per year (placeholder)")
    m2_per_rack: float = Field(3.0, description="room area per rack when the area is unknown (placeholder)")
    servers_per_rack: float = Field(10.0, description="racks estimated from servers when unknown")
    maintenance_cny_rack: float = Field(25000.0, description="UPS, cooling, fire upkeep per rack per year")
    staff_fte: float = Field(0.5, description="staff per room, full-time equivalents (placeholder)")
    staff_cny_fte: float = Field(150000.0, description="cost of one FTE per year (placeholder)")
    lines_cny: float = Field(60000.0, description="leased lines per room per year (placeholder)")
    server_refresh_cny_year: float = Field(10000.0, ge=0, description="hardware refresh avoided per server-year "
                                           "past depreciation (assumed: a 2U server ≈ 60,000 CNY over 6 years)")
    hosting_cny_u_year: float = Field(2000.0, ge=0, description="hosting of relocated hardware in the cloud data "
                                      "centre per rack unit per year (assumed)")
    server_rack_units: int = Field(2, ge=1, description="rack units per relocated server (a 2U server, assumed)")


class Settings(BaseSettings):
    """Process-wide settings; ``get_settings()`` returns the cached instance."""

    model_config = SettingsConfigDict(env_prefix="SHANGYUN_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    environment: str = Field("development", description="development | production")
    ingest_token: SecretStr | None = Field(None, description="bearer token agents present to POST /api/v1/collect")
    sample_retention_days: int = Field(400, description="raw utilization samples kept this many days")
    timezone: str = Field(
        "Asia/Shanghai", description="zone of survey times given without an offset; days of the rollups"
    )
    secret_key: SecretStr = Field(SecretStr(DEVELOPMENT_SECRET),
                                  description="keys the hashes of API tokens; must be set outside development")
    login_hours: float = Field(12.0, gt=0, description="how long a dashboard login lasts")
    max_upload_mb: float = Field(50.0, gt=0, description="largest workbook the API accepts")
    today: dt.date | None = Field(None, description="pins the business day (YYYY-MM-DD) for reproducible runs "
                                  "and tests; unset, it is today in `timezone`")

    @model_validator(mode="after")
    def _no_default_secret_outside_development(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if self.environment != "development" and (secret == DEVELOPMENT_SECRET or len(secret) < 32):
            raise ValueError("SHANGYUN_SECRET_KEY must be set to a random string of at least 32 characters when "
                             f"SHANGYUN_ENVIRONMENT={self.environment!r} (the default is for development only)")
        return self


class SchedulerSettings(BaseSettings):
    """The scheduler's jobs (``scheduler.jobs``): when each runs, and what collection and audits cover.

    A schedule is a crontab line in ``timezone`` (``"*/15 * * * *"``), ``"every 30s"`` / ``"every 10m"``
    / ``"every 2h"``, or empty to switch the job off."""

    model_config = SettingsConfigDict(env_prefix="SHANGYUN_SCHEDULER_", extra="ignore")

    in_serve: bool = Field(True, description="`shangyun serve` runs the scheduler in-process")
    poll_seconds: float = Field(15.0, gt=0, description="how often a standby instance tries to become active")
    collect: str = Field("*/15 * * * *", description="collect the configured clouds")
    rollups: str = Field("20 0 * * *", description="rebuild yesterday's daily rollups, prune old raw samples")
    rebalance_audit: str = Field("5 * * * *", description="plan a rebalance per platform; store it as a proposal")
    forecast: str = Field("40 0 * * *", description="record each platform's day; forecast capacity")
    room_flags: str = Field("0 1 * * 1", description="rank the rooms to close next")
    requests: str = Field("*/10 * * * *", description="decide queued capacity requests again; count overdue ones")
    openstack_clouds: list[str] = Field(default_factory=list, description="clouds.yaml clouds to collect")
    kubernetes_contexts: list[str] = Field(default_factory=list, description="kubeconfig contexts to collect")
    rebalance_goal: RebalanceGoal = Field(RebalanceGoal.BALANCE, description="goal of the rebalance audit")
    rebalance_max_moves: int = Field(20, ge=1, description="at most this many moves per audit proposal")
    rebalance_auto: bool = Field(False, description="apply audit proposals without approval (platforms whose "
                                 "name is one of openstack_clouds)")
    quota_cloud: str | None = Field(None, description="clouds.yaml cloud whose quotas approved requests raise")


@lru_cache
def get_scheduler_settings() -> SchedulerSettings:
    """Return the scheduler settings read once from the environment."""
    return SchedulerSettings()


@lru_cache
def get_settings() -> Settings:
    """Return the settings read once from the environment."""
    return Settings()


@lru_cache
def get_cost_defaults() -> CostDefaults:
    """Return the room cost placeholders read once from the environment."""
    return CostDefaults()
