"""The site profile: how this estate is reached when a wave is carried out (YAML, ``--site FILE``).

The plan says *what* moves where; the site says *how*: how Ansible reaches the source servers, where
each system's data lives and where it lands, which ``clouds.yaml`` cloud stands behind each planned
OpenStack platform, and how steps are timed. Secrets stay in Ansible's and openstacksdk's own files
(SSH keys, ``clouds.yaml``) or in the environment; the profile only names them: a variable whose name
says it holds a secret (``ansible_become_pass``, ``…_token``) is given as ``{env: NAME}`` or
``{file: PATH}`` and read when the playbook starts, never stored with the run.

Example::

    connection: ssh                    # or local: this machine stands in for every source server
    ansible_vars: {ansible_user: ops, ansible_ssh_private_key_file: /etc/shangyun/id_ed25519,
                   ansible_become_pass: {env: SHANGYUN_BECOME_PASS}}
    data_paths: {S0001: [/srv/app/data]}
    target_root: /srv/migrated         # on the target: <target_root>/<system code>/<path name>
    address_root: /etc/shangyun/addr   # stand-in for the DNS record clients resolve
    openstack: {clouds: {政务云-OpenStack一区: gov-cloud-1}, networks: none}
    checks:                            # 功能验证 after cutover, against each migrated target
      S0001:
        http: [{url: "http://{address}:8080/health", status: 200, contains: UP}]
        tcp: [{port: 5432}]
        commands: [{run: "cat /srv/app/VERSION", expect: "2.3"}]
        data: true                     # source and target data checksums must match
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from drivers.ansible import carries_secret, is_literal
from inventory.errors import InvalidInputError


class HttpCheck(BaseModel):
    """GET ``url`` (``{address}`` is each migrated target's address); expect ``status`` and, if given, text."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://")
    status: int = Field(default=200, ge=100, le=599)
    contains: str | None = Field(default=None, max_length=1000)
    timeout: float = Field(default=10.0, gt=0, le=300)


class TcpCheck(BaseModel):
    """Connect to ``port`` on ``host`` (default: each migrated target's address)."""

    model_config = ConfigDict(extra="forbid")

    port: int = Field(ge=1, le=65535)
    host: str | None = Field(default=None, max_length=255)
    timeout: float = Field(default=5.0, gt=0, le=300)


class CommandCheck(BaseModel):
    """Run ``run`` on each migrated target; it must exit 0 and, if given, print ``expect``."""

    model_config = ConfigDict(extra="forbid")

    run: str = Field(min_length=1, max_length=2000)
    expect: str | None = Field(default=None, max_length=1000)


class SystemChecks(BaseModel):
    """A system's functional verification (功能验证) after cutover."""

    model_config = ConfigDict(extra="forbid")

    http: list[HttpCheck] = Field(default_factory=list, max_length=50)
    tcp: list[TcpCheck] = Field(default_factory=list, max_length=50)
    commands: list[CommandCheck] = Field(default_factory=list, max_length=50)
    data: bool = True  # compare the data paths' checksums, source against target


class OpenStackSite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = False  # record the OpenStack calls instead of making them (no cloud at hand)
    clouds: dict[str, str] = Field(default_factory=dict)  # plan platform name → clouds.yaml cloud
    default_cloud: str | None = None  # for platforms not listed
    networks: str = "none"  # "none" where the cloud has no tenant networks, else "auto"
    image_mb: int = Field(default=1, ge=1)  # size of the system image uploaded by the stand-in export step
    volume_gb_cap: int | None = Field(default=None, ge=1)  # cap data volumes (test clouds have little room)
    boot_volume_gb: int | None = Field(default=None, ge=1)  # boot servers from a volume of this size

    def cloud_for(self, platform: str) -> str | None:
        return self.clouds.get(platform, self.default_cloud)


class KubernetesSite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kubeconfig: str | None = None
    context: str | None = None
    image: str = "registry.local/shangyun/placeholder:1"  # the system's container image
    port: int = 8080


class Site(BaseModel):
    """Validated site profile; see the module docstring."""

    model_config = ConfigDict(extra="forbid")

    connection: Literal["local", "ssh"] = "ssh"
    ansible_vars: dict[str, Any] = Field(default_factory=dict)
    source_root: str | None = None  # local: each source server's files under <source_root>/<hostname>
    data_paths: dict[str, list[str]] = Field(default_factory=dict)
    target_root: str = "/srv/shangyun-migrated"
    address_root: str | None = None
    services: dict[str, list[str]] = Field(default_factory=dict)
    verify_commands: dict[str, list[str]] = Field(default_factory=dict)  # retire: run beside the archive check
    checks: dict[str, SystemChecks] = Field(default_factory=dict)  # system code → its checks after cutover
    target_ansible_vars: dict[str, Any] | None = None  # how Ansible reaches the new instances (default ansible_vars)
    power_off: bool = True
    openstack: OpenStackSite | None = None
    kubernetes: KubernetesSite | None = None
    step_timeout: int = Field(default=900, ge=1)
    artifacts: str = ".shangyun-runs"

    @field_validator("ansible_vars", "target_ansible_vars")
    @classmethod
    def _secrets_by_reference(cls, variables: dict[str, Any] | None) -> dict[str, Any] | None:
        """A secret is named, never written here: the profile is stored with each run."""
        for name, value in (variables or {}).items():
            if carries_secret(name) and is_literal(value) and not (isinstance(value, str) and "{{" in value):
                raise ValueError(f"{name}: give the secret as {{env: VARIABLE}} or {{file: PATH}}, not its value "
                                 "(the profile is stored with the run)")
        return variables

    def checks_of(self, system: str) -> SystemChecks:
        return self.checks.get(system) or SystemChecks()

    def data_paths_of(self, system: str, hostname: str) -> list[str]:
        """The system's data paths on ``hostname``: from the profile, else ``<source_root>/<hostname>/data``."""
        if system in self.data_paths:
            return self.data_paths[system]
        if self.source_root:
            return [str(Path(self.source_root) / hostname / "data")]
        return []


class SiteError(InvalidInputError):
    """The site profile is unreadable or invalid; the message names the file and field."""


def load_site(path: Path | None) -> Site:
    """Read and validate a site profile; ``None`` gives the defaults."""
    if path is None:
        return Site()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SiteError(f"{path}: {exc}") from None
    try:
        return Site.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SiteError(f"{path}: {problems}") from None
