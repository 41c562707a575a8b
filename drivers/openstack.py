"""OpenStack driver (openstacksdk, a ``clouds.yaml`` cloud by name).

Every ``ensure_…`` finds the resource by name first and returns ``(resource, changed)``, so a step
re-run after a crash adopts what the first attempt made instead of making it twice. Each also
converges when two workers race to make the same thing (items of one department in parallel, or a
worker taking over an item whose first worker was only slow):

- names the cloud keeps unique (Keystone projects, Nova flavors) answer the loser's create with 409,
  and the loser adopts the winner's resource;
- names it does not (Glance images, Cinder volumes and snapshots, Nova servers) are settled after the
  create (``settled``): of the resources sharing the name, the oldest (``created_at``, then id) wins,
  every racer picks the same one, and a racer whose own resource lost deletes it and adopts the winner;
- an attachment that another racer made first is adopted;
- quotas are raised to what is in use plus what every item of the department in the run needs, so
  writes that cross each other all leave enough room.

``delete_…`` returns whether something was deleted. openstacksdk and keystoneauth errors become ``drivers.errors``
with messages that never carry credentials.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar

from drivers.errors import DriverError, NotFoundError, QuotaExceededError, StepTimeoutError, UnreachableError
from inventory.settings import get_settings

SETTLE_SECONDS = 1.5  # past created_at's one-second resolution, with room for the record to become visible
P = ParamSpec("P")
R = TypeVar("R")


def translated(method: Callable[P, R]) -> Callable[P, R]:
    """Turn openstacksdk/keystoneauth exceptions raised by ``method`` into the driver's own."""
    from keystoneauth1 import exceptions as ks_exceptions
    from openstack import exceptions as os_exceptions

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        name = method.__name__
        try:
            return method(*args, **kwargs)
        except os_exceptions.ResourceTimeout as exc:
            raise StepTimeoutError(f"{name}: timed out ({exc})") from None
        except os_exceptions.NotFoundException as exc:
            raise NotFoundError(f"{name}: not found ({exc.details or exc.message})") from None
        except os_exceptions.HttpException as exc:
            detail = str(exc.details or exc.message)
            if exc.status_code in (403, 413) and "quota" in detail.lower():
                raise QuotaExceededError(f"{name}: quota exceeded ({detail[:300]})") from None
            raise DriverError(f"{name}: HTTP {exc.status_code} {detail[:300]}") from None
        except ks_exceptions.ClientException as exc:
            raise UnreachableError(f"{name}: cannot reach or log in to the cloud ({type(exc).__name__})") from None
        except os_exceptions.SDKException as exc:
            raise DriverError(f"{name}: {type(exc).__name__}: {str(exc)[:300]}") from None

    return wrapper


def oldest(resources: Iterable[Any]) -> Any | None:
    """The resource created first (``created_at``, then id), or None: every racer picks the same one."""
    return min(resources, key=lambda r: (str(getattr(r, "created_at", None) or ""), str(r.id)), default=None)


def settled(look: Callable[[], Iterable[Any]], mine: Any) -> Any:
    """The winner among resources sharing our new resource's name, once every racer's is visible.

    ``created_at`` has one-second resolution, so we wait past the second ours was made in before looking:
    any resource made in the same second is then listed, and one made after our look is newer than ours.
    Every racer so sees the same oldest one (ties broken by id), including a racer that had already
    finished, whose resource, made over a second before ours, is strictly older."""
    import time

    time.sleep(SETTLE_SECONDS)
    return oldest(look()) or mine


def _raised(quota_set: Any, wanted: Mapping[str, int | None]) -> dict[str, int]:
    """Quotas to raise: limit < in use + wanted (unlimited, -1, is left alone)."""
    usage = getattr(quota_set, "usage", None) or {}
    out = {}
    for key, need in wanted.items():
        limit = getattr(quota_set, key, None)
        if need is None or limit in (-1, None):
            continue
        total = int(usage.get(key, 0)) + need
        if limit < total:
            out[key] = total
    return out


def open_connection(cloud: str) -> Any:
    """An openstacksdk connection to ``cloud`` of clouds.yaml: the file settings name
    (``SHANGYUN_OPENSTACK_CONFIG`` / ``OS_CLIENT_CONFIG_FILE``), else openstacksdk's default places."""
    import openstack
    from openstack.config import OpenStackConfig

    config_file = get_settings().openstack_config
    if config_file is None:
        return openstack.connect(cloud=cloud)
    region = OpenStackConfig(config_files=[str(config_file)]).get_one(cloud=cloud)
    return openstack.connection.Connection(config=region)


