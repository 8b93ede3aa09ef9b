"""The platform under test: identity and audit on the session's nats-server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hearth_proto.hearth.audit.v1 import audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2_grpc
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_runtime.telemetry import setup_telemetry
from hearth_sdk.channel import connect
from tests.conftest import stream_environ, unique_name
from tests.runtime.support import SPANS


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    setup_telemetry("hearth-tests", {}, extra_exporters=[SPANS])
    prefix = unique_name("p")
    environ = {
        **stream_environ(prefix, "identity", "audit", "age", "messaging"),
    }
    platform = Platform(
        tmp_path_factory.mktemp("platform"), environ=environ, nats_url=nats_server.url
    ).start()
    yield platform
    platform.stop()


@pytest.fixture(scope="module")
def identity(platform: Platform) -> identity_pb2_grpc.IdentityServiceStub:
    return identity_pb2_grpc.IdentityServiceStub(connect(platform.endpoint("identity")))


@pytest.fixture(scope="module")
def audit(platform: Platform) -> audit_pb2_grpc.AuditServiceStub:
    return audit_pb2_grpc.AuditServiceStub(connect(platform.endpoint("audit")))
