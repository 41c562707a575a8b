"""The Kubernetes collector: nodes (allocatable), pods' requests and measured use by namespace.

Reads through the official ``kubernetes`` client with a kubeconfig context. Measured use comes from
the metrics API (``metrics.k8s.io``, served by metrics-server); a cluster without it still gives
nodes and requests, with use unknown. Returns plain records, no database; foreign errors become
``CloudError`` with a message that never contains the kubeconfig's credentials.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from collectors.openstack_cloud import CloudError
from drivers.kubernetes import quantity
from inventory.records.cloud import KubeFacts, NamespaceRecord, NodeRecord

GIB = Decimal(1024**3)
TERMINAL_PHASES = {"Succeeded", "Failed"}










def _gb(value: Any) -> float:
    return round(float(quantity(value) / GIB), 3)


def _cores(value: Any) -> float:
    return round(float(quantity(value)), 3)


def _container_requests(pod: Any) -> tuple[Decimal, Decimal]:
    cpu = memory = Decimal(0)
    for container in pod.spec.containers or []:
        requests = (container.resources.requests if container.resources else None) or {}
        cpu += quantity(requests.get("cpu"))
        memory += quantity(requests.get("memory"))
    return cpu, memory


def collect_kubernetes(api_client: Any) -> KubeFacts:
    """Read nodes, pods and (if installed) the metrics API through ``api_client``."""
    from kubernetes.client import CoreV1Api, CustomObjectsApi
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    core, custom = CoreV1Api(api_client), CustomObjectsApi(api_client)
    try:
        return _collect(core, custom)
    except ApiException as exc:
        raise CloudError(f"the Kubernetes API refused a request: HTTP {exc.status} {exc.reason}") from None
    except (HTTPError, OSError) as exc:
        raise CloudError(f"cannot reach the Kubernetes API ({type(exc).__name__}); check the kubeconfig") from None


def _metrics(custom: Any, plural: str) -> list[dict[str, Any]] | None:
    from kubernetes.client.exceptions import ApiException

    try:
        listed = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", plural)
    except ApiException as exc:
        if exc.status in (404, 503):  # metrics-server not installed or not ready
            return None
        raise
    return list(listed.get("items", []))


def _collect(core: Any, custom: Any) -> KubeFacts:
    facts = KubeFacts(collected_at=dt.datetime.now(dt.UTC))
    node_metrics = _metrics(custom, "nodes")
    pod_metrics = _metrics(custom, "pods")
    facts.metrics_available = node_metrics is not None and pod_metrics is not None
    node_use = {m["metadata"]["name"]: m.get("usage", {}) for m in node_metrics or []}
    for node in core.list_node().items:
        allocatable = node.status.allocatable or {}
        labels = node.metadata.labels or {}
        ready = any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])
        use = node_use.get(node.metadata.name)
        facts.nodes.append(NodeRecord(
            node.metadata.name, _cores(allocatable.get("cpu")), _gb(allocatable.get("memory")),
            _gb(allocatable.get("ephemeral-storage")), ready,
            labels.get("topology.kubernetes.io/zone") or labels.get("failure-domain.beta.kubernetes.io/zone"),
            _cores(use.get("cpu")) if use else None, _gb(use.get("memory")) if use else None))
    pods: dict[str, int] = defaultdict(int)
    requested: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for pod in core.list_pod_for_all_namespaces().items:
        if (pod.status.phase if pod.status else None) in TERMINAL_PHASES:
            continue  # finished pods hold no resources
        namespace = pod.metadata.namespace
        cpu, memory = _container_requests(pod)
        pods[namespace] += 1
        requested[namespace][0] += cpu
        requested[namespace][1] += memory
    used: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for metric in pod_metrics or []:
        for container in metric.get("containers", []):
            usage = container.get("usage", {})
            used[metric["metadata"]["namespace"]][0] += quantity(usage.get("cpu"))
            used[metric["metadata"]["namespace"]][1] += quantity(usage.get("memory"))
    for namespace in sorted(pods):
        cpu, memory = requested[namespace]
        use = used.get(namespace) if facts.metrics_available else None
        facts.namespaces.append(NamespaceRecord(
            namespace, pods[namespace], round(float(cpu), 3), round(float(memory / GIB), 3),
            round(float(use[0]), 3) if use else (0.0 if facts.metrics_available else None),
            round(float(use[1] / GIB), 3) if use else (0.0 if facts.metrics_available else None)))
    return facts


