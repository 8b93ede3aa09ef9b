"""The platform under audit: identity and audit on the session's nats-server, own streams."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hearth_crypto.checkpoint import NoteSigner
from hearth_proto.hearth.audit.v1 import audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2_grpc
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_sdk.channel import connect
from tests.conftest import stream_environ, unique_name

ORIGIN = "test.hearth/audit"


@pytest.fixture(scope="module")
def log_signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory, log_signer: NoteSigner
) -> Iterator[Platform]:
    environ = {
        # age is not started here: following a stream that does not exist yet must not matter.
        **stream_environ(unique_name("a"), "identity", "audit", "age", "messaging"),
        "HEARTH_AUDIT_FOLLOW": "identity,age",
        "HEARTH_AUDIT_CHECKPOINT_EVERY": "3",
        "HEARTH_AUDIT_CHECKPOINT_INTERVAL": "0.2",
        "HEARTH_AUDIT_CHECKPOINT_KEY": log_signer.private_key(),
    }
    platform = Platform(
        tmp_path_factory.mktemp("platform"),
        services=["identity", "audit"],
        environ=environ,
        nats_url=nats_server.url,
    ).start()
    yield platform
    platform.stop()


@pytest.fixture(scope="module")
def identity(platform: Platform) -> identity_pb2_grpc.IdentityServiceStub:
    return identity_pb2_grpc.IdentityServiceStub(connect(platform.endpoint("identity")))


@pytest.fixture(scope="module")
def audit(platform: Platform) -> audit_pb2_grpc.AuditServiceStub:
    return audit_pb2_grpc.AuditServiceStub(connect(platform.endpoint("audit")))
