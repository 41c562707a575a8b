"""The deployment files: the kustomization (rendered by ``kubectl kustomize`` with the example secrets)
validates against the Kubernetes schemas (strict, so unknown fields fail) and sets namespace, image and
generated ConfigMap/Secrets once; the API runs several replicas behind a Service with probes the app
serves, one scheduler Deployment relies on the leader lock, workers run `migrate worker`; secrets come
from Secrets; the container build copies every package and installs the hashed lock file."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).parent.parent
KUSTOMIZATION = ROOT / "deploy/kubernetes"
KUBECTL = shutil.which("kubectl")


@lru_cache(maxsize=1)
def _rendered() -> str:
    """``kubectl kustomize`` of a copy of the kustomization with the example secrets filled in."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "kubernetes"
        shutil.copytree(KUSTOMIZATION, copy)
        for example in copy.glob("*.example"):
            shutil.copy(example, copy / example.stem)
        return subprocess.run([str(KUBECTL), "kustomize", str(copy)], capture_output=True, text=True, check=True,
                              timeout=120).stdout


def _documents() -> list[dict[str, Any]]:
    if KUBECTL is None:
        pytest.skip("kubectl not installed: the kustomization cannot be rendered")
    return [d for d in yaml.safe_load_all(_rendered()) if d]


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
    secrets = {d["metadata"]["name"] for d in _documents() if d["kind"] == "Secret"}
    for name in ("shangyun-api", "shangyun-scheduler", "shangyun-worker"):
        env = _deployment(name)["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        refs = [e["secretRef"]["name"] for e in env if "secretRef" in e]
        assert len(refs) == 1 and refs[0].startswith("shangyun-secrets-") and refs[0] in secrets  # generated
    config = next(d for d in _documents() if d["kind"] == "ConfigMap")
    assert not any(re.search(r"KEY|TOKEN|PASSWORD|DATABASE_URL", k) for k in config["data"])


def test_namespace_image_and_generators_are_written_once() -> None:
    kustomization = yaml.safe_load((KUSTOMIZATION / "kustomization.yaml").read_text(encoding="utf-8"))
    for resource in kustomization["resources"]:
        for document in yaml.safe_load_all((KUSTOMIZATION / resource).read_text(encoding="utf-8")):
            assert "namespace" not in document["metadata"], resource
    documents = _documents()
    assert {d["metadata"].get("namespace", "shangyun") for d in documents if d["kind"] != "Namespace"} == \
        {kustomization["namespace"]}
    images = {c["image"] for d in documents if d["kind"] in ("Deployment", "Job")
              for c in d["spec"]["template"]["spec"]["containers"]}
    wanted = kustomization["images"][0]
    assert images == {f"{wanted['newName']}:{wanted['newTag']}"}
    assert {g["name"] for g in kustomization["secretGenerator"]} == {"shangyun-secrets", "shangyun-clouds"}


def test_the_container_build_copies_every_package() -> None:
    dockerfile = (ROOT / "deploy/Dockerfile").read_text(encoding="utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    packages = re.findall(r'"(\w+)\*"', pyproject.split("[tool.setuptools.packages.find]")[1].split("\n[")[0])
    assert packages
    for package in packages:
        assert f"COPY {package} {package}" in dockerfile, package
    assert "--require-hashes -r requirements.lock" in dockerfile and "--no-deps ." in dockerfile


def test_the_lock_files_pin_and_hash_every_dependency() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements-dev.lock" in makefile
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text(encoding="utf-8")
        blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", text, flags=re.MULTILINE)[1:]
        assert len(blocks) > 50, lock
        unhashed = [b.split()[0] for b in blocks if "--hash=sha256:" not in b]
        assert unhashed == [], lock
    runtime = {b.split(" ")[0] for b in re.split(r"^(?=[A-Za-z0-9_.-]+==)", (ROOT / "requirements.lock")
                                                   .read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]}
    development = (ROOT / "requirements-dev.lock").read_text(encoding="utf-8")
    assert all(f"\n{pin} " in development for pin in runtime)  # the container runs the versions tested
