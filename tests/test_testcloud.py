"""The project's OpenStack test cloud is real and does what Shangyun's drivers will rely on:
hypervisors, flavors, images, servers, live migration, volumes and volume migration between pools.

Runs against the cloud ``make testcloud`` starts (real Keystone, Nova, Cinder …; Nova's fake
hypervisor driver and Cinder's fake volume driver stand in for hardware).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from openstack.exceptions import NotFoundException

pytestmark = [pytest.mark.testcloud]
TIMEOUT = 180


def _wait(what: str, probe: Callable[[], Any], done: Callable[[Any], bool], timeout: int = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: still {value!r} after {timeout} s")
        time.sleep(1)


def _server_settled(conn: Any, server: Any, status: str) -> Any:
    def settled(s: Any) -> bool:
        if s.status == "ERROR":
            raise AssertionError(f"server went to ERROR: {s.fault}")
        return bool(s.status == status and not s.task_state)

    return _wait(f"server {status}", lambda: conn.compute.get_server(server), settled)


def test_hypervisors_and_storage_pools(testcloud: Any) -> None:
    conn = testcloud
    hypervisors = list(conn.compute.hypervisors(details=True))
    assert len(hypervisors) >= 3 and all(h.state == "up" and h.status == "enabled" for h in hypervisors)
    pools = sorted(p.name for p in conn.block_storage.backend_pools())
    assert len(pools) >= 2 and len({p.split("@")[1].split("#")[0] for p in pools}) >= 2


def test_server_lifecycle_live_migration_and_volume_moves(testcloud: Any) -> None:
    conn = testcloud
    tag = "shangyun-smoke-" + uuid.uuid4().hex[:8]
    created: dict[str, Any] = {}
    try:
        flavor = created["flavor"] = conn.compute.create_flavor(name=tag, ram=256, vcpus=1, disk=1)
        image = created["image"] = conn.image.create_image(name=tag, data=os.urandom(1 << 20), disk_format="raw",
                                                           container_format="bare", visibility="private")
        conn.image.wait_for_status(conn.image.get_image(image), status="active", wait=TIMEOUT)
        server = created["server"] = conn.compute.create_server(name=tag, flavor_id=flavor.id, image_id=image.id,
                                                                networks="none")
        server = _server_settled(conn, server, "ACTIVE")
        source = server.compute_host

        conn.compute.live_migrate_server(server, host=None, block_migration="auto")
        server = _server_settled(conn, server, "ACTIVE")
        assert server.compute_host != source, "live migration did not change host"
        # The server settles on its new host a moment before Nova marks the migration record completed.
        _wait("live-migration record completed",
              lambda: {(m.migration_type, m.status) for m in conn.compute.migrations(instance_uuid=server.id)},
              lambda kinds: ("live-migration", "completed") in kinds, timeout=60)

        pools = sorted(p.name for p in conn.block_storage.backend_pools())
        volume = created["volume"] = conn.block_storage.create_volume(name=tag, size=1)
        volume = conn.block_storage.wait_for_status(volume, status="available", wait=TIMEOUT)
        volume = _migrate_volume(conn, volume, pools, "available")

        conn.compute.create_volume_attachment(server, volume=volume)
        volume = conn.block_storage.wait_for_status(volume, status="in-use", wait=TIMEOUT)
        assert [a.volume_id for a in conn.compute.volume_attachments(server)] == [volume.id]
        volume = _migrate_volume(conn, volume, pools, "in-use")  # Cinder has Nova swap the attached volume
        _wait("attachment re-pointed", lambda: conn.block_storage.get_volume(volume),
              lambda v: [a.get("server_id") for a in v.attachments] == [server.id])
        conn.compute.delete_volume_attachment(server, volume.id)
        conn.block_storage.wait_for_status(volume, status="available", wait=TIMEOUT)
    finally:
        _clean_up(conn, created)
    assert not [s for s in conn.compute.servers() if s.name == tag]
    assert not [v for v in conn.block_storage.volumes() if v.name == tag]
    assert not [i for i in conn.image.images() if i.name == tag]
    with pytest.raises(NotFoundException):
        conn.compute.find_flavor(tag, ignore_missing=False)


def _migrate_volume(conn: Any, volume: Any, pools: list[str], status: str) -> Any:
    source = volume.host
    target = next(p for p in pools if p != source)
    conn.block_storage.migrate_volume(volume, host=target)

    def moved(v: Any) -> bool:
        if v.migration_status == "error" or v.status == "error":
            raise AssertionError(f"volume migration failed: {v.status}/{v.migration_status}")
        return bool(v.status == status and v.host == target and v.migration_status == "success")

    return _wait(f"volume on {target}", lambda: conn.block_storage.get_volume(volume), moved)


def _clean_up(conn: Any, created: dict[str, Any]) -> None:
    if "server" in created:
        conn.compute.delete_server(created["server"])
        conn.compute.wait_for_delete(created["server"], wait=TIMEOUT)
    if "volume" in created:
        conn.block_storage.wait_for_status(created["volume"], status="available", failures=["error"], wait=TIMEOUT)
        conn.block_storage.delete_volume(created["volume"])
        conn.block_storage.wait_for_delete(created["volume"], wait=TIMEOUT)
    if "image" in created:
        conn.image.delete_image(created["image"], ignore_missing=True)
    if "flavor" in created:
        conn.compute.delete_flavor(created["flavor"], ignore_missing=True)
