"""Applying rebalance proposals on the project's real OpenStack test cloud (``make testcloud``, three
fake-driver compute hosts, two Cinder pools): a proposal waits for approval and moves nothing until
approved; approved, its live migrations really move the servers and the inventory follows; ``--auto``
applies at once; the first failing move stops the rest; a proposal planned on an outdated view is
stale; a volume moves between pools. Also measured use lands in the platform's daily history."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, select

from drivers.openstack import OpenStackDriver
from inventory.audit import Actor
from inventory.db import create_db_engine
from inventory.models import CloudHost, CloudInstance, CloudPlatform, PlatformDaily
from scheduler.proposals import apply, approve, events, store_proposal
from scheduler.rebalance import Move, Result
from tests.conftest import run_cli

pytestmark = [pytest.mark.testcloud]
TIMEOUT = 180


@pytest.fixture
def two_servers(testcloud: Any) -> Iterator[tuple[Any, list[Any]]]:
    """Two small servers, pinned to two different compute hosts."""
    conn = testcloud
    tag = "sy-rebal-" + uuid.uuid4().hex[:6]
    hosts = sorted(h.host for h in conn.compute.services() if h.binary == "nova-compute" and h.state == "up")
    flavor = conn.compute.create_flavor(name=tag, ram=256, vcpus=1, disk=1)
    image = conn.image.create_image(name=tag, data=os.urandom(1 << 16), disk_format="raw", container_format="bare")
    servers: list[Any] = []
    try:
        conn.image.wait_for_status(conn.image.get_image(image), status="active", wait=TIMEOUT)
        for k, host in enumerate(hosts[:2]):
            server = conn.compute.create_server(name=f"{tag}-{k}", flavor_id=flavor.id, image_id=image.id,
                                                networks="none", availability_zone=f"nova:{host}")
            servers.append(conn.compute.wait_for_server(server, wait=TIMEOUT))
        yield conn, servers
    finally:
        for server in servers:
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=TIMEOUT)
        conn.image.delete_image(image)
        conn.compute.delete_flavor(flavor)


def _hosts(conn: Any, servers: list[Any]) -> list[str]:
    return [conn.compute.get_server(s.id).compute_host for s in servers]


def _collect(db_url: str) -> None:
    result = run_cli("collect", "openstack", "--cloud", "testcloud", "--mlps-level", "3", db_url=db_url)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_proposal_waits_for_approval_then_moves_the_servers(two_servers: tuple[Any, list[Any]],
                                                               db_url: str) -> None:
    conn, servers = two_servers
    _collect(db_url)
    result = run_cli("schedule", "rebalance", "--platform", "testcloud", "--goal", "consolidate", "--apply",
                     "--json", db_url=db_url)
    assert result.returncode == 0, result.stderr
    planned = json.loads(result.stdout)
    mine = {s.id for s in servers}
    assert any(m["instance"] in mine for m in planned["moves"])
    listed = json.loads(run_cli("schedule", "proposals", "--json", db_url=db_url).stdout)
    assert [(p["status"], p["moves_done"], p["moves"]) for p in listed] == [("proposed", 0, len(planned["moves"]))]
    before = _hosts(conn, servers)
    assert before[0] != before[1]  # nothing moved without approval

    approved = run_cli("schedule", "approve", str(listed[0]["id"]), "--cloud", "testcloud", db_url=db_url,
                       timeout=900)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert "completed" in approved.stdout
    where = {s.id: conn.compute.get_server(s.id).compute_host for s in servers}
    for move in planned["moves"]:
        if move["instance"] in where:
            assert where[move["instance"]] == move["to"]
    assert len(set(where.values())) == 1  # the two servers now share a host
    log = json.loads(run_cli("schedule", "events", str(listed[0]["id"]), "--json", db_url=db_url).stdout)
    assert [e["kind"] for e in log][:2] == ["proposed", "approved"] and log[-1]["kind"] == "finished"
    assert sum(1 for e in log if e["kind"] == "move" and e["status"] == "ok") == len(planned["moves"])
    engine = create_db_engine(db_url)
    with Session(engine) as session:  # the inventory follows the moves before the next collection
        for server in servers:
            row = session.exec(select(CloudInstance).where(CloudInstance.external_id == server.id)).one()
            assert session.get(CloudHost, row.host_id).name == where[server.id]  # type: ignore[union-attr]
        platform = session.exec(select(CloudPlatform).where(CloudPlatform.name == "testcloud")).one()
        day = session.exec(select(PlatformDaily).where(PlatformDaily.platform_id == platform.id)).one()
    engine.dispose()
    # Nova's fake driver reports 15% CPU for every server: measured use reaches the history.
    assert platform.used_vcpus is not None and platform.used_vcpus > 0 and day.used_vcpus == platform.used_vcpus


def test_auto_applies_without_approval(two_servers: tuple[Any, list[Any]], db_url: str) -> None:
    conn, servers = two_servers
    _collect(db_url)
    result = run_cli("schedule", "rebalance", "--platform", "testcloud", "--goal", "consolidate", "--auto",
                     "--cloud", "testcloud", db_url=db_url, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(set(_hosts(conn, servers))) == 1
    listed = json.loads(run_cli("schedule", "proposals", "--json", db_url=db_url).stdout)
    assert listed[0]["status"] == "completed" and listed[0]["decided_by"].startswith("cli:")


def test_a_server_that_is_not_running_stays_where_it_is(two_servers: tuple[Any, list[Any]], db_url: str) -> None:
    """Nova live-migrates only running servers (a stopped one, or an ``active`` one whose hypervisor lost
    it, gets HTTP 409). The collector records the power state and consolidation leaves such a server,
    and the host it is on, alone."""
    conn, servers = two_servers
    conn.compute.stop_server(servers[0])
    conn.compute.wait_for_server(servers[0], status="SHUTOFF", wait=TIMEOUT)
    _collect(db_url)
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        row = session.exec(select(CloudInstance).where(CloudInstance.external_id == servers[0].id)).one()
        assert (row.status, row.power_state) == ("shutoff", "shutdown")
        running = session.exec(select(CloudInstance).where(CloudInstance.external_id == servers[1].id)).one()
        assert (running.status, running.power_state) == ("active", "running")
    engine.dispose()
    stopped_on = _hosts(conn, servers)[0]
    result = run_cli("schedule", "rebalance", "--platform", "testcloud", "--goal", "consolidate", "--json",
                     db_url=db_url)
    assert result.returncode == 0, result.stderr
    moves = json.loads(result.stdout)["moves"]
    assert all(m["instance"] != servers[0].id and m["from"] != stopped_on for m in moves)


def test_the_first_failure_stops_the_rest_and_an_outdated_proposal_is_stale(
        two_servers: tuple[Any, list[Any]], db_url: str) -> None:
    conn, servers = two_servers
    _collect(db_url)
    first, second = _hosts(conn, servers)
    third = next(h.host for h in conn.compute.services() if h.binary == "nova-compute" and h.host not in
                 (first, second))
    driver = OpenStackDriver(conn, timeout=TIMEOUT)
    engine = create_db_engine(db_url)
    actor = Actor("test")
    with Session(engine) as session:
        failing = store_proposal(session, "testcloud", Result("balance", [
            Move("live_migrate", servers[0].id, first, third),
            Move("live_migrate", "00000000-0000-0000-0000-000000000000", second, third),
            Move("live_migrate", servers[1].id, second, third)], {}, {}, 0.0), 0.8, None, actor)
        assert failing.id is not None
        approve(session, failing.id, actor)
        done = apply(session, failing.id, driver)
        assert (done.status, done.moves_done) == ("failed", 1) and "not found" in (done.error or "")
        assert _hosts(conn, servers) == [third, second]  # the move after the failure was not tried
        statuses = [(e.move_index, e.status) for e in events(session, failing.id) if e.kind == "move"]
        assert statuses == [(0, "started"), (0, "ok"), (1, "started"), (1, "failed")]

        outdated = store_proposal(session, "testcloud", Result("balance", [
            Move("live_migrate", servers[1].id, first, third)], {}, {}, 0.0), 0.8, None, actor)
        assert outdated.id is not None
        approve(session, outdated.id, actor)
        stale = apply(session, outdated.id, driver)
        assert stale.status == "stale" and f"is on {second}" in (stale.error or "")
        assert _hosts(conn, servers)[1] == second

        volume = conn.block_storage.create_volume(name=f"{servers[0].name}-vol", size=1)
        try:
            volume = conn.block_storage.wait_for_status(volume, status="available", wait=TIMEOUT)
            pools = sorted(p.name for p in conn.block_storage.backend_pools())
            target = next(p for p in pools if p != volume.host)
            storage = store_proposal(session, "testcloud", Result("storage", [
                Move("volume_migrate", volume.id, volume.host, target)], {}, {}, 0.0), 0.8, None, actor)
            assert storage.id is not None
            approve(session, storage.id, actor)
            assert apply(session, storage.id, driver).status == "completed"
            assert conn.block_storage.get_volume(volume.id).host == target
        finally:
            conn.block_storage.delete_volume(volume)
            conn.block_storage.wait_for_delete(volume, wait=TIMEOUT)
    engine.dispose()
