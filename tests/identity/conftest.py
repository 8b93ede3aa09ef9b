"""Identity under test: the identity service alone on the session's nats-server, with its own
streams, following an age stream of its own that the tests write AgeBandAttested events to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hearth_proto.hearth.identity.v1 import identity_pb2_grpc
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_sdk.channel import connect
from tests.conftest import stream_environ, unique_name
from tests.identity.support import WRAPPING, Devices


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    prefix = unique_name("id")
    environ = {
        **stream_environ(prefix, "identity", "age"),
        "HEARTH_IDENTITY_LOGIN_CHALLENGE_LIFETIME": "2",
        "HEARTH_IDENTITY_HOUSE_RULES_VERSION": "3",
        "HEARTH_IDENTITY_SUBJECT_KEY_WRAPPING": WRAPPING,
    }
    platform = Platform(
        tmp_path_factory.mktemp("identity"),
        services=["identity"],
        environ=environ,
        nats_url=nats_server.url,
    ).start()
    yield platform
    platform.stop()


@pytest.fixture(scope="module")
def identity(platform: Platform) -> identity_pb2_grpc.IdentityServiceStub:
    return identity_pb2_grpc.IdentityServiceStub(connect(platform.endpoint("identity")))


@pytest.fixture
def devices(platform: Platform, tmp_path: Path) -> Devices:
    return Devices(platform, tmp_path)