class OpenStackDriver:
    """One cloud, admin credentials; department resources go into a project per department."""

    def __init__(self, conn: Any, timeout: int = 600) -> None:
        self.conn = conn
        self.timeout = timeout

    @classmethod
    def connect(cls, cloud: str, timeout: int = 600) -> OpenStackDriver:
        """Connect to ``cloud`` of clouds.yaml; fails fast (UnreachableError) when it does not answer."""
        from keystoneauth1 import exceptions as ks_exceptions
        from openstack import exceptions as os_exceptions

        try:
            conn = open_connection(cloud)
            conn.authorize()
        except (ks_exceptions.ClientException, os_exceptions.SDKException) as exc:
            raise UnreachableError(f"cloud {cloud!r} not usable ({type(exc).__name__})") from None
        return cls(conn, timeout)

    # ---- projects and quotas -------------------------------------------------------------------
    @translated
    def ensure_project(self, name: str, quotas: Mapping[str, int]) -> tuple[Any, bool]:
        """A project for a department, the admin user as member, compute/volume quotas at least ``quotas``
        (keys: cores, ram_mb, instances, gigabytes, volumes)."""
        from openstack import exceptions as os_exceptions

        changed = False
        project = self.conn.identity.find_project(name, domain_id="default")
        if project is None:
            try:
                project = self.conn.identity.create_project(name=name, domain_id="default",
                                                            description="Shangyun department project")
                changed = True
            except os_exceptions.ConflictException:  # another worker made it between our look and our create
                project = self.conn.identity.find_project(name, domain_id="default", ignore_missing=False)
        user_id = self.conn.current_user_id
        role = self.conn.identity.find_role("admin") or self.conn.identity.find_role("member")
        if role is not None and not self.conn.identity.validate_user_has_project_role(project, user_id, role):
            self.conn.identity.assign_project_role_to_user(project, user_id, role)
            changed = True
        # Raise each quota to what is already in use plus this request, so items of one department that
        # move in the same wave do not exhaust each other's room.
        compute = self.conn.compute.get_quota_set(project, usage=True)
        wanted = {"cores": quotas.get("cores"), "ram": quotas.get("ram_mb"), "instances": quotas.get("instances")}
        raise_compute = _raised(compute, wanted)
        if raise_compute:
            self.conn.compute.update_quota_set(project, **raise_compute)
            changed = True
        volume = self.conn.block_storage.get_quota_set(project, usage=True)
        raise_volume = _raised(volume, {"gigabytes": quotas.get("gigabytes"), "volumes": quotas.get("volumes"),
                                        "snapshots": quotas.get("snapshots")})
        if raise_volume:
            self.conn.block_storage.update_quota_set(project, **raise_volume)
            changed = True
        return project, changed

    def in_project(self, project: Any) -> OpenStackDriver:
        """The same cloud, scoped to ``project`` (servers and volumes are created there)."""
        return OpenStackDriver(self.conn.connect_as_project(project), self.timeout)

    # ---- flavors and images --------------------------------------------------------------------
    @translated
    def ensure_flavor(self, name: str, vcpus: int, ram_mb: int, disk_gb: int) -> tuple[Any, bool]:
        from openstack import exceptions as os_exceptions

        flavor = self.conn.compute.find_flavor(name, ignore_missing=True)
        if flavor is None:
            try:
                return self.conn.compute.create_flavor(name=name, vcpus=vcpus, ram=ram_mb, disk=disk_gb), True
            except os_exceptions.ConflictException:  # another worker made it first
                flavor = self.conn.compute.find_flavor(name, ignore_missing=False)
        if (flavor.vcpus, flavor.ram) != (vcpus, ram_mb):
            raise DriverError(f"flavor {name!r} exists with {flavor.vcpus} vCPU / {flavor.ram} MB, "
                              f"not {vcpus} / {ram_mb}")
        return flavor, False

    @translated
    def find_flavor(self, name: str) -> Any:
        flavor = self.conn.compute.find_flavor(name, ignore_missing=True)
        if flavor is None:
            raise NotFoundError(f"flavor {name!r} no longer exists")
        return flavor

    @translated
    def ensure_image(self, name: str, data: bytes, disk_format: str = "raw") -> tuple[Any, bool]:
        """Upload ``data`` as a private image ``name`` unless one exists (the oldest of any racers' wins)."""
        winner = oldest(self._images(name))
        changed = winner is None
        if winner is None:
            mine = self.conn.image.create_image(name=name, data=data, disk_format=disk_format,
                                                container_format="bare", visibility="private")
            winner = settled(lambda: self._images(name), mine)
            if winner.id != mine.id:
                self.conn.image.delete_image(mine, ignore_missing=True)
                changed = False
        image = self.conn.image.wait_for_status(self.conn.image.get_image(winner), status="active",
                                                failures=["killed", "deleted"], wait=self.timeout)
        return image, changed

    def _images(self, name: str) -> list[Any]:
        return [i for i in self.conn.image.images(name=name)
                if i.name == name and i.status not in ("killed", "deleted", "pending_delete")]

    # ---- volumes and servers -------------------------------------------------------------------
    @translated
    def ensure_volume(self, name: str, size_gb: int) -> tuple[Any, bool]:
        winner = oldest(self._volumes(name))
        if winner is not None:
            return self._volume_ready(winner), False
        mine = self.conn.block_storage.create_volume(name=name, size=size_gb)
        winner = settled(lambda: self._volumes(name), mine)
        if winner.id == mine.id:
            return self._volume_ready(mine), True
        self.conn.block_storage.delete_volume(self._volume_ready(mine))  # a racer's volume is older: use it
        return self._volume_ready(winner), False

    def _volumes(self, name: str) -> list[Any]:
        return [v for v in self.conn.block_storage.volumes(name=name)
                if v.name == name and v.status not in ("deleting", "error", "error_deleting")]

    def _volume_ready(self, volume: Any) -> Any:
        """Until the volume is usable (available, or in-use when an earlier attempt attached it)."""
        import time

        deadline = time.monotonic() + self.timeout
        while True:
            volume = self.conn.block_storage.get_volume(volume)
            if volume.status in ("available", "in-use"):
                return volume
            if volume.status.startswith("error"):
                raise DriverError(f"volume {volume.name} is {volume.status}")
            if time.monotonic() > deadline:
                raise StepTimeoutError(f"volume {volume.name} still {volume.status} after {self.timeout} s")
            time.sleep(1)

    @translated
    def ensure_server(self, name: str, flavor: str, image: str, networks: str | list[dict[str, str]] = "none",
                      boot_volume_gb: int | None = None) -> tuple[Any, bool]:
        """Boot ``name`` with ``flavor`` from ``image``, or from a new ``boot_volume_gb`` volume made of the
        image; ``networks="none"`` where the cloud has no tenant network. A server left in ERROR by an
        earlier attempt is reported, not reused."""
        found = oldest(self._servers(name))
        changed = False
        if found is None:
            flavor_id = self.find_flavor(flavor).id
            image_obj = self.conn.image.find_image(image, ignore_missing=True)
            if image_obj is None:
                raise NotFoundError(f"image {image!r} not found")
            if boot_volume_gb:
                mapping = [{"boot_index": 0, "uuid": image_obj.id, "source_type": "image",
                            "destination_type": "volume", "volume_size": boot_volume_gb,
                            "delete_on_termination": True}]
                found = self.conn.compute.create_server(name=name, flavor_id=flavor_id, networks=networks,
                                                        block_device_mapping_v2=mapping)
            else:
                found = self.conn.compute.create_server(name=name, flavor_id=flavor_id, image_id=image_obj.id,
                                                        networks=networks)
            changed = True
            winner = settled(lambda: self._servers(name), found)
            if winner.id != found.id:  # a racer booted it first: remove ours, use theirs
                self.conn.compute.delete_server(found, ignore_missing=True)
                found, changed = winner, False
        from openstack import exceptions as os_exceptions

        try:
            server = self.conn.compute.wait_for_server(found, status="ACTIVE", failures=["ERROR"], wait=self.timeout)
        except os_exceptions.ResourceFailure:
            fault = (self.conn.compute.get_server(found.id).fault or {}).get("message", "no fault message")
            raise DriverError(f"server {name} went to ERROR: {fault}") from None
        return server, changed

    def _servers(self, name: str) -> list[Any]:
        """Servers named exactly ``name`` (Nova's name filter is a regular expression)."""
        return [s for s in self.conn.compute.servers(name=f"^{re.escape(name)}$") if s.name == name
                and s.status not in ("DELETED", "SOFT_DELETED") and s.task_state != "deleting"]

    @translated
    def ensure_attached(self, server_id: str, volume_id: str) -> bool:
        from openstack import exceptions as os_exceptions

        attached = {a.volume_id for a in self.conn.compute.volume_attachments(server_id)}
        if volume_id in attached:
            return False
        try:
            self.conn.compute.create_volume_attachment(server_id, volume_id=volume_id)
        except (os_exceptions.BadRequestException, os_exceptions.ConflictException):
            if volume_id not in {a.volume_id for a in self.conn.compute.volume_attachments(server_id)}:
                raise
            return False  # another worker attached it first
        self.conn.block_storage.wait_for_status(self.conn.block_storage.get_volume(volume_id), status="in-use",
                                                failures=["error"], wait=self.timeout)
        return True

    @translated
    def detach(self, server_id: str, volume_id: str) -> bool:
        attached = {a.volume_id for a in self.conn.compute.volume_attachments(server_id)}
        if volume_id not in attached:
            return False
        self.conn.compute.delete_volume_attachment(server_id, volume_id)
        self.conn.block_storage.wait_for_status(self.conn.block_storage.get_volume(volume_id), status="available",
                                                failures=["error"], wait=self.timeout)
        return True

    @translated
    def ensure_volume_snapshot(self, volume_id: str, name: str) -> tuple[Any, bool]:
        """A Cinder snapshot ``name`` of the volume (taken once; allowed while attached)."""
        def live() -> list[Any]:
            return [x for x in self.conn.block_storage.snapshots(name=name, volume_id=volume_id)
                    if x.name == name and x.status not in ("deleting", "error", "error_deleting")]

        snapshot = oldest(live())
        changed = snapshot is None
        if snapshot is None:
            mine = self.conn.block_storage.create_snapshot(volume_id=volume_id, name=name, force=True,
                                                           description="Shangyun pre-cutover snapshot")
            snapshot = settled(live, mine)
            if snapshot.id != mine.id:  # a racer's snapshot is older: drop ours once it can be deleted
                mine = self.conn.block_storage.wait_for_status(mine, status="available", failures=["error"],
                                                               wait=self.timeout)
                self.conn.block_storage.delete_snapshot(mine, ignore_missing=True)
                changed = False
        snapshot = self.conn.block_storage.wait_for_status(snapshot, status="available", failures=["error"],
                                                           wait=self.timeout)
        return snapshot, changed

    @translated
    def delete_volume_snapshot(self, name: str) -> bool:
        found = list(self.conn.block_storage.snapshots(name=name))
        for snapshot in found:
            self.conn.block_storage.delete_snapshot(snapshot)
            self.conn.block_storage.wait_for_delete(snapshot, wait=self.timeout)
        return bool(found)

    @translated
    def server_host(self, server_id: str) -> str:
        """The compute host the server runs on now."""
        return str(self.conn.compute.get_server(server_id).compute_host)

    @translated
    def volume_pool(self, volume_id: str) -> str:
        """The storage pool (``host@backend#pool``) that holds the volume now."""
        return str(self.conn.block_storage.get_volume(volume_id).host)

    @translated
    def live_migrate(self, server_id: str, host: str | None = None) -> Any:
        """Live-migrate (``host=None``: the scheduler picks); returns the settled server."""
        self.conn.compute.live_migrate_server(server_id, host=host, block_migration="auto")
        return self._settled(server_id)

    @translated
    def cold_migrate(self, server_id: str, host: str | None = None) -> Any:
        """Cold-migrate and confirm the resize; returns the settled server."""
        self.conn.compute.migrate_server(server_id, host=host)
        server = self.conn.compute.wait_for_server(self.conn.compute.get_server(server_id), status="VERIFY_RESIZE",
                                                   failures=["ERROR"], wait=self.timeout)
        self.conn.compute.confirm_server_resize(server)
        return self._settled(server_id)

    def _settled(self, server_id: str) -> Any:
        import time

        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            server = self.conn.compute.get_server(server_id)
            if server.status == "ERROR":
                raise DriverError(f"server {server.name} went to ERROR: {server.fault}")
            if server.status == "ACTIVE" and not server.task_state:
                return server
            time.sleep(1)
        raise StepTimeoutError(f"server {server_id} did not settle in {self.timeout} s")

    @translated
    def migrate_volume(self, volume_id: str, pool: str) -> Any:
        """Move a volume to storage pool ``pool`` (``host@backend#pool``); returns it when done."""
        import time

        self.conn.block_storage.migrate_volume(volume_id, host=pool)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            volume = self.conn.block_storage.get_volume(volume_id)
            if volume.migration_status == "error":
                raise DriverError(f"volume {volume.name} migration to {pool} failed")
            if volume.host == pool and volume.migration_status in ("success", None):
                return volume
            time.sleep(1)
        raise StepTimeoutError(f"volume {volume_id} did not reach {pool} in {self.timeout} s")

    # ---- deletion ------------------------------------------------------------------------------
    @translated
    def delete_server(self, name_or_id: str) -> bool:
        server = self.conn.compute.find_server(name_or_id, ignore_missing=True)
        if server is None:
            return False
        self.conn.compute.delete_server(server)
        self.conn.compute.wait_for_delete(server, wait=self.timeout)
        return True

    @translated
    def delete_volume(self, name_or_id: str) -> bool:
        volume = self.conn.block_storage.find_volume(name_or_id, ignore_missing=True)
        if volume is None:
            return False
        if volume.status == "in-use":
            for attachment in volume.attachments or []:
                self.detach(attachment["server_id"], volume.id)
        volume = self._volume_ready(volume) if volume.status not in ("available", "error") else volume
        self.conn.block_storage.delete_volume(volume)
        self.conn.block_storage.wait_for_delete(volume, wait=self.timeout)
        return True

    @translated
    def delete_image(self, name_or_id: str) -> bool:
        image = self.conn.image.find_image(name_or_id, ignore_missing=True)
        if image is None:
            return False
        self.conn.image.delete_image(image)
        return True
