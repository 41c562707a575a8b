"""The deployment files: every Kubernetes manifest validates against the Kubernetes schemas (strict,
so unknown fields fail); the API runs several replicas behind a Service with probes the app serves,
one scheduler Deployment relies on the leader lock, workers run `migrate worker`; secrets come from
Secrets; the container build copies every package the project installs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).parent.parent
MANIFESTS = sorted((ROOT / "deploy/kubernetes").glob("*.yaml"))


def _documents() -> list[dict[str, Any]]:
    return [d for path in MANIFESTS for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


@pytest.mark.parametrize("version", ["1.28.0", "1.30.0"])
def test_manifests_validate_against_the_kubernetes_schemas(version: str) -> None:
    documents = _documents()
    assert len(documents) >= 8
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)  # raises on any schema error


def test_a_broken_manifest_is_caught() -> None:
    deployment = next(d for d in _documents() if d["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.30.0", strict=True)


def _deployment(name: str) -> dict[str, Any]:
    return next(d for d in _documents() if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def test_processes_and_probes_match_the_application() -> None:
    from api.http.app import create_app

    routes = {getattr(r, "path", None) for r in create_app().routes}
    api = _deployment("shangyun-api")
    assert api["spec"]["replicas"] >= 2
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:2] == ["shangyun", "serve"] and "--no-scheduler" in container["command"]
    assert {container["livenessProbe"]["httpGet"]["path"], container["readinessProbe"]["httpGet"]["path"]} <= routes
    service = next(d for d in _documents() if d["kind"] == "Service")
    assert service["spec"]["selector"] == api["spec"]["selector"]["matchLabels"]
    scheduler = _deployment("shangyun-scheduler")["spec"]["template"]["spec"]["containers"][0]
    assert scheduler["command"] == ["shangyun", "scheduler", "run"]
    worker = _deployment("shangyun-worker")["spec"]["template"]["spec"]["containers"][0]
    assert worker["command"][:3] == ["shangyun", "migrate", "worker"]
    for name in ("shangyun-api", "shangyun-scheduler", "shangyun-worker"):
        env = _deployment(name)["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        assert {"secretRef": {"name": "shangyun-secrets"}} in env  # credentials never in the ConfigMap
    config = next(d for d in _documents() if d["kind"] == "ConfigMap")
    assert not any(re.search(r"KEY|TOKEN|PASSWORD|DATABASE_URL", k) for k in config["data"])


def test_the_container_build_copies_every_package() -> None:
    dockerfile = (ROOT / "deploy/Dockerfile").read_text(encoding="utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    packages = re.findall(r'"(\w+)\*"', pyproject.split("[tool.setuptools.packages.find]")[1].split("\n[")[0])
    assert packages
    for package in packages:
        assert f"COPY {package} {package}" in dockerfile, package
