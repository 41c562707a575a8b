"""The Kubernetes collector through the official client.

No Kubernetes API server can run on this machine (no kind/k3s/envtest binaries are reachable), so
these tests use a TEST DOUBLE: a small HTTP server on loopback that answers the four list calls the
collector makes (``/api/v1/nodes``, ``/api/v1/pods`` and the ``metrics.k8s.io`` nodes and pods) with
JSON shaped like a real API server's, and checks the bearer token. The real client, kubeconfig
loading, quantity parsing and the inventory writer all run for real. When ``KUBECONFIG`` is set,
``test_real_cluster`` collects from that real cluster instead.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from inventory.db import create_db_engine
from inventory.models import CloudHost, CloudPlatform, NamespaceUsage, Server, UtilizationSample
from tests.conftest import run_cli
from tests.json_api_double import JsonHandler

TOKEN = "k8s-" + "token-never-printed-1234"
BARE_METAL_NODE = "r0001-srv002"  # a surveyed server of the tiny estate that now runs as a node


def _node(name: str, cpu: str, memory: str, ready: str = "True", zone: str = "az1") -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": zone}},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "ephemeral-storage": "100Gi"},
                       "conditions": [{"type": "Ready", "status": ready}]}}


def _pod(namespace: str, name: str, requests: list[dict[str, str]], phase: str = "Running") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": f"c{i}", "resources": {"requests": r}} for i, r in enumerate(requests)]},
            "status": {"phase": phase}}


CLUSTER: dict[str, Any] = {
    "/api/v1/nodes": {"kind": "NodeList", "apiVersion": "v1", "items": [
        _node(BARE_METAL_NODE, "15500m", "62Gi"), _node("k8s-node-2", "16", "64Gi", ready="False", zone="az2")]},
    "/api/v1/pods": {"kind": "PodList", "apiVersion": "v1", "items": [
        _pod("gov-portal", "web-1", [{"cpu": "500m", "memory": "1Gi"}, {"cpu": "250m", "memory": "512Mi"}]),
        _pod("gov-portal", "web-2", [{"cpu": "1", "memory": "2Gi"}]),
        _pod("gov-portal", "migrate-job", [{"cpu": "4", "memory": "8Gi"}], phase="Succeeded"),
        _pod("kube-system", "dns", [{"cpu": "100m"}])]},
    "/apis/metrics.k8s.io/v1beta1/nodes": {"kind": "NodeMetricsList", "items": [
        {"metadata": {"name": BARE_METAL_NODE}, "usage": {"cpu": "3875m", "memory": "31Gi"}},
        {"metadata": {"name": "k8s-node-2"}, "usage": {"cpu": "8", "memory": "16Gi"}}]},
    "/apis/metrics.k8s.io/v1beta1/pods": {"kind": "PodMetricsList", "items": [
        {"metadata": {"name": "web-1", "namespace": "gov-portal"},
         "containers": [{"name": "c0", "usage": {"cpu": "200m", "memory": "700Mi"}},
                        {"name": "c1", "usage": {"cpu": "50m", "memory": "100Mi"}}]},
        {"metadata": {"name": "dns", "namespace": "kube-system"},
         "containers": [{"name": "c0", "usage": {"cpu": "5m", "memory": "20Mi"}}]}]},
}


class _ApiDouble(JsonHandler):
    metrics = True

    def do_GET(self) -> None:  # noqa: N802 (http.server names its handlers so)
        path = self.path.split("?")[0]
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._reply(401, {"kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401})
        elif path in CLUSTER and (self.metrics or "metrics.k8s.io" not in path):
            self._reply(200, CLUSTER[path])
        else:
            self._reply(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})


def _serve(metrics: bool) -> Iterator[str]:
    handler = type("Handler", (_ApiDouble,), {"metrics": metrics})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api_double() -> Iterator[str]:
    yield from _serve(metrics=True)


@pytest.fixture
def api_double_without_metrics() -> Iterator[str]:
    yield from _serve(metrics=False)


def _kubeconfig(tmp_path: Path, server: str, token: str = TOKEN) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "gov-k8s",
        "clusters": [{"name": "double", "cluster": {"server": server}}],
        "users": [{"name": "collector", "user": {"token": token}}],
        "contexts": [{"name": "gov-k8s", "context": {"cluster": "double", "user": "collector"}}]}))
    return path


def test_nodes_namespaces_and_node_use(db_url: str, tiny_estate: Path, tmp_path: Path, api_double: str) -> None:
    assert run_cli("import", str(tiny_estate), db_url=db_url).returncode == 0
    config = _kubeconfig(tmp_path, api_double)
    result = run_cli("collect", "kubernetes", "--kubeconfig", str(config), "--mlps-level", "3", db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "nodes +2" in result.stdout and "1 inventory server(s) measured" in result.stdout.replace("\n", " ")
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        platform = session.exec(select(CloudPlatform).where(CloudPlatform.name == "gov-k8s")).one()
        nodes = {h.name: h for h in session.exec(select(CloudHost).where(CloudHost.platform_id == platform.id))}
        namespaces = {n.namespace: n for n in session.exec(select(NamespaceUsage))}
        node_server = session.exec(select(Server).where(Server.hostname == BARE_METAL_NODE)).one()
        samples = session.exec(select(UtilizationSample).where(UtilizationSample.server_id == node_server.id,
                                                               UtilizationSample.source == "kubernetes")).all()
    engine.dispose()
    assert (platform.kind, platform.vcpus, platform.memory_gb) == ("kubernetes", 31, 126.0)
    assert (platform.allocated_vcpus, platform.allocated_memory_gb) == (2, 3.5)  # 1.85 cores rounded up
    assert (nodes[BARE_METAL_NODE].vcpus, nodes[BARE_METAL_NODE].zone) == (15, "az1")
    assert nodes["k8s-node-2"].state == "down"
    portal = namespaces["gov-portal"]  # the finished job's requests are not counted
    assert (portal.pods, portal.cpu_request, portal.memory_request_gb) == (2, 1.75, 3.5)
    assert portal.cpu_usage == 0.25 and portal.memory_usage_gb == pytest.approx(0.781, abs=1e-3)
    assert (namespaces["kube-system"].cpu_request, namespaces["kube-system"].cpu_usage) == (0.1, 0.005)
    assert [(s.cpu_util, s.memory_util) for s in samples] == [(0.25, 0.5)]  # 3.875/15.5 cores, 31/62 GiB


def test_cluster_without_metrics_api(db_url: str, tmp_path: Path, api_double_without_metrics: str) -> None:
    config = _kubeconfig(tmp_path, api_double_without_metrics)
    result = run_cli("collect", "kubernetes", "--kubeconfig", str(config), "--platform", "k8s-a",
                     "--mlps-level", "2", db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "no metrics API: use unknown" in result.stdout.replace("\n", " ")
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        portal = session.exec(select(NamespaceUsage).where(NamespaceUsage.namespace == "gov-portal")).one()
    engine.dispose()
    assert portal.cpu_request == 1.75 and portal.cpu_usage is None


def test_wrong_token_is_a_clear_error_and_writes_nothing(db_url: str, tmp_path: Path, api_double: str) -> None:
    wrong = "wrong-" + TOKEN
    config = _kubeconfig(tmp_path, api_double, token=wrong)
    result = run_cli("collect", "kubernetes", "--kubeconfig", str(config), "--mlps-level", "3", db_url=db_url)
    assert result.returncode == 2
    assert "HTTP 401" in result.stderr and wrong not in result.stdout + result.stderr
    missing = run_cli("collect", "kubernetes", "--kubeconfig", str(config), "--context", "nope", "--mlps-level", "3",
                      db_url=db_url)
    assert missing.returncode == 2 and "no context 'nope'" in missing.stderr
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        assert session.exec(select(CloudPlatform)).first() is None
    engine.dispose()


@pytest.mark.skipif(not os.environ.get("KUBECONFIG"), reason="KUBECONFIG not set: no real Kubernetes API to read")
def test_real_cluster(db_url: str) -> None:
    """Against the real cluster of $KUBECONFIG (its current context)."""
    result = run_cli("collect", "kubernetes", "--platform", "real-k8s", "--mlps-level", "3", db_url=db_url)
    assert result.returncode == 0, result.stderr
    engine = create_db_engine(db_url)
    with Session(engine) as session:
        platform = session.exec(select(CloudPlatform).where(CloudPlatform.name == "real-k8s")).one()
        nodes = session.exec(select(CloudHost).where(CloudHost.platform_id == platform.id)).all()
    engine.dispose()
    assert nodes and platform.vcpus >= 1
