"""The platform on a three-node JetStream cluster, as the Kubernetes manifests run it.

`hearth streams create` (each Deployment's init container) makes every service's stream at
R3; `hearth up` against an external NATS_URL listing all three servers then serves the demo's
main story, and every stream it made (event logs, key-value buckets, mailboxes) is at R3.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from nacl.signing import SigningKey

from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.services import STREAMLESS
from hearth_runtime.sessions import development_signer
from hearth_runtime.streams import service_names
from hearth_sdk.channel import bearer
from tests.cluster.support import Cluster
from tests.support.polling import wait_for

pytestmark = pytest.mark.slow
R3 = {"HEARTH_STREAM_REPLICAS": "3", "HEARTH_MESSAGING_MAILBOX_REPLICAS": "3"}


def hearth(*args: str, environ: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "hearth_runtime.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **environ},
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def platform(cluster: Cluster, tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """`hearth up --nats-url` on the cluster, until the test ends; its data dir and endpoints."""
    data = tmp_path / "platform"
    log = (tmp_path / "up.log").open("wb")
    command = ["up", "--data-dir", str(data), "--nats-url", cluster.url]
    process = subprocess.Popen(
        [sys.executable, "-m", "hearth_runtime.cli", *command],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **R3},
    )
    endpoints = data / "endpoints.json"
    try:
        wait_for(lambda: endpoints.exists() or process.poll() is not None, 120, "hearth up")
        assert process.poll() is None, (tmp_path / "up.log").read_text()[-3000:]
        yield data, json.loads(endpoints.read_text())
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=60) == 0, (tmp_path / "up.log").read_text()[-3000:]
        finally:
            if process.poll() is None:
                process.kill()
            log.close()


def test_streams_create_makes_every_services_stream_at_r3(cluster: Cluster) -> None:
    out = hearth("streams", "create", "--wait", "30", environ={"NATS_URL": cluster.url, **R3})
    lines = out.splitlines()
    assert len(lines) == len(service_names())
    for name in service_names():
        info = cluster.stream_info(f"HEARTH_{name.upper()}")
        assert info["config"]["num_replicas"] == 3
        assert info["config"]["deny_delete"] and info["config"]["allow_atomic"]
    assert all("3 replica(s)" in line for line in lines), out
    # Running it again (every pod start does) finds them as they are.
    again = hearth("streams", "create", environ={"NATS_URL": cluster.url, **R3})
    assert [line.split(":")[0] for line in again.splitlines()] == [
        line.split(":")[0] for line in lines
    ]
    # A stream weaker than configured is refused, naming what is wrong.
    failed = subprocess.run(
        [sys.executable, "-m", "hearth_runtime.cli", "streams", "create", "--service", "audit"],
        capture_output=True,
        text=True,
        env={**os.environ, "NATS_URL": cluster.url, "HEARTH_STREAM_REPLICAS": "5"},
        timeout=60,
    )
    assert failed.returncode == 1
    assert "num_replicas is 3, configured 5" in failed.stderr


def test_platform_on_the_cluster_serves_the_main_story(
    cluster: Cluster, platform: tuple[Path, dict[str, str]]
) -> None:
    data, endpoints = platform
    assert set(endpoints) == set(service_names()) | STREAMLESS  # the console has no stream
    signer = development_signer(data, {})
    auditor = bearer(signer.issue("cluster-auditor", {"auditor"}))
    identity = identity_pb2_grpc.IdentityServiceStub(grpc.insecure_channel(endpoints["identity"]))
    audit = audit_pb2_grpc.AuditServiceStub(grpc.insecure_channel(endpoints["audit"]))

    def audited() -> int:
        state = audit.GetLogState(audit_pb2.GetLogStateRequest(), metadata=auditor)
        return int(state.events_by_stream.get("identity", 0))

    request = identity_pb2.RegisterAccountRequest(
        request_id="cluster-registration-1",
        role=identity_pb2.ROLE_YOUNG_PERSON,
        device_public_key=bytes(SigningKey.generate().verify_key),
    )
    account_id = identity.RegisterAccount(request).account_id
    wait_for(lambda: audited() == 1, 30, "audit took in the registration")
    assert identity.RegisterAccount(request).account_id == account_id, "a retry is the same"
    time.sleep(0.5)
    assert audited() == 1, "and records nothing new"
    with pytest.raises(grpc.RpcError) as refused:
        identity.GetAccount(identity_pb2.GetAccountRequest())
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    session = bearer(signer.issue(account_id, {"young_person"}))
    account = identity.GetAccount(identity_pb2.GetAccountRequest(), metadata=session)
    assert account.account_id == account_id

    names = cluster.api("$JS.API.STREAM.NAMES", {})["streams"]
    assert {f"HEARTH_{s.upper()}" for s in service_names()} <= set(names)
    for name in names:
        info = cluster.stream_info(name)
        assert info["config"]["num_replicas"] == 3, f"{name} is not at R3"
    for name in names:
        wait_for(lambda: cluster.current_replicas(name) == 3, 30, f"{name} replicas")  # noqa: B023
