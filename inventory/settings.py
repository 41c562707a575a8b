"""Shangyun's one typed configuration, read from the environment (prefix ``SHANGYUN_``).

This module is the only one that reads (or, for child processes, writes) the environment. Every figure
that DOMAIN.md calls an assumption lives here as a default so an estate can set its own values
(``SHANGYUN_DEFAULT_PUE=1.8``); per-room values in the inventory always win over these.

Outside development (``SHANGYUN_ENVIRONMENT`` other than ``development``) the secrets must be real: the
secret key and a set ingest token are refused when they are placeholders (``REPLACE-ME``, ``changeme``),
one repeated character, fewer than 32 characters or fewer than 10 distinct ones, and an empty ingest
token is refused rather than read as "no token".
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inventory.models.enums import RebalanceGoal

DEFAULT_DATABASE_URL = "sqlite:///./shangyun.db"
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"
PLACEHOLDERS = ("replace-me", "replace_me", "replaceme", "changeme", "change-me", "placeholder", "example")
MIN_SECRET_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 10


def placeholder_problem(secret: str) -> str | None:
    """Why ``secret`` is not a real secret (a placeholder, too short, too uniform), or None."""
    folded = secret.strip().lower()
    if any(marker in folded for marker in PLACEHOLDERS):
        return "is a placeholder"
    if len(set(secret)) == 1:
        return "is one repeated character"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(secret)) < MIN_DISTINCT_CHARACTERS:
        return f"has fewer than {MIN_DISTINCT_CHARACTERS} distinct characters"
    return None


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
    asset_transfer_max_age_years: float = Field(8.0, gt=0, description="a closing room's server past "
                                                "depreciation but younger than this is transferred, older ones "
                                                "scrapped (assumed)")
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
    calendar_file: str | None = Field(None, description="CSV of date,holiday|workday: a year's public holidays "
                                      "and make-up working days the calendar library does not know yet")
    secret_key: SecretStr = Field(SecretStr(DEVELOPMENT_SECRET),
                                  description="keys the hashes of API tokens; must be set outside development")
    login_hours: float = Field(12.0, gt=0, description="how long a dashboard login lasts")
    password_hash_concurrency: int = Field(2, ge=1, le=64, description="Argon2 hashes at once (64 MiB each)")
    login_free_failures: int = Field(3, ge=1, description="failed logins for one username before backoff")
    login_free_failures_per_address: int = Field(20, ge=1, description="failed logins from one address "
                                                 "before backoff")
    login_max_delay_s: float = Field(900.0, gt=0, description="the longest a throttled login must wait")
    max_upload_mb: float = Field(50.0, gt=0, description="largest workbook the API accepts")
    sqlite_busy_timeout_s: float = Field(30.0, gt=0, le=600, description="how long a SQLite writer waits for "
                                         "another's lock before giving up (the API then answers 503)")
    max_sheet_rows: int = Field(2_000_000, gt=0, description="rows a survey sheet may hold (more is refused)")
    max_sample_rows: int = Field(50_000_000, gt=0, description="rows the samples sheet or samples.csv may hold; "
                                 "it is streamed, so this bounds an import's time, not its memory")
    max_workbook_unpacked_mb: float = Field(1024.0, gt=0, description="an .xlsx workbook's size once unzipped")
    max_workbook_members: int = Field(1000, gt=0, description="files inside an .xlsx workbook")
    today: dt.date | None = Field(None, description="pins the business day (YYYY-MM-DD) for reproducible runs "
                                  "and tests; unset, it is today in `timezone`")

    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="auto: JSON lines unless the output is a terminal; json; text")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    access_log: bool = Field(False, description="`serve` logs every request (latency is in /metrics either way)")
    playbooks_dir: Path | None = Field(None, description="the playbooks the Ansible driver runs (default: the "
                                       "checkout's playbooks/); an installed copy names its own")
    openstack_config: Path | None = Field(
        None, validation_alias=AliasChoices("SHANGYUN_OPENSTACK_CONFIG", "OS_CLIENT_CONFIG_FILE"),
        description="the clouds.yaml to read (openstacksdk's OS_CLIENT_CONFIG_FILE is honoured too); unset, "
                    "openstacksdk's default places")
    prometheus_multiproc_dir: Path | None = Field(
        None, validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="prometheus-client's directory for several worker processes' metrics")

    @model_validator(mode="after")
    def _real_secrets_outside_development(self) -> Settings:
        if self.environment == "development":
            if self.ingest_token is not None and not self.ingest_token.get_secret_value():
                self.ingest_token = None  # an empty token switches ingest off; it never matches "Bearer "
            return self
        secret = self.secret_key.get_secret_value()
        problem = "is the development default" if secret == DEVELOPMENT_SECRET else placeholder_problem(secret)
        if problem:
            raise ValueError(f"SHANGYUN_SECRET_KEY must be set to a random string of at least {MIN_SECRET_LENGTH} "
                             f"characters when SHANGYUN_ENVIRONMENT={self.environment!r}: it {problem}")
        if self.ingest_token is not None:
            token = self.ingest_token.get_secret_value()
            problem = "is empty" if not token else placeholder_problem(token)
            if problem:
                raise ValueError(f"SHANGYUN_INGEST_TOKEN {problem} (SHANGYUN_ENVIRONMENT={self.environment!r}); "
                                 "leave it unset to switch agent ingest off")
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
    backup: str = Field("", description="back the database up to backup_dir (off unless set, e.g. '30 2 * * *')")
    backup_dir: Path | None = Field(None, description="folder the backup job writes shangyun-<UTC time>.sqlite to")
    backup_keep: int = Field(7, ge=1, le=10_000, description="backups the job keeps in backup_dir; older ones "
                             "are deleted after a new one is complete")
    openstack_clouds: list[str] = Field(default_factory=list, description="clouds.yaml clouds to collect")
    kubernetes_contexts: list[str] = Field(default_factory=list, description="kubeconfig contexts to collect")
    rebalance_goal: RebalanceGoal = Field(RebalanceGoal.BALANCE, description="goal of the rebalance audit")
    rebalance_max_moves: int = Field(20, ge=1, description="at most this many moves per audit proposal")
    rebalance_auto: bool = Field(False, description="apply audit proposals without approval (platforms whose "
                                 "name is one of openstack_clouds)")
    quota_cloud: str | None = Field(None, description="clouds.yaml cloud whose quotas approved requests raise")


class RoomWeights(BaseSettings):
    """How much each factor of a room's closing score counts (``SHANGYUN_ROOM_WEIGHT_SMALL`` …)."""

    model_config = SettingsConfigDict(env_prefix="SHANGYUN_ROOM_WEIGHT_", extra="ignore")

    small: float = Field(0.15, ge=0)
    energy: float = Field(0.20, ge=0)
    pue: float = Field(0.10, ge=0)
    age: float = Field(0.15, ge=0)
    mlps: float = Field(0.10, ge=0)
    idle: float = Field(0.10, ge=0)
    movable: float = Field(0.20, ge=0)


