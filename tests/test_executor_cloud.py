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
from tests.test_executor import _events, _items, _wave_of

pytestmark = [pytest.mark.testcloud]


def _project_driver(conn: Any, department: str) -> OpenStackDriver:
    driver = OpenStackDriver(conn, timeout=180)
    project = conn.identity.find_project(f"dept-{department.lower()}", domain_id="default")
    assert project is not None
    return driver.in_project(project)


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_rehost_wave_on_the_test_cloud(testcloud: Any, planned: str, tmp_path: Path) -> None:
    """On PostgreSQL only: what this test adds is the cloud's side; the executor's database side runs on
    both backends in ``test_executor``."""
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
        only = [flag for code in codes for flag in ("--system", code)]  # the wave's rehost items, nothing else
        result = run_cli("migrate", "run", "--plan", "t", "--wave", str(wave), "--site", str(site), *only,
                         db_url=db_url, timeout=900)
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
            assert items[code].resources["instances"][f"sy-{code.lower()}"]["server_id"] == server.id

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
            instances = session.exec(select(CloudInstance).where(CloudInstance.system_id == system.id)).all()
        engine.dispose()
        made = items[completed].resources["instances"]
        assert system.status == "migrated" and {i.external_id for i in instances} == {
            m["server_id"] for m in made.values()}
    finally:
        for code in moving:
            try:
                driver = _project_driver(conn, department_of[code])
            except AssertionError:
                continue
            for name in (f"sy-{code.lower()}", f"sy-{code.lower()}-2", f"sy-{code.lower()}-3"):
                driver.delete_server(name)
                driver.delete_volume_snapshot(f"{name}-pre-cutover")
                driver.delete_volume(f"{name}-data")
            driver.delete_image(f"sy-{code.lower()}-disk")


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
                         "--vcpus", "40", "--memory-gb", "64", "--mlps-level", "2", "--not-classified",
                         "--purpose", f"quota test {uuid.uuid4().hex[:6]}",
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


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_item_of_several_instances_makes_each_with_its_volume(testcloud: Any, db_url: str,
                                                                  tmp_path: Path) -> None:
    """A system the plan sizes as 2 × t.2c4g (its demand exceeds every single flavor) gets two servers,
    each with its data volume and snapshot, quotas for both, verification of both copies, a rollback that
    removes both, and on completion two cloud instances in the inventory."""
    from tests.survey_files import write_csv_folder

    code = f"S{tmp_path.name[-6:].upper().replace('_', '')[:6]}"
    survey = {
        "部门": [["部门编码", "部门名称"], ["DM2", "市多实例测试局"]],
        "机房": [["机房编码", "机房名称", "所属部门"], ["RM2", "测试机房", "DM2"]],
        "服务器": [["主机名", "所在机房", "CPU核数", "内存", "存储"], ["m2-app-01", "RM2", "2", "4G", "20G"],
                   ["m2-app-02", "RM2", "2", "4G", "20G"]],
        "信息系统": [["系统编码", "系统名称", "所属部门", "是否涉密", "等保级别", "部署服务器"],
                     [code, "多实例系统", "DM2", "否", "二级", "m2-app-01、m2-app-02"]],
        "云平台": [["平台名称", "类型", "等保级别", "vCPU总量", "内存总量", "存储总量"],
                   ["testcloud", "openstack", "三级", "1000", "4T", "100T"]],
        "规格": [["平台名称", "规格名称", "vCPU", "内存", "磁盘", "月单价"],
                 ["testcloud", "t.2c4g", "2", "4G", "0", "200"]],
    }
    write_csv_folder(tmp_path / "survey", survey)
    for args in (("import", str(tmp_path / "survey")), ("plan", "create", "--name", "m2", "--start", "2027-01-04")):
        assert run_cli(*args, db_url=db_url).returncode == 0
    document = yaml.safe_load(run_cli("plan", "export", "m2", db_url=db_url).stdout)
    target = document["waves"][0]["items"][0]["target"]
    assert (target["flavor"], target["count"], target["allocated"]["instances"]) == ("t.2c4g", 2, 2)
    sources = tmp_path / "sources"
    for hostname in ("m2-app-01", "m2-app-02"):
        (sources / hostname / "data").mkdir(parents=True)
        (sources / hostname / "data" / "rows.csv").write_text(f"{hostname}\n" * 100, encoding="utf-8")
    site = tmp_path / "site.yml"
    site.write_text(yaml.safe_dump({
        "connection": "local", "source_root": str(sources), "target_root": str(tmp_path / "targets"),
        "address_root": str(tmp_path), "power_off": False, "artifacts": str(tmp_path / "runs"),
        "openstack": {"default_cloud": "testcloud", "networks": "none", "volume_gb_cap": 1}}), encoding="utf-8")
    names = [f"sy-{code.lower()}", f"sy-{code.lower()}-2"]
    conn = testcloud
    try:
        for attempt in ("rollback", "complete"):
            result = run_cli("migrate", "run", "--plan", "m2", "--wave", "1", "--site", str(site), db_url=db_url,
                             timeout=900)
            assert result.returncode == 0, result.stderr[-3000:]
            item = _items(db_url)[code]
            assert item.state == ItemState.WAITING and "signoff" in (item.error or ""), item.error
            cloud = _project_driver(conn, "DM2").conn
            servers = [cloud.compute.find_server(n) for n in names]
            assert all(s is not None and cloud.compute.get_server(s).status == "ACTIVE" for s in servers)
            assert {cloud.compute.get_server(s).flavor["original_name"] for s in servers} == {"t.2c4g"}
            volumes = [cloud.block_storage.find_volume(f"{n}-data") for n in names]
            assert [cloud.block_storage.get_volume(v).status for v in volumes] == ["in-use", "in-use"]
            assert all(len(list(cloud.block_storage.snapshots(name=f"{n}-pre-cutover"))) == 1 for n in names)
            project = conn.identity.find_project("dept-dm2", domain_id="default")
            quota = conn.compute.get_quota_set(project, usage=True)
            assert quota.instances >= 2 and quota.cores >= 4 and quota.usage["instances"] == 2
            checks = [e for e in _events(db_url, item.id or 0) if e.step == "verify" and e.phase == "after"][-1]
            assert checks.payload is not None and len([c for c in checks.payload["checks"] if c["kind"] == "data"]) == 2
            if attempt == "rollback":
                assert run_cli("migrate", "rollback", str(item.id), db_url=db_url, timeout=600).returncode == 0
                assert all(cloud.compute.find_server(n, ignore_missing=True) is None for n in names)
                assert all(cloud.block_storage.find_volume(f"{n}-data", ignore_missing=True) is None for n in names)
                assert not any(list(cloud.block_storage.snapshots(name=f"{n}-pre-cutover")) for n in names)
        assert run_cli("migrate", "approve", str(item.id), "signoff", db_url=db_url).returncode == 0
        assert run_cli("migrate", "resume", db_url=db_url, timeout=600).returncode == 0
        assert _items(db_url)[code].state == ItemState.COMPLETED
        engine = create_db_engine(db_url)
        with Session(engine) as session:
            system = session.exec(select(BusinessSystem).where(BusinessSystem.code == code)).one()
            made = session.exec(select(CloudInstance).where(CloudInstance.system_id == system.id)).all()
        engine.dispose()
        assert sorted(i.name for i in made) == names and all(i.vcpus == 2 and i.memory_gb == 4 for i in made)
    finally:
        try:
            cleanup: OpenStackDriver | None = _project_driver(conn, "DM2")
        except AssertionError:
            cleanup = None
        if cleanup is not None:
            driver = cleanup
            for name in names:
                driver.delete_server(name)
                driver.delete_volume_snapshot(f"{name}-pre-cutover")
                driver.delete_volume(f"{name}-data")
            driver.delete_image(f"{names[0]}-disk")
