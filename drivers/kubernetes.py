"""Kubernetes driver (official client): namespaces with a ResourceQuota per department, and the
Deployment, Service and PersistentVolumeClaim of a replatformed system.

``ensure_namespace`` and ``apply_workload`` create what is missing and replace what differs, and
return whether they changed anything. A create answered 409 AlreadyExists (another worker made the
object between our read and our create) adopts that object and goes on as if it had been found.
``delete_workload`` removes the three objects. ``ApiException`` and connection errors become
``drivers.errors`` without the kubeconfig's credentials.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from drivers.errors import (
    AlreadyExistsError,
    DriverError,
    NotFoundError,
    QuotaExceededError,
    StepTimeoutError,
    UnreachableError,
)

QUOTA_NAME = "shangyun-quota"


class KubernetesDriver:
    def __init__(self, api_client: Any, timeout: int = 600) -> None:
        from kubernetes.client import AppsV1Api, CoreV1Api

        self.core = CoreV1Api(api_client)
        self.apps = AppsV1Api(api_client)
        self.timeout = timeout

    @classmethod
    def connect(cls, kubeconfig: str | None, context: str | None, timeout: int = 600) -> KubernetesDriver:
        client, _ = api_client_from_kubeconfig(kubeconfig, context)
        return cls(client, timeout)

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, **kwargs)
        except ApiException as exc:
            if exc.status == 404:
                raise NotFoundError(f"{what}: not found") from None
            if exc.status == 409:
                raise AlreadyExistsError(f"{what}: already exists") from None
            if exc.status == 403 and "exceeded quota" in str(exc.body or ""):
                raise QuotaExceededError(f"{what}: exceeded quota") from None
            if exc.status in (401, 403):
                raise UnreachableError(f"{what}: HTTP {exc.status} {exc.reason}") from None
            raise DriverError(f"{what}: HTTP {exc.status} {exc.reason}") from None
        except (HTTPError, OSError) as exc:
            raise UnreachableError(f"{what}: cannot reach the API server ({type(exc).__name__})") from None

    def _create(self, what: str, fn: Any, *args: Any) -> bool:
        """Create with ``fn``; False when another worker created it first (the caller adopts theirs)."""
        try:
            self._call(what, fn, *args)
        except AlreadyExistsError:
            return False
        return True

    def _exists(self, what: str, fn: Any, *args: Any) -> Any | None:
        try:
            return self._call(what, fn, *args)
        except NotFoundError:
            return None

    def ensure_namespace(self, name: str, cpu: float, memory_gb: float, never_lower: bool = False) -> bool:
        """Namespace ``name`` with a ResourceQuota of ``cpu`` cores and ``memory_gb`` of requests (with
        ``never_lower``, at least those: a larger quota already there is kept)."""
        changed = False
        if self._exists(f"namespace {name}", self.core.read_namespace, name) is None:
            changed = self._create(f"namespace {name}", self.core.create_namespace,
                                   {"metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "shangyun"}}})
        hard = {"requests.cpu": _cpu(cpu), "requests.memory": f"{round(memory_gb * 1024)}Mi"}
        quota = {"metadata": {"name": QUOTA_NAME}, "spec": {"hard": hard}}
        found = self._exists(f"quota {name}", self.core.read_namespaced_resource_quota, QUOTA_NAME, name)
        if found is None and self._create(f"quota {name}", self.core.create_namespaced_resource_quota, name, quota):
            changed = True
        else:
            if found is None:  # another worker made it first: compare with theirs
                found = self._call(f"quota {name}", self.core.read_namespaced_resource_quota, QUOTA_NAME, name)
            current = dict(found.spec.hard or {})
            if never_lower:
                cpu = max(cpu, float(quantity(current.get("requests.cpu", "0"))))
                memory_gb = max(memory_gb, float(quantity(current.get("requests.memory", "0"))) / 1024**3)
                hard = {"requests.cpu": _cpu(cpu), "requests.memory": f"{round(memory_gb * 1024)}Mi"}
                quota = {"metadata": {"name": QUOTA_NAME}, "spec": {"hard": hard}}
            if current != hard:
                self._call(f"quota {name}", self.core.replace_namespaced_resource_quota, QUOTA_NAME, name, quota)
                changed = True
        return changed

    def raise_quota(self, name: str, cpu: float, memory_gb: float) -> None:
        """Add ``cpu`` cores and ``memory_gb`` to the namespace's quota (made with these if it has none)."""
        found = self._exists(f"quota {name}", self.core.read_namespaced_resource_quota, QUOTA_NAME, name)
        hard = dict(found.spec.hard or {}) if found is not None else {}
        total_cpu = float(quantity(hard.get("requests.cpu", "0"))) + cpu
        total_memory = float(quantity(hard.get("requests.memory", "0"))) / 1024**3 + memory_gb
        self.ensure_namespace(name, cpu=total_cpu, memory_gb=total_memory)

    def apply_workload(self, namespace: str, name: str, *, image: str, cpu: float, memory_gb: float, port: int,
                       storage_gb: int, replicas: int = 1) -> bool:
        """Deployment + Service + PVC named ``name``; returns whether any was created or replaced."""
        labels = {"app": name, "app.kubernetes.io/managed-by": "shangyun"}
        requests = {"cpu": _cpu(cpu), "memory": f"{round(memory_gb * 1024)}Mi"}
        pvc = {"metadata": {"name": name, "labels": labels},
               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": f"{storage_gb}Gi"}}}}
        deployment = {
            "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "containers": [{"name": "app", "image": image, "ports": [{"containerPort": port}],
                                         "resources": {"requests": requests, "limits": requests},
                                         "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                         "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": name}}]}}}}
        service = {"metadata": {"name": name, "labels": labels},
                   "spec": {"selector": {"app": name}, "ports": [{"port": port, "targetPort": port}]}}
        changed = False
        if self._exists(f"pvc {name}", self.core.read_namespaced_persistent_volume_claim, name, namespace) is None:
            changed |= self._create(f"pvc {name}", self.core.create_namespaced_persistent_volume_claim, namespace, pvc)
        current = self._exists(f"deployment {name}", self.apps.read_namespaced_deployment, name, namespace)
        if current is None:
            if self._create(f"deployment {name}", self.apps.create_namespaced_deployment, namespace, deployment):
                changed = True
            else:  # another worker made it first: compare with theirs
                current = self._call(f"deployment {name}", self.apps.read_namespaced_deployment, name, namespace)
        if current is not None and _container_differs(current, image, requests, replicas):
            self._call(f"deployment {name}", self.apps.replace_namespaced_deployment, name, namespace, deployment)
            changed = True
        if self._exists(f"service {name}", self.core.read_namespaced_service, name, namespace) is None:
            changed |= self._create(f"service {name}", self.core.create_namespaced_service, namespace, service)
        return changed

    def wait_ready(self, namespace: str, name: str) -> None:
        """Until every replica of the Deployment is ready; ``StepTimeoutError`` after ``timeout``."""
        deadline = time.monotonic() + self.timeout
        while True:
            found = self._call(f"deployment {name}", self.apps.read_namespaced_deployment, name, namespace)
            wanted = found.spec.replicas or 0
            if (found.status.ready_replicas or 0) >= wanted:
                return
            if time.monotonic() > deadline:
                raise StepTimeoutError(f"deployment {namespace}/{name}: {found.status.ready_replicas or 0}/{wanted} "
                                       f"ready after {self.timeout} s")
            time.sleep(1)

    def delete_workload(self, namespace: str, name: str) -> bool:
        """Delete the Deployment, Service and PVC named ``name``; whether anything was there."""
        deleted = False
        for what, fn in (("deployment", self.apps.delete_namespaced_deployment),
                         ("service", self.core.delete_namespaced_service),
                         ("pvc", self.core.delete_namespaced_persistent_volume_claim)):
            try:
                self._call(f"{what} {name}", fn, name, namespace)
                deleted = True
            except NotFoundError:
                continue
        return deleted


def _cpu(cores: float) -> str:
    return f"{round(cores * 1000)}m"


def _container_differs(deployment: Any, image: str, requests: dict[str, str], replicas: int) -> bool:
    container = deployment.spec.template.spec.containers[0]
    current = dict((container.resources.requests if container.resources else None) or {})
    return bool(container.image != image or current != requests or deployment.spec.replicas != replicas)


def quantity(value: Any) -> Decimal:
    """A Kubernetes quantity (``250m``, ``16Gi``, ``1e3``) as a number of base units."""
    from kubernetes.utils import parse_quantity

    return Decimal(0) if value in (None, "") else Decimal(parse_quantity(value))  # type: ignore[no-untyped-call]


def api_client_from_kubeconfig(config_file: str | None, context: str | None) -> tuple[Any, str]:
    """A client for ``context`` of the kubeconfig (default: ``$KUBECONFIG`` or ``~/.kube/config``, and its
    current context), and the context's name."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    try:
        contexts, current = config.list_kube_config_contexts(config_file=config_file)  # type: ignore[no-untyped-call]
        name = context or current["name"]
        if name not in {c["name"] for c in contexts}:
            raise UnreachableError(f"kubeconfig has no context {name!r}")
        client = config.new_client_from_config(config_file=config_file, context=name)  # type: ignore[no-untyped-call]
    except (ConfigException, OSError, KeyError, TypeError) as exc:
        # The message names what is wrong, never the credentials the file holds.
        raise UnreachableError(f"kubeconfig not usable ({type(exc).__name__})") from None
    return client, name
