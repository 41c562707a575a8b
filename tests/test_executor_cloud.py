"""A whole rehost wave against the project's real OpenStack test cloud (``make testcloud``), with real
Ansible steps on local directories standing in for the source servers: servers ACTIVE, data volumes
attached, pre-cutover snapshots taken; a rollback deletes what its item made; a completed item points
the inventory at its cloud instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import Session, col, select

from drivers.openstack import OpenStackDriver
from inventory.db import create_db_engine
from inventory.models import BusinessSystem, CloudInstance, ItemState, Server, SystemServer
from tests.conftest import run_cli
from tests.test_executor import _items, _wave_of

pytestmark = [pytest.mark.testcloud]


def _project_driver(conn: Any, department: str) -> OpenStackDriver:
    driver = OpenStackDriver(conn, timeout=180)
    project = conn.identity.find_project(f"dept-{department.lower()}", domain_id="default")
    assert project is not None
    return driver.in_project(project)


def test_rehost_wave_on_the_test_cloud(testcloud: Any, planned: str, tmp_path: Path) -> None:
    db_url = planned
    wave, codes = _wave_of(db_url, "rehost", at_least=2)
    moving = codes[:2]
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        hosts = {code: list(session.exec(
            select(Server.hostname).join(SystemServer, col(SystemServer.server_id) == Server.id)
            .join(BusinessSystem, col(BusinessSystem.id) == SystemServer.system_id).where(BusinessSystem.code == code)))
            for code in codes}
    engine.dispose()
    sources = tmp_path / "sources"
    for code in moving:  # only these two have data; the wave's other items fail their preflight
        for hostname in hosts[code]:
            (sources / hostname / "data").mkdir(parents=True)
            (sources / hostname / "data" / "db.dump").write_bytes(hostname.encode() * 1000)
    site = tmp_path / "site.yml"
    site.write_text(yaml.safe_dump({
        "connection": "local", "source_root": str(sources), "target_root": str(tmp_path / "targets"),
        "address_root": str(tmp_path), "power_off": False, "artifacts": str(tmp_path / "runs"),
        "openstack": {"default_cloud": "testcloud", "networks": "none", "volume_gb_cap": 1}}), encoding="utf-8")
    inventory = run_cli("export", "ansible-inventory", db_url=db_url)
    hostvars = yaml.safe_load(inventory.stdout)["_meta"]["hostvars"]
    department_of = {code: hostvars[hosts[code][0]]["shangyun_department"] for code in moving}
    conn = testcloud
    try:
        result = run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site), db_url=db_url,
                         timeout=900)
        assert result.returncode == 0, result.stderr[-3000:]
        items = _items(db_url)
        for code in codes:
            expected = ItemState.WAITING if code in moving else ItemState.ROLLED_BACK
            assert items[code].state == expected, (code, items[code].error)
        for code in moving:
            cloud = _project_driver(conn, department_of[code]).conn
            server = cloud.compute.find_server(f"sy-{code.lower()}")
            volume = cloud.block_storage.find_volume(f"sy-{code.lower()}-data")
            snapshots = list(cloud.block_storage.snapshots(name=f"sy-{code.lower()}-pre-cutover"))
            assert cloud.compute.get_server(server).status == "ACTIVE"
            assert cloud.block_storage.get_volume(volume).status == "in-use"
            assert [s.status for s in snapshots] == ["available"]
            assert items[code].resources["server_id"] == server.id

        rolled, completed = moving
        assert run_cli("migrate", "rollback", str(items[rolled].id), db_url=db_url, timeout=600).returncode == 0
        cloud = _project_driver(conn, department_of[rolled]).conn
        assert cloud.compute.find_server(f"sy-{rolled.lower()}", ignore_missing=True) is None
        assert cloud.block_storage.find_volume(f"sy-{rolled.lower()}-data", ignore_missing=True) is None
        assert not list(cloud.block_storage.snapshots(name=f"sy-{rolled.lower()}-pre-cutover"))
        assert cloud.image.find_image(f"sy-{rolled.lower()}-disk", ignore_missing=True) is None
        assert _items(db_url)[rolled].state == ItemState.ROLLED_BACK

        assert run_cli("migrate", "approve", str(items[completed].id), "signoff", db_url=db_url).returncode == 0
        assert run_cli("migrate", "resume", db_url=db_url, timeout=600).returncode == 0
        assert _items(db_url)[completed].state == ItemState.COMPLETED
        engine = create_db_engine(db_url)
        with Session(engine) as session:
            system = session.exec(select(BusinessSystem).where(BusinessSystem.code == completed)).one()
            instance = session.exec(select(CloudInstance).where(CloudInstance.system_id == system.id)).one()
        engine.dispose()
        assert system.status == "migrated" and instance.external_id == items[completed].resources["server_id"]
    finally:
        for code in moving:
            try:
                driver = _project_driver(conn, department_of[code])
            except AssertionError:
                continue
            name = f"sy-{code.lower()}"
            driver.delete_server(name)
            driver.delete_volume_snapshot(f"{name}-pre-cutover")
            driver.delete_volume(f"{name}-data")
            driver.delete_image(f"{name}-disk")


def test_openstack_driver_is_idempotent_and_moves_things(testcloud: Any) -> None:
    """Each ensure_… run twice changes nothing the second time; live and cold migration change the host;
    a volume moves between pools; a deleted flavor and an exhausted quota are clear errors."""
    import os
    import uuid

    from drivers.errors import NotFoundError, QuotaExceededError

    driver = OpenStackDriver(testcloud, timeout=180)
    tag = "sy-drv-" + uuid.uuid4().hex[:6]
    project, changed = driver.ensure_project(f"{tag}-dept", {"cores": 2, "ram_mb": 1024, "instances": 2})
    assert changed and driver.ensure_project(f"{tag}-dept", {"cores": 2})[1] is False
    scoped = driver.in_project(project)
    try:
        assert driver.ensure_flavor(tag, 1, 256, 1)[1] and not driver.ensure_flavor(tag, 1, 256, 1)[1]
        assert scoped.ensure_image(f"{tag}-img", os.urandom(1 << 16))[1]
        assert not scoped.ensure_image(f"{tag}-img", b"ignored")[1]
        server, made = scoped.ensure_server(tag, tag, f"{tag}-img")
        assert made and server.status == "ACTIVE" and not scoped.ensure_server(tag, tag, f"{tag}-img")[1]
        admin = OpenStackDriver(testcloud, timeout=180)
        before = admin.conn.compute.get_server(server.id).compute_host
        after = admin.live_migrate(server.id).compute_host
        assert after != before
        assert admin.cold_migrate(server.id).compute_host != after

        volume, made = scoped.ensure_volume(f"{tag}-vol", 1)
        assert made and not scoped.ensure_volume(f"{tag}-vol", 1)[1]
        pools = sorted(p.name for p in admin.conn.block_storage.backend_pools())
        source = admin.conn.block_storage.get_volume(volume.id).host
        moved = admin.migrate_volume(volume.id, next(p for p in pools if p != source))
        assert moved.host != source
        assert scoped.ensure_attached(server.id, volume.id) and not scoped.ensure_attached(server.id, volume.id)
        assert scoped.ensure_volume_snapshot(volume.id, f"{tag}-snap")[1]

        admin.conn.compute.update_quota_set(project, cores=2)  # the department's limit, set by the cloud team
        driver.ensure_flavor(f"{tag}-big", 4, 256, 1)
        with pytest.raises(QuotaExceededError, match="quota"):  # 2 cores allowed, one in use, asks for 4
            scoped.ensure_server(f"{tag}-big", f"{tag}-big", f"{tag}-img")
        admin.conn.compute.delete_flavor(admin.find_flavor(f"{tag}-big"))
        with pytest.raises(NotFoundError, match="no longer exists"):
            scoped.ensure_server(f"{tag}-gone", f"{tag}-big", f"{tag}-img")
    finally:
        scoped.delete_server(f"{tag}-big")
        scoped.delete_server(tag)
        scoped.delete_volume_snapshot(f"{tag}-snap")
        scoped.delete_volume(f"{tag}-vol")
        scoped.delete_image(f"{tag}-img")
        for name in (tag, f"{tag}-big"):
            flavor = testcloud.compute.find_flavor(name, ignore_missing=True)
            if flavor is not None:
                testcloud.compute.delete_flavor(flavor)
        testcloud.identity.delete_project(project)
    assert scoped.delete_server(tag) is False  # already gone: nothing to delete


def test_an_approved_request_raises_the_project_quota(testcloud: Any, db_url: str, tiny_estate: Path) -> None:
    import uuid

    assert run_cli("import", str(tiny_estate), db_url=db_url).returncode == 0
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        from inventory.models import CloudPlatform, Department

        platform = session.exec(select(CloudPlatform).where(CloudPlatform.kind == "openstack")).first()
        department = session.exec(select(Department).order_by(col(Department.code).desc())).first()
    engine.dispose()
    assert platform is not None and department is not None
    project_name = f"dept-{department.code.lower()}"
    existing = testcloud.identity.find_project(project_name, domain_id="default")
    before = testcloud.compute.get_quota_set(existing, usage=True).cores if existing else 0
    try:
        result = run_cli("capacity", "request", "--department", department.code, "--platform", platform.name,
                         "--vcpus", "40", "--memory-gb", "64", "--purpose", f"quota test {uuid.uuid4().hex[:6]}",
                         "--cloud", "testcloud", db_url=db_url)
        assert result.returncode == 0, result.stderr
        assert "approved" in result.stdout and "quota raised on the platform" in result.stdout, result.stdout
        project = testcloud.identity.find_project(project_name, domain_id="default")
        quota = testcloud.compute.get_quota_set(project, usage=True)
        assert quota.cores >= quota.usage.get("cores", 0) + 40 and quota.cores >= before
        assert quota.ram >= 64 * 1024
    finally:
        project = testcloud.identity.find_project(project_name, domain_id="default")
        if project is not None and existing is None and not list(testcloud.compute.servers(project_id=project.id,
                                                                                            all_projects=True)):
            testcloud.identity.delete_project(project)
