"""The Kubernetes driver through the official client.

No Kubernetes API server can run on this machine, so these tests use a TEST DOUBLE: a small HTTP
server on loopback that stores objects by path like the API server does (create → 201 or 409,
read → 404 when missing, replace, delete), reports a Deployment's replicas ready, enforces a
namespace's ResourceQuota on requested CPU, and checks the bearer token. The client, the driver's
idempotence and its error translation run for real. With ``KUBECONFIG`` set, ``test_real_cluster``
exercises the driver against that cluster instead.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from drivers.errors import QuotaExceededError, StepTimeoutError, UnreachableError
from drivers.kubernetes import KubernetesDriver
from tests.json_api_double import JsonHandler

TOKEN = "driver-" + "token-never-shown-42"


def _millicores(value: str) -> int:
    return int(value[:-1]) if value.endswith("m") else int(float(value) * 1000)


class _ApiServerDouble(JsonHandler):
    objects: dict[str, dict[str, Any]]
    ready: bool

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self._reply(401, {"kind": "Status", "reason": "Unauthorized", "code": 401})
        return False

    def _body(self) -> dict[str, Any]:
        return dict(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}"))

    def do_GET(self) -> None:  # noqa: N802 (http.server names its handlers so)
        if not self._authorised():
            return
        found = self.objects.get(self.path.split("?")[0])
        if found is None:
            self._reply(404, {"kind": "Status", "reason": "NotFound", "code": 404})
            return
        if "/deployments/" in self.path:
            replicas = found["spec"].get("replicas", 1)
            found = found | {"status": {"replicas": replicas, "readyReplicas": replicas if self.ready else 0}}
        self._reply(200, found)

    def do_POST(self) -> None:  # noqa: N802 (http.server names its handlers so)
        if not self._authorised():
            return
        body = self._body()
        path = f"{self.path.split('?')[0]}/{body['metadata']['name']}"
        if path in self.objects:
            self._reply(409, {"kind": "Status", "reason": "AlreadyExists", "code": 409})
            return
        if "/deployments" in path and not self._within_quota(path, body):
            return
        self.objects[path] = body
        self._reply(201, body)

    def do_PUT(self) -> None:  # noqa: N802 (http.server names its handlers so)
        if not self._authorised():
            return
        path = self.path.split("?")[0]
        if path not in self.objects:
            self._reply(404, {"kind": "Status", "reason": "NotFound", "code": 404})
            return
        self.objects[path] = self._body()
        self._reply(200, self.objects[path])

    def do_DELETE(self) -> None:  # noqa: N802 (http.server names its handlers so)
        if not self._authorised():
            return
        deleted = self.objects.pop(self.path.split("?")[0], None)
        if deleted is None:
            self._reply(404, {"kind": "Status", "reason": "NotFound", "code": 404})
            return
        self._reply(200, deleted)  # the API server answers with the object being deleted

    def _within_quota(self, path: str, body: dict[str, Any]) -> bool:
        namespace = path.split("/namespaces/")[1].split("/")[0]
        quota = self.objects.get(f"/api/v1/namespaces/{namespace}/resourcequotas/shangyun-quota")
        if quota is None:
            return True
        containers = body["spec"]["template"]["spec"]["containers"]
        wanted = sum(_millicores(c["resources"]["requests"]["cpu"]) for c in containers) * body["spec"]["replicas"]
        if wanted <= _millicores(quota["spec"]["hard"]["requests.cpu"]):
            return True
        self._reply(403, {"kind": "Status", "reason": "Forbidden", "code": 403,
                          "message": f"exceeded quota: shangyun-quota, requested: requests.cpu={wanted}m"})
        return False


@pytest.fixture
def api_server() -> Iterator[tuple[str, dict[str, dict[str, Any]], type[_ApiServerDouble]]]:
    handler: type[_ApiServerDouble] = type("Handler", (_ApiServerDouble,), {"objects": {}, "ready": True})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.objects, handler
    finally:
        server.shutdown()
        server.server_close()


def _driver(tmp_path: Path, url: str, token: str = TOKEN, timeout: int = 5) -> KubernetesDriver:
    config = tmp_path / "kubeconfig"
    config.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "gov",
        "clusters": [{"name": "c", "cluster": {"server": url}}], "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "gov", "context": {"cluster": "c", "user": "u"}}]}))
    return KubernetesDriver.connect(str(config), None, timeout=timeout)


def test_namespace_quota_and_workload_are_idempotent(tmp_path: Path, api_server: Any) -> None:
    url, objects, _ = api_server
    kube = _driver(tmp_path, url)
    assert kube.ensure_namespace("dept-d0001", cpu=8, memory_gb=16) is True
    assert kube.ensure_namespace("dept-d0001", cpu=8, memory_gb=16) is False
    quota = objects["/api/v1/namespaces/dept-d0001/resourcequotas/shangyun-quota"]
    assert quota["spec"]["hard"] == {"requests.cpu": "8000m", "requests.memory": "16384Mi"}
    assert kube.ensure_namespace("dept-d0001", cpu=12, memory_gb=16) is True  # quota raised in place

    shape: dict[str, Any] = {"image": "registry.local/gov/portal:2.1", "cpu": 2, "memory_gb": 4, "port": 8080,
                             "storage_gb": 20}
    assert kube.apply_workload("dept-d0001", "sy-s00042", **shape) is True
    assert kube.apply_workload("dept-d0001", "sy-s00042", **shape) is False
    deployment = objects["/apis/apps/v1/namespaces/dept-d0001/deployments/sy-s00042"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "2000m", "memory": "4096Mi"}
    assert objects["/api/v1/namespaces/dept-d0001/persistentvolumeclaims/sy-s00042"]["spec"]["resources"] == {
        "requests": {"storage": "20Gi"}}
    assert kube.apply_workload("dept-d0001", "sy-s00042", **(shape | {"image": "registry.local/gov/portal:2.2"}))
    kube.wait_ready("dept-d0001", "sy-s00042")

    assert kube.delete_workload("dept-d0001", "sy-s00042") is True
    assert kube.delete_workload("dept-d0001", "sy-s00042") is False
    assert not [p for p in objects if "sy-s00042" in p]


def test_quota_exceeded_timeout_and_bad_token(tmp_path: Path, api_server: Any) -> None:
    url, _, handler = api_server
    kube = _driver(tmp_path, url, timeout=2)
    kube.ensure_namespace("dept-d0002", cpu=1, memory_gb=2)
    with pytest.raises(QuotaExceededError, match="exceeded quota"):
        kube.apply_workload("dept-d0002", "sy-big", image="x:1", cpu=4, memory_gb=8, port=80, storage_gb=1)
    handler.ready = False
    kube.apply_workload("dept-d0002", "sy-small", image="x:1", cpu=0.5, memory_gb=1, port=80, storage_gb=1)
    with pytest.raises(StepTimeoutError, match="0/1 ready"):
        kube.wait_ready("dept-d0002", "sy-small")
    wrong = "wrong-" + uuid.uuid4().hex
    with pytest.raises(UnreachableError) as caught:
        _driver(tmp_path, url, token=wrong).ensure_namespace("dept-d0003", cpu=1, memory_gb=1)
    assert "401" in str(caught.value) and wrong not in str(caught.value)


@pytest.mark.skipif(not os.environ.get("KUBECONFIG"), reason="KUBECONFIG not set: no real Kubernetes API to use")
def test_real_cluster() -> None:
    """Against the real cluster of $KUBECONFIG: a namespace with a quota, then removed."""
    kube = KubernetesDriver.connect(None, None, timeout=120)
    name = "shangyun-test-" + uuid.uuid4().hex[:6]
    try:
        assert kube.ensure_namespace(name, cpu=1, memory_gb=1) is True
        assert kube.ensure_namespace(name, cpu=1, memory_gb=1) is False
    finally:
        kube.core.delete_namespace(name)


def test_raise_quota_adds_to_the_namespace_quota(tmp_path: Path, api_server: Any) -> None:
    url, objects, _ = api_server
    kube = _driver(tmp_path, url)
    kube.raise_quota("dept-d0009", cpu=2, memory_gb=4)  # no quota yet: made with the amount
    kube.raise_quota("dept-d0009", cpu=1.5, memory_gb=2)
    hard = objects["/api/v1/namespaces/dept-d0009/resourcequotas/shangyun-quota"]["spec"]["hard"]
    assert hard == {"requests.cpu": "3500m", "requests.memory": "6144Mi"}


def _stale_once(api: Any, method: str) -> list[bool]:
    """Make ``api.method`` answer 404 on its first call, as a read taken just before a racer's create
    would; returns a flag list that records the stale answer was given."""
    from kubernetes.client.exceptions import ApiException

    real, used = getattr(api, method), [False]

    def stale(*args: Any, **kwargs: Any) -> Any:
        if not used[0]:
            used[0] = True
            raise ApiException(status=404, reason="Not Found")
        return real(*args, **kwargs)

    setattr(api, method, stale)
    return used


def test_a_create_that_loses_a_race_adopts_the_winners_object(tmp_path: Path, api_server: Any) -> None:
    """The racer makes the namespace, quota and workload; our reads of each are stale, so every create
    of ours meets the double's 409 AlreadyExists. We adopt each object, change nothing that already
    matches, and still bring a quota that differs to what we asked for."""
    url, objects, _ = api_server
    shape: dict[str, Any] = {"image": "registry.local/gov/portal:2.1", "cpu": 2, "memory_gb": 4, "port": 8080,
                             "storage_gb": 20}
    racer = _driver(tmp_path, url)
    racer.ensure_namespace("dept-d0005", cpu=8, memory_gb=16)
    racer.apply_workload("dept-d0005", "sy-s00050", **shape)
    before = json.loads(json.dumps(objects))
    ours = _driver(tmp_path, url)
    stale = [_stale_once(ours.core, "read_namespace"), _stale_once(ours.core, "read_namespaced_resource_quota"),
             _stale_once(ours.core, "read_namespaced_persistent_volume_claim"),
             _stale_once(ours.apps, "read_namespaced_deployment"), _stale_once(ours.core, "read_namespaced_service")]
    assert ours.ensure_namespace("dept-d0005", cpu=8, memory_gb=16) is False
    assert ours.apply_workload("dept-d0005", "sy-s00050", **shape) is False
    assert all(used[0] for used in stale) and objects == before
    _stale_once(ours.core, "read_namespaced_resource_quota")
    assert ours.ensure_namespace("dept-d0005", cpu=12, memory_gb=16) is True
    hard = objects["/api/v1/namespaces/dept-d0005/resourcequotas/shangyun-quota"]["spec"]["hard"]
    assert hard == {"requests.cpu": "12000m", "requests.memory": "16384Mi"}
