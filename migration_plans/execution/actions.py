"""Step actions: turn a runbook step of one plan item into driver calls.

An action takes the ``StepContext`` of its item and returns the resources it made (merged into the
item's ``resources`` and kept for reverts and resumes). Actions decide nothing about order or
failure handling (that is the executor's job) and drivers decide nothing at all. With
``dry_run`` every driver is a recorder: the call and its parameters are listed, nothing changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlmodel import Session

from drivers.ansible import masked, run_playbook
from drivers.errors import DriverError
from drivers.protocols import CloudOps, ClusterOps
from inventory.models.enums import PlatformKind, Strategy
from migration_plans.execution.site import Site
from migration_plans.planning.document import instances_of, target_from_json


@dataclass(frozen=True)
class SourceServer:
    hostname: str
    ip: str | None
    room: str


@dataclass(frozen=True)
class PlannedInstance:
    """One instance of a rehost item as the plan sized it."""

    name: str
    flavor: str
    vcpus: float
    memory_gb: float
    volume_gb: int


@dataclass(frozen=True)
class DriverCall:
    driver: str
    method: str
    params: dict[str, Any]

    def __str__(self) -> str:
        args = ", ".join(f"{k}={_shown(v)}" for k, v in self.params.items())
        return f"{self.driver}.{self.method}({args})"


def _shown(value: Any) -> str:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, DryObject):
        return value.name
    return repr(value)


class DryObject:
    """What a recorded call returns: enough attributes for the next action to use."""

    def __init__(self, label: str) -> None:
        self.id = f"dry-run:{label}"
        self.name = label
        self.status = "dry-run"


class DryDriver:
    """Records every method call instead of making it."""

    def __init__(self, name: str, calls: list[DriverCall]) -> None:
        self._name = name
        self._calls = calls

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def record(*args: Any, **kwargs: Any) -> Any:
            params = {f"arg{i}": a for i, a in enumerate(args)} | kwargs
            self._calls.append(DriverCall(self._name, method, params))
            label = str(kwargs.get("name") or (args[0] if args else method))
            if method.startswith("ensure_") and method != "ensure_attached":
                return DryObject(label), True
            if method == "in_project":
                return self
            return True if method.startswith(("delete_", "detach", "ensure_attached")) else DryObject(label)

        return record


@dataclass
class StepContext:
    """Everything an action may know about its item."""

    run_id: int
    item_id: int
    system_code: str
    system_name: str
    department_code: str
    strategy: str
    target: dict[str, Any]
    servers: list[SourceServer]
    site: Site
    resources: dict[str, Any]
    dry_run: bool = False
    department_targets: list[dict[str, Any]] = field(default_factory=list)  # this run's rehost targets of the dept
    session: Session | None = None
    calls: list[DriverCall] = field(default_factory=list)
    on_progress: Callable[[str], None] | None = None
    _openstack: CloudOps | None = None
    _openstack_project: CloudOps | None = None
    _kubernetes: ClusterOps | None = None

    # ---- drivers -------------------------------------------------------------------------------
    def openstack(self) -> CloudOps:
        """The driver for the item's target platform (a recorder in dry runs or when the site names no cloud)."""
        if self._openstack is None:
            platform = str(self.target.get("platform_name", ""))
            cloud = self.site.openstack.cloud_for(platform) if self.site.openstack else None
            recorded = self.dry_run or bool(self.site.openstack and self.site.openstack.dry_run)
            if recorded or cloud is None:
                if not recorded:
                    raise DriverError(f"the site profile names no clouds.yaml cloud for platform {platform!r}")
                self._openstack = cast(CloudOps, DryDriver("openstack", self.calls))
            else:
                from drivers.openstack import OpenStackDriver

                self._openstack = OpenStackDriver.connect(cloud, timeout=self.site.step_timeout)
        return self._openstack

    def kubernetes(self) -> ClusterOps:
        if self._kubernetes is None:
            if self.dry_run:
                self._kubernetes = cast(ClusterOps, DryDriver("kubernetes", self.calls))
            elif self.site.kubernetes is None:
                raise DriverError("the site profile has no kubernetes section")
            else:
                from drivers.kubernetes import KubernetesDriver

                self._kubernetes = KubernetesDriver.connect(self.site.kubernetes.kubeconfig,
                                                            self.site.kubernetes.context,
                                                            timeout=self.site.step_timeout)
        return self._kubernetes

    # ---- names ---------------------------------------------------------------------------------
    @property
    def resource_name(self) -> str:
        """Deterministic cloud name of this system's resources: a re-run finds what a crashed run made."""
        return f"sy-{self.system_code.lower()}"

    @property
    def instances(self) -> list[PlannedInstance]:
        """Every instance the plan sized for this item (``sy-<code>``, ``sy-<code>-2`` …), each with its flavor
        and an even share of the data disk."""
        specs = instances_of(self.target) if self.target else []
        size = _volume_gb(self, self.target, len(specs))
        return [PlannedInstance(self.resource_name if k == 1 else f"{self.resource_name}-{k}", str(spec["flavor"]),
                                float(spec["vcpus"]), float(spec["memory_gb"]), size)
                for k, spec in enumerate(specs, start=1)]

    def made(self, name: str) -> dict[str, Any]:
        """What the steps so far made for instance ``name`` (ids, address)."""
        return dict((self.resources.get("instances") or {}).get(name) or {})

    def target_of(self, server: SourceServer) -> tuple[str, str | None]:
        """Where ``server``'s data lands (``[ip:]path``) and the instance that receives it: source servers
        are spread over the item's instances in turn."""
        path = str(Path(self.site.target_root) / self.system_code / server.hostname)
        instances = self.instances if self.strategy == Strategy.REHOST else []
        if not instances:
            return path, None
        index = [s.hostname for s in self.servers].index(server.hostname) % len(instances)
        name = instances[index].name
        ip = self.made(name).get("target_ip")
        return (f"{ip}:{path}" if ip else path), name

    @property
    def artifacts_dir(self) -> Path:
        """ansible-runner's folder for this item's playbook runs (events, stdout)."""
        return Path(self.site.artifacts) / f"run-{self.run_id}" / f"item-{self.item_id}"

    @property
    def project_name(self) -> str:
        return f"dept-{self.department_code.lower()}"

    # ---- Ansible -------------------------------------------------------------------------------
    def host_vars(self, server: SourceServer, **extra: Any) -> dict[str, Any]:
        site = self.site
        target, instance = self.target_of(server)
        address = (self.made(instance).get("target_ip") or instance) if instance else self.resource_name
        values: dict[str, Any] = {
            "shangyun_data_paths": site.data_paths_of(self.system_code, server.hostname),
            "shangyun_target": target,
            "shangyun_services": site.services.get(self.system_code, []),
            "shangyun_commands": site.verify_commands.get(self.system_code, []),
            "shangyun_source_address": server.ip or server.hostname,
            "shangyun_target_address": address,
            "shangyun_power_off": site.power_off,
        }
        if site.address_root:
            values["shangyun_address_file"] = str(Path(site.address_root) / f"{self.system_code}.address")
        if site.connection == "local":
            values |= {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
            if site.source_root:
                values["shangyun_marker"] = str(Path(site.source_root) / server.hostname / "DECOMMISSIONED")
        elif server.ip:
            values["ansible_host"] = server.ip.split(",")[0].strip()
        return values | site.ansible_vars | extra

    def ansible(self, playbook: str, servers: list[SourceServer] | None = None, **extra: Any) -> dict[str, Any]:
        """Run ``playbook`` on the item's source servers (or ``servers``); a failed run raises ``DriverError``."""
        servers = self.servers if servers is None else servers
        inventory = {"all": {"hosts": {s.hostname: self.host_vars(s, **extra) for s in servers}}}
        if self.dry_run:
            self.calls.append(DriverCall("ansible", "run_playbook", {
                "playbook": playbook, "hosts": [s.hostname for s in servers],
                "vars": {s.hostname: masked(v) for s, v in zip(servers, inventory["all"]["hosts"].values(),
                                                                strict=True)}}))
            return {}
        artifacts = self.artifacts_dir

        def progress(event: dict[str, Any]) -> None:
            if self.on_progress and event.get("task") and event["event"] == "runner_on_ok":
                self.on_progress(f"{playbook}: {event['task']} ({event['host']})")

        result = run_playbook(playbook, inventory, artifacts_root=artifacts, timeout=self.site.step_timeout,
                              on_event=progress)
        if not result.succeeded:
            raise DriverError(result.failure())
        return {f"{playbook}_artifacts": result.artifacts}


@dataclass(frozen=True)
class Action:
    """What a runbook step does (or undoes): ``name`` (``driver:verb``, written to the event log) and the
    function. Every action is registered in ``ACTIONS`` under its name when it is defined."""

    name: str
    run: Callable[[StepContext], dict[str, Any]]

    def __call__(self, ctx: StepContext) -> dict[str, Any]:
        return self.run(ctx)

    @property
    def driver(self) -> str:
        """The driver the action works through: ansible, openstack, kubernetes, verify, inventory or gate."""
        return self.name.split(":", 1)[0]


ACTIONS: dict[str, Action] = {}


def action(name: str) -> Callable[[Callable[[StepContext], dict[str, Any]]], Action]:
    """Register the decorated function as the action ``name``."""
    def register(run: Callable[[StepContext], dict[str, Any]]) -> Action:
        if name in ACTIONS:
            raise ValueError(f"action {name!r} defined twice")
        ACTIONS[name] = Action(name, run)
        return ACTIONS[name]
    return register


def _openstack_in_project(ctx: StepContext) -> CloudOps:
    """The driver scoped to the department's project (made by the prepare_project step)."""
    if ctx._openstack_project is None:
        driver = ctx.openstack()
        project, _ = driver.ensure_project(name=ctx.project_name, quotas={})
        ctx._openstack_project = driver.in_project(project)
    return ctx._openstack_project


@action("openstack:project")
def project(ctx: StepContext) -> dict[str, Any]:
    """The department's project, with quotas for every instance of the department's rehost items in this run."""
    quotas = {"cores": 0, "ram_mb": 0, "instances": 0, "gigabytes": 0, "volumes": 0, "snapshots": 0}
    boot = ctx.site.openstack.boot_volume_gb if ctx.site.openstack else None
    for target in ctx.department_targets or [ctx.target]:
        if target.get("platform") == PlatformKind.KUBERNETES:
            continue
        specs = instances_of(target)
        for spec in specs:
            quotas["cores"] += math.ceil(float(spec["vcpus"]))
            quotas["ram_mb"] += int(float(spec["memory_gb"]) * 1024)
            quotas["instances"] += 1
            quotas["gigabytes"] += _volume_gb(ctx, target, len(specs)) + (boot or 0)
            quotas["volumes"] += 2 if boot else 1
            quotas["snapshots"] += 1
    _, changed = ctx.openstack().ensure_project(name=ctx.project_name, quotas=quotas)
    return {"project": ctx.project_name, "project_changed": changed}


@action("openstack:flavor")
def flavor(ctx: StepContext) -> dict[str, Any]:
    """Every flavor the item's instances use."""
    shapes = {(i.flavor, i.vcpus, i.memory_gb) for i in ctx.instances}
    for name, vcpus, memory_gb in sorted(shapes):
        ctx.openstack().ensure_flavor(name=name, vcpus=math.ceil(vcpus), ram_mb=int(memory_gb * 1024), disk_gb=0)
    return {"flavors": sorted(name for name, _, _ in shapes)}


@action("openstack:image")
def image(ctx: StepContext) -> dict[str, Any]:
    """Stand-in for exporting the source disk: a raw image of ``image_mb`` named after the system."""
    size = (ctx.site.openstack.image_mb if ctx.site.openstack else 1) << 20
    seed = hashlib.sha256(ctx.system_code.encode()).digest()
    data = (seed * (size // len(seed) + 1))[:size]
    found, _ = _openstack_in_project(ctx).ensure_image(name=f"{ctx.resource_name}-disk", data=data)
    return {"image": found.name}


def _volume_gb(ctx: StepContext, target: dict[str, Any], instances: int = 1) -> int:
    """One instance's data volume: an even share of the item's data disk (capped where the site says so)."""
    size = max(1, math.ceil(float(target.get("disk_gb") or 1) / max(1, instances)))
    cap = ctx.site.openstack.volume_gb_cap if ctx.site.openstack else None
    return min(size, cap) if cap else size


def _each(ctx: StepContext, make: Callable[[CloudOps, PlannedInstance], dict[str, Any]]) -> dict[str, Any]:
    """Run ``make`` for every planned instance; merge what it returns into ``resources["instances"]``."""
    driver = _openstack_in_project(ctx)
    instances: dict[str, Any] = dict(ctx.resources.get("instances") or {})
    for planned in ctx.instances:
        instances[planned.name] = dict(instances.get(planned.name) or {}) | make(driver, planned)
        ctx.resources["instances"] = instances  # a later instance's step may read an earlier one's result
    return {"instances": instances}


@action("openstack:volume")
def volume(ctx: StepContext) -> dict[str, Any]:
    def make(driver: CloudOps, planned: PlannedInstance) -> dict[str, Any]:
        found, _ = driver.ensure_volume(name=f"{planned.name}-data", size_gb=planned.volume_gb)
        return {"volume_id": found.id}

    return _each(ctx, make)


@action("openstack:server")
def server(ctx: StepContext) -> dict[str, Any]:
    networks = ctx.site.openstack.networks if ctx.site.openstack else "none"
    boot_volume = ctx.site.openstack.boot_volume_gb if ctx.site.openstack else None

    def make(driver: CloudOps, planned: PlannedInstance) -> dict[str, Any]:
        found, _ = driver.ensure_server(name=planned.name, flavor=planned.flavor, image=f"{ctx.resource_name}-disk",
                                        networks=networks, boot_volume_gb=boot_volume)
        addresses = [a.get("addr") for net in (getattr(found, "addresses", None) or {}).values() for a in net]
        return {"server_id": found.id, "flavor": planned.flavor, "target_ip": addresses[0] if addresses else None}

    return _each(ctx, make)


@action("openstack:attach")
def attach(ctx: StepContext) -> dict[str, Any]:
    def make(driver: CloudOps, planned: PlannedInstance) -> dict[str, Any]:
        made = ctx.made(planned.name)
        driver.ensure_attached(server_id=made["server_id"], volume_id=made["volume_id"])
        return {}

    return _each(ctx, make)


@action("openstack:snapshot")
def snapshot(ctx: StepContext) -> dict[str, Any]:
    """A snapshot of each data volume before cutover: the way back to the synced data."""
    def make(driver: CloudOps, planned: PlannedInstance) -> dict[str, Any]:
        found, _ = driver.ensure_volume_snapshot(volume_id=ctx.made(planned.name)["volume_id"],
                                                 name=f"{planned.name}-pre-cutover")
        return {"snapshot_id": found.id}

    return _each(ctx, make)


@action("openstack:delete_image")
def delete_image(ctx: StepContext) -> dict[str, Any]:
    _openstack_in_project(ctx).delete_image(f"{ctx.resource_name}-disk")
    return {"image": None}


@action("openstack:delete_volume")
def delete_volume(ctx: StepContext) -> dict[str, Any]:
    def make(driver: CloudOps, planned: PlannedInstance) -> dict[str, Any]:
        driver.delete_volume(f"{planned.name}-data")
        return {"volume_id": None}

    return _each(ctx, make)


@action("openstack:delete_server")
def delete_server(ctx: StepContext) -> dict[str, Any]:
    def make(driver: CloudOps, planned: PlannedInstance) -> dict[str, Any]:
        driver.delete_server(planned.name)
        return {"server_id": None, "target_ip": None}

    return _each(ctx, make)


@action("openstack:detach")
def detach(ctx: StepContext) -> dict[str, Any]:
    def make(driver: CloudOps, planned: PlannedInstance) -> dict[str, Any]:
        made = ctx.made(planned.name)
        if made.get("server_id") and made.get("volume_id"):
            driver.detach(made["server_id"], made["volume_id"])
        return {}

    return _each(ctx, make)


@action("openstack:delete_snapshot")
def delete_snapshot(ctx: StepContext) -> dict[str, Any]:
    def make(driver: CloudOps, planned: PlannedInstance) -> dict[str, Any]:
        driver.delete_volume_snapshot(f"{planned.name}-pre-cutover")
        return {"snapshot_id": None}

    return _each(ctx, make)


def _replicas(target: dict[str, Any]) -> tuple[int, float, float]:
    """A Kubernetes item's replicas and requests per replica (CPU cores, memory GB)."""
    group = target_from_json(target).groups[0]
    return group.count, group.vcpus, group.memory_gb


@action("kubernetes:namespace")
def k8s_namespace(ctx: StepContext) -> dict[str, Any]:
    """The department's namespace, its ResourceQuota raised to cover every replica of the department's
    replatform items in this run, plus one surge replica each for rolling updates."""
    cpu = memory = 0.0
    for target in ctx.department_targets or [ctx.target]:
        if target.get("platform") != PlatformKind.KUBERNETES:
            continue
        replicas, per_cpu, per_memory = _replicas(target)
        cpu += per_cpu * (replicas + 1)
        memory += per_memory * (replicas + 1)
    ctx.kubernetes().ensure_namespace(ctx.project_name, cpu=round(cpu, 3), memory_gb=round(memory, 3),
                                      never_lower=True)
    return {"namespace": ctx.project_name}


@action("kubernetes:deploy")
def k8s_deploy(ctx: StepContext) -> dict[str, Any]:
    kube = ctx.site.kubernetes
    replicas, cpu, memory = _replicas(ctx.target)
    ctx.kubernetes().apply_workload(ctx.project_name, ctx.resource_name, image=kube.image if kube else "",
                                    cpu=cpu, memory_gb=memory, port=kube.port if kube else 8080,
                                    storage_gb=_volume_gb(ctx, ctx.target), replicas=replicas)
    return {"workload": ctx.resource_name, "replicas": replicas}


@action("kubernetes:ready")
def k8s_ready(ctx: StepContext) -> dict[str, Any]:
    ctx.kubernetes().wait_ready(ctx.project_name, ctx.resource_name)
    return {}


@action("kubernetes:delete")
def k8s_delete(ctx: StepContext) -> dict[str, Any]:
    ctx.kubernetes().delete_workload(ctx.project_name, ctx.resource_name)
    return {"workload": None}


def _archive(ctx: StepContext, playbook: str) -> dict[str, Any]:
    archive = Path(ctx.site.target_root) / "archive" / ctx.system_code
    results: dict[str, Any] = {}
    for source in ctx.servers:  # one archive folder per server
        results |= ctx.ansible(playbook, [source], shangyun_target=str(archive / source.hostname))
    return results | {"archive": str(archive)}


@action("ansible:archive")
def archive(ctx: StepContext) -> dict[str, Any]:
    return _archive(ctx, "sync")


@action("ansible:verify_archive")
def verify_archive(ctx: StepContext) -> dict[str, Any]:
    return _archive(ctx, "verify")


@action("verify:target")
def verify_target(ctx: StepContext) -> dict[str, Any]:
    """功能验证 against the migrated target (``migration_plans.execution.verification``)."""
    from migration_plans.execution.verification import verify

    return _archived(ctx, verify(ctx))


@action("ansible:verify_in_place")
def verify_in_place(ctx: StepContext) -> dict[str, Any]:
    """功能验证 of relocated hardware where it now stands."""
    from migration_plans.execution.verification import verify

    return _archived(ctx, verify(ctx, in_place=True))


def _archived(ctx: StepContext, made: dict[str, Any]) -> dict[str, Any]:
    """Put a passed verification into the system's archive (the audit log) with the step's commit."""
    if ctx.session is not None and not ctx.dry_run:
        from inventory.audit import Actor, record
        from inventory.models import AuditAction

        record(ctx.session, Actor(f"executor:run-{ctx.run_id}"), "system", ctx.system_code, AuditAction.VERIFY, None,
               {"run": ctx.run_id, "item": ctx.item_id, "passed": True, "checks": made["checks"]})
    return made


def playbook(name: str) -> Action:
    """The action that runs ``playbooks/<name>.yml`` over the item's source servers."""
    def run(ctx: StepContext) -> dict[str, Any]:
        return ctx.ansible(name)

    return action(f"ansible:{name}")(run)


@action("gate")
def gate(ctx: StepContext) -> dict[str, Any]:
    """Passed only with an approval; the executor checks it before calling."""
    return {}


def inventory_update(outcome: str) -> Action:
    """The action that records the item's ``outcome`` in the inventory (and decommissions emptied rooms)."""
    def record(ctx: StepContext) -> dict[str, Any]:
        from migration_plans.execution.completion import complete_item

        if ctx.dry_run or ctx.session is None:
            ctx.calls.append(DriverCall("inventory", "complete_item", {"system": ctx.system_code,
                                                                       "outcome": outcome}))
            return {}
        return complete_item(ctx.session, ctx, outcome, dt.datetime.now(dt.UTC))

    return action(f"inventory:{outcome}")(record)


PREFLIGHT = playbook("preflight")
SYNC = playbook("sync")
CUTOVER = playbook("cutover")
ROLLBACK = playbook("rollback")
DECOMMISSION = playbook("decommission")
MIGRATED = inventory_update("migrated")
RETIRED = inventory_update("retired")
RELOCATED = inventory_update("relocated")
