"""The OpenStack collector against the project's real test cloud (``make testcloud``): what it finds
lands in the inventory, re-collecting changes nothing, deletions disappear, bad credentials are a
clear error that never shows the password."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import Session, select

from inventory.db import create_db_engine
from inventory.models import (
    CloudHost,
    CloudInstance,
    CloudPlatform,
    Server,
    UtilizationDaily,
    UtilizationSample,
    Volume,
)
from tests.conftest import run_cli

pytestmark = [pytest.mark.testcloud]
TIMEOUT = 180


def _collect(db_url: str) -> str:
    result = run_cli("collect", "openstack", "--cloud", "testcloud", "--mlps-level", "3", db_url=db_url)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_collect_mirrors_the_cloud(testcloud: Any, db_url: str, tmp_path: Path, tiny_estate: Path) -> None:
    """Also: the instance is a surveyed server (same name), so its measured use becomes samples and
    rollups, and its real size is reconciled with the survey's."""
    conn = testcloud
    tag = "shangyun-collect-" + uuid.uuid4().hex[:8]
    survey = tmp_path / "survey"
    survey.mkdir()
    (survey / "servers.csv").write_text(f"主机名,所在机房,CPU核数,内存\n{tag},R0001,8,16G\n", encoding="utf-8")
    for path in (tiny_estate, survey):
        assert run_cli("import", str(path), db_url=db_url).returncode == 0
    flavor = conn.compute.create_flavor(name=tag, ram=512, vcpus=2, disk=1)
    image = conn.image.create_image(name=tag, data=os.urandom(1 << 16), disk_format="raw", container_format="bare")
    server = volume = None
    try:
        conn.image.wait_for_status(conn.image.get_image(image), status="active", wait=TIMEOUT)
        server = conn.compute.create_server(name=tag, flavor_id=flavor.id, image_id=image.id, networks="none")
        server = conn.compute.wait_for_server(server, wait=TIMEOUT)
        volume = conn.block_storage.create_volume(name=tag, size=2)
        conn.block_storage.wait_for_status(volume, status="available", wait=TIMEOUT)
        conn.compute.create_volume_attachment(server, volume=volume)
        volume = conn.block_storage.wait_for_status(volume, status="in-use", wait=TIMEOUT)

        assert "1 inventory server(s) measured" in _collect(db_url).replace("\n", " ")
        engine = create_db_engine(db_url)
        with Session(engine) as session:
            platform = session.exec(select(CloudPlatform).where(CloudPlatform.name == "testcloud")).one()
            hosts = session.exec(select(CloudHost)).all()
            mine = session.exec(select(CloudInstance).where(CloudInstance.external_id == server.id)).one()
            disk = session.exec(select(Volume).where(Volume.external_id == volume.id)).one()
            host_name = session.get(CloudHost, mine.host_id).name  # type: ignore[union-attr]
        assert platform.kind == "openstack" and platform.mlps_level == 3 and len(hosts) >= 3
        assert all(h.vcpus > 0 and h.memory_gb > 0 and h.zone == "nova" for h in hosts)
        assert (mine.vcpus, mine.memory_gb, mine.status, mine.project) == (2, 0.5, "active", "admin")
        assert host_name == conn.compute.get_server(server).compute_host
        assert disk.size_gb == 2 and disk.instance_id == mine.id
        # Nova's fake driver reports 15% CPU and no memory in use in every server's diagnostics.
        assert (mine.cpu_util, mine.memory_util) == (0.15, 0.0)
        with Session(engine) as session:
            surveyed = session.exec(select(Server).where(Server.hostname == tag)).one()
            samples = session.exec(select(UtilizationSample).where(UtilizationSample.server_id == surveyed.id)).all()
            daily = session.exec(select(UtilizationDaily).where(UtilizationDaily.server_id == surveyed.id)).all()
        assert [(s.source, s.cpu_util) for s in samples] == [("openstack", 0.15)]
        assert len(daily) == 1 and daily[0].cpu_max == pytest.approx(0.15)
        assert (surveyed.cpu_cores, surveyed.memory_gb) == (2, 0.5)  # measured beats declared
        conflicts = json.loads(run_cli("conflicts", "--host", tag, "--json", db_url=db_url).stdout)
        assert {(c["field"], c["chosen"]["source"], c["others"][0]["value"]) for c in conflicts} == {
            ("cpu_cores", "openstack", 8), ("memory_gb", "openstack", 16.0)}

        assert "instances +0 ~0" in _collect(db_url).replace("\n", " ")  # nothing changed
        snapshot = tmp_path / "snap.json"
        assert run_cli("cloud", "snapshot", "--platform", "testcloud", "--out", str(snapshot),
                       db_url=db_url).returncode == 0
        document = json.loads(snapshot.read_text())
        assert {"id": server.id, "host": host_name, "vcpus": 2, "memory_mb": 512, "disk_gb": 1.0, "cpu_util": 0.15,
                "memory_util": 0.0, "project": "admin", "status": "active", "power_state": "running"
                } in document["instances"]

        conn.compute.delete_volume_attachment(server, volume.id)
        conn.block_storage.wait_for_status(volume, status="available", wait=TIMEOUT)
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=TIMEOUT)
        server = None
        conn.block_storage.delete_volume(volume)
        conn.block_storage.wait_for_delete(volume, wait=TIMEOUT)
        volume = None
        _collect(db_url)
        with Session(engine) as session:
            assert session.exec(select(CloudInstance).where(CloudInstance.name == tag)).first() is None
            assert session.exec(select(Volume).where(Volume.external_id == disk.external_id)).first() is None
        engine.dispose()
    finally:
        if server is not None:
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=TIMEOUT)
        if volume is not None:
            conn.block_storage.delete_volume(volume, force=True)
        conn.image.delete_image(image, ignore_missing=True)
        conn.compute.delete_flavor(flavor, ignore_missing=True)


def test_wrong_credentials_are_a_clear_error_without_the_password(testcloud: Any, db_url: str,
                                                                  tmp_path: Path) -> None:
    config = yaml.safe_load(Path(os.environ["OS_CLIENT_CONFIG_FILE"]).read_text())
    secret = "wrong-" + uuid.uuid4().hex
    config["clouds"]["testcloud"]["auth"]["password"] = secret
    bad = tmp_path / "clouds.yaml"
    bad.write_text(yaml.safe_dump(config))
    env_before = os.environ["OS_CLIENT_CONFIG_FILE"]
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(bad)
    try:
        result = run_cli("collect", "openstack", "--cloud", "testcloud", "--mlps-level", "3", db_url=db_url)
    finally:
        os.environ["OS_CLIENT_CONFIG_FILE"] = env_before
    assert result.returncode == 2
    assert "error:" in result.stderr and secret not in result.stderr + result.stdout
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        assert session.exec(select(CloudPlatform)).first() is None  # nothing half-written
    engine.dispose()
