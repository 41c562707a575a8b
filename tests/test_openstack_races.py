"""Every OpenStack ``ensure_…`` converges when a racer made the same resource between our look and our
create, on the project's real test cloud (``make testcloud``).

The interleaving is made certain rather than hoped for: the racer makes the resource first, with a plain
driver; then our driver runs on a connection whose first look for that resource is stale (it answers
"not there"), exactly as if the racer's create had landed just after our look. Keystone and Nova refuse
the duplicate project or flavor with 409; Glance, Cinder and Nova let a second image, volume, snapshot
or server be made, and the driver must settle on the older one and remove its own. The stale answer is
the only stand-in; every create, conflict and deletion is the real cloud's.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from drivers.openstack import OpenStackDriver

pytestmark = [pytest.mark.testcloud]


class _StaleOnce:
    """An SDK proxy whose method ``name`` answers ``stale`` on its first call, then is the real one."""

    def __init__(self, proxy: Any, name: str, stale: Any) -> None:
        self._proxy, self._name, self._stale, self.used = proxy, name, stale, False

    def __getattr__(self, attr: str) -> Any:
        if attr == self._name and not self.used:
            self.used = True
            return lambda *args, **kwargs: self._stale
        return getattr(self._proxy, attr)


class _Connection:
    """A connection that is the real one except for the proxies given."""

    def __init__(self, real: Any, **proxies: Any) -> None:
        self._real = real
        self.__dict__.update(proxies)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._real, attr)


def _stale(conn: Any, proxy: str, method: str, answer: Any) -> tuple[OpenStackDriver, _StaleOnce]:
    wrapped = _StaleOnce(getattr(conn, proxy), method, answer)
    return OpenStackDriver(_Connection(conn, **{proxy: wrapped}), timeout=180), wrapped


def _eventually(count: Callable[[], int], wanted: int, what: str) -> None:
    deadline = time.monotonic() + 90
    while (found := count()) != wanted:
        assert time.monotonic() < deadline, f"{what}: {found}, not {wanted}"
        time.sleep(1)


def test_project_and_flavor_adopt_the_winner_after_409(testcloud: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    racer = OpenStackDriver(testcloud, timeout=180)
    project, made = racer.ensure_project(f"dept-race-{tag}", {})
    flavor, made_flavor = racer.ensure_flavor(f"race-{tag}", 1, 128, 0)
    try:
        assert made and made_flavor
        ours, looked = _stale(testcloud, "identity", "find_project", None)
        adopted, _ = ours.ensure_project(f"dept-race-{tag}", {"cores": 2})
        assert looked.used and adopted.id == project.id
        assert [p.id for p in testcloud.identity.projects(name=f"dept-race-{tag}")] == [project.id]
        ours, looked = _stale(testcloud, "compute", "find_flavor", None)
        same, changed = ours.ensure_flavor(f"race-{tag}", 1, 128, 0)
        assert looked.used and (same.id, changed) == (flavor.id, False)
    finally:
        testcloud.compute.delete_flavor(flavor, ignore_missing=True)
        testcloud.identity.delete_project(project, ignore_missing=True)


def test_image_volume_server_attachment_and_snapshot_settle_on_the_older(testcloud: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    admin = OpenStackDriver(testcloud, timeout=180)
    project, _ = admin.ensure_project(f"dept-race-{tag}", {"cores": 8, "ram_mb": 8192, "instances": 4,
                                                            "gigabytes": 20, "volumes": 6, "snapshots": 4})
    flavor, _ = admin.ensure_flavor(f"race-{tag}", 1, 128, 0)
    racer = admin.in_project(project)
    conn = racer.conn
    name = f"race-{tag}"
    try:
        image, _ = racer.ensure_image(f"{name}-disk", b"\0" * (1 << 20))
        ours, looked = _stale(conn, "image", "images", [])
        adopted, changed = ours.ensure_image(f"{name}-disk", b"\1" * (1 << 20))
        assert looked.used and (adopted.id, changed) == (image.id, False)
        _eventually(lambda: len([i for i in conn.image.images(name=f"{name}-disk")]), 1, "images")

        volume, _ = racer.ensure_volume(f"{name}-data", 1)
        ours, looked = _stale(conn, "block_storage", "volumes", [])
        adopted, changed = ours.ensure_volume(f"{name}-data", 1)
        assert looked.used and (adopted.id, changed) == (volume.id, False)
        _eventually(lambda: len(list(conn.block_storage.volumes(name=f"{name}-data"))), 1, "volumes")

        server, _ = racer.ensure_server(name, flavor.name, f"{name}-disk")
        ours, looked = _stale(conn, "compute", "servers", [])
        adopted, changed = ours.ensure_server(name, flavor.name, f"{name}-disk")
        assert looked.used and (adopted.id, changed) == (server.id, False) and adopted.status == "ACTIVE"
        _eventually(lambda: len([s for s in conn.compute.servers(name=name) if s.name == name]), 1, "servers")

        assert racer.ensure_attached(server.id, volume.id) is True
        ours, looked = _stale(conn, "compute", "volume_attachments", [])
        assert ours.ensure_attached(server.id, volume.id) is False and looked.used
        assert [a.volume_id for a in conn.compute.volume_attachments(server.id)] == [volume.id]

        snapshot, _ = racer.ensure_volume_snapshot(volume.id, f"{name}-snap")
        ours, looked = _stale(conn, "block_storage", "snapshots", [])
        adopted, changed = ours.ensure_volume_snapshot(volume.id, f"{name}-snap")
        assert looked.used and (adopted.id, changed) == (snapshot.id, False)
        _eventually(lambda: len(list(conn.block_storage.snapshots(name=f"{name}-snap"))), 1, "snapshots")
    finally:  # everything of this name, duplicates included, without hiding the test's own failure
        for snap in conn.block_storage.snapshots(name=f"{name}-snap"):
            with contextlib.suppress(Exception):
                conn.block_storage.delete_snapshot(snap)
                conn.block_storage.wait_for_delete(snap, wait=120)
        for found in conn.compute.servers(name=name):
            with contextlib.suppress(Exception):
                conn.compute.delete_server(found)
                conn.compute.wait_for_delete(found, wait=120)
        for vol in conn.block_storage.volumes(name=f"{name}-data"):
            with contextlib.suppress(Exception):
                conn.block_storage.delete_volume(vol)
        for found in conn.image.images(name=f"{name}-disk"):
            with contextlib.suppress(Exception):
                conn.image.delete_image(found)
        testcloud.compute.delete_flavor(flavor, ignore_missing=True)
        testcloud.identity.delete_project(project, ignore_missing=True)
