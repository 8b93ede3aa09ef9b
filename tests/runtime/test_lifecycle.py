"""Configuration errors, and graceful shutdown: NOT_SERVING, finish in-flight calls, exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nacl.signing import SigningKey

from hearth_runtime.access import PUBLIC
from hearth_runtime.config import ConfigError, RuntimeConfig
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.server import ServiceHost, ServiceParts
from hearth_runtime.sessions import (
    SessionSigner,
    SessionVerifier,
    format_public_keys,
    format_signing_key,
)
from tests.conftest import unique_name


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"HEARTH_GRPC_PORT": "http"}, "HEARTH_GRPC_PORT='http' is not a whole number"),
        ({"HEARTH_GRPC_PORT": "70000"}, "HEARTH_GRPC_PORT=70000 is outside 0..65535"),
        ({"HEARTH_GRACE_PERIOD": "soon"}, "HEARTH_GRACE_PERIOD='soon' is not a number"),
        ({"HEARTH_LOG_LEVEL": "LOUD"}, "HEARTH_LOG_LEVEL='LOUD' must be one of"),
    ],
)
def test_malformed_configuration_names_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RuntimeConfig.from_env("identity", environ)


def test_service_specific_variables_override_shared_ones() -> None:
    config = RuntimeConfig.from_env(
        "audit", {"HEARTH_GRPC_PORT": "7000", "HEARTH_AUDIT_GRPC_PORT": "7001"}
    )
    assert config.grpc_port == 7001
    assert RuntimeConfig.from_env("identity", {"HEARTH_GRPC_PORT": "7000"}).grpc_port == 7000


def slow_parts(release: threading.Event) -> ServiceParts:
    def wait(request: bytes, context: grpc.ServicerContext) -> bytes:
        release.wait(10)
        return b"done"

    handler = grpc.method_handlers_generic_handler(
        "test.Slow", {"Wait": grpc.unary_unary_rpc_method_handler(wait)}
    )
    return ServiceParts(
        name="slow",
        servicers=[(lambda _s, server: server.add_generic_rpc_handlers((handler,)), None)],
        service_names=["test.Slow"],
        rules={"/test.Slow/Wait": PUBLIC},
    )


def test_stop_reports_not_serving_and_finishes_in_flight_calls() -> None:
    release = threading.Event()
    config = RuntimeConfig.from_env("slow", {"HEARTH_GRPC_PORT": "0"})
    host = ServiceHost(config, slow_parts(release), SessionVerifier({})).start()
    channel = grpc.insecure_channel(host.address)
    call = channel.unary_unary("/test.Slow/Wait")
    health = health_pb2_grpc.HealthStub(channel)
    assert (
        health.Check(health_pb2.HealthCheckRequest()).status
        == health_pb2.HealthCheckResponse.SERVING
    )

    in_flight = call.future(b"")
    time.sleep(0.2)
    stopper = threading.Thread(target=host.stop, kwargs={"grace": 5.0})
    stopper.start()
    time.sleep(0.3)
    assert host.health._server_status[""] == health_pb2.HealthCheckResponse.NOT_SERVING
    with pytest.raises(grpc.RpcError) as refused:
        grpc.insecure_channel(host.address).unary_unary("/test.Slow/Wait")(b"", timeout=2)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    release.set()
    assert in_flight.result(timeout=5) == b"done"
    stopper.join(timeout=10)
    assert not stopper.is_alive()


def test_hearth_serve_drains_on_sigterm(nats_server: EmbeddedNats, tmp_path: Path) -> None:
    signer = SessionSigner("k1", SigningKey.generate())
    prefix = unique_name("serve")
    env = {
        **os.environ,
        "NATS_URL": nats_server.url,
        "HEARTH_GRPC_PORT": "0",
        "HEARTH_DATA_DIR": str(tmp_path),
        "HEARTH_SESSION_PUBLIC_KEYS": format_public_keys({"k1": signer.public_key}),
        "HEARTH_SESSION_SIGNING_KEY": format_signing_key(signer),
        "HEARTH_IDENTITY_STREAM": prefix.upper(),
        "HEARTH_IDENTITY_SUBJECT_PREFIX": f"hearth.{prefix}",
        "HEARTH_LOG_FORMAT": "json",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "hearth_runtime.cli", "serve", "--service", "identity"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    line = ""
    deadline = time.monotonic() + 20
    while "serving on" not in line:
        assert time.monotonic() < deadline, "identity did not start"
        line = process.stderr.readline()
    assert '"service": "identity"' in line, "logs are JSON lines naming the service"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    rest = process.stderr.read()
    assert "identity stopped" in rest


def test_hearth_serve_without_keys_is_a_clear_configuration_error(
    nats_server: EmbeddedNats,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env["NATS_URL"] = nats_server.url
    result = subprocess.run(
        [sys.executable, "-m", "hearth_runtime.cli", "serve", "--service", "identity"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    # identity needs its signing key as well as the public keys: either is named.
    assert "HEARTH_SESSION_SIGNING_KEY is not set" in result.stderr