class DepartmentQuota(BaseSettings):
    """What one department may hold on the cloud before its requests queue (``SHANGYUN_DEPARTMENT_QUOTA_…``)."""

    model_config = SettingsConfigDict(env_prefix="SHANGYUN_DEPARTMENT_QUOTA_", extra="ignore")

    vcpus: float = Field(256, ge=0)
    memory_gb: float = Field(1024, ge=0)
    storage_gb: float = Field(20480, ge=0)


@lru_cache
def get_room_weights() -> RoomWeights:
    """Return the room-score weights read once from the environment."""
    return RoomWeights()


@lru_cache
def get_department_quota() -> DepartmentQuota:
    """Return the per-department quota read once from the environment."""
    return DepartmentQuota()


def use_openstack_config(path: Path) -> None:
    """Point this process's OpenStack connections at ``path`` (the demo uses the test cloud's clouds.yaml)."""
    get_settings().openstack_config = path


def set_for_worker_processes(name: str, value: str) -> None:
    """Set ``SHANGYUN_<NAME>`` for this process and the worker processes ``serve`` starts (which read their
    settings afresh), e.g. ``SCHEDULER_IN_SERVE`` or ``ACCESS_LOG``."""
    os.environ[f"SHANGYUN_{name.upper()}"] = value
    get_settings.cache_clear()
    get_scheduler_settings.cache_clear()


def environment_secret(name: str) -> str | None:
    """A secret a site profile names as ``{env: NAME}``: the variable's value, or None when it is unset."""
    return os.environ.get(name)


def executable_path() -> str:
    """PATH with this interpreter's directory first, so a venv's tools (ansible-playbook) are found without
    activating it."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


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
