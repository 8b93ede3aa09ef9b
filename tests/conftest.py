"""Fixtures shared by every test: a real nats-server on a free port, data in a temp dir,
clients of a package's platform. Shared helpers that are not fixtures are in `tests.support`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hearth_proto.hearth.audit.v1 import audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_sdk.channel import connect


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    """One nats-server for the session; tests isolate themselves by stream name."""
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nats_url(nats_server: EmbeddedNats) -> str:
    return nats_server.url


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A nats-server of the test's own, for tests that kill or restart it."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


# Clients of the `platform` fixture a test package defines (module scope, as it is).
@pytest.fixture(scope="module")
def identity(platform: Platform) -> identity_pb2_grpc.IdentityServiceStub:
    return identity_pb2_grpc.IdentityServiceStub(connect(platform.endpoint("identity")))


@pytest.fixture(scope="module")
def audit(platform: Platform) -> audit_pb2_grpc.AuditServiceStub:
    return audit_pb2_grpc.AuditServiceStub(connect(platform.endpoint("audit")))


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def stream_environ(prefix: str, *apps: str) -> dict[str, str]:
    """Streams and subjects of the test's own for each application, so tests never share one."""
    environ: dict[str, str] = {}
    for app in apps:
        environ[f"HEARTH_{app.upper()}_STREAM"] = f"{prefix}_{app}".upper()
        environ[f"HEARTH_{app.upper()}_SUBJECT_PREFIX"] = f"{prefix}.{app}"
    return environ


# Session role names (as tokens carry them) to identity's proto enum, from the enum itself.
ROLES: dict[str, identity_pb2.Role.ValueType] = {
    name.removeprefix("ROLE_").lower(): value
    for name, value in identity_pb2.Role.items()
    if value != identity_pb2.ROLE_UNSPECIFIED
}
