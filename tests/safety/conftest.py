"""One platform for the safety tests that need services: messaging, safety and audit on the
session's nats-server, streams of their own; identity's events written by `People`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from tests.conftest import stream_environ, unique_name
from tests.messaging.conftest import messaging_environ
from tests.messaging.support import People


@pytest.fixture(scope="package")
def environ() -> dict[str, str]:
    prefix = unique_name("s")
    return {
        **messaging_environ(prefix),
        **stream_environ(prefix, "safety", "audit"),
        "HEARTH_AUDIT_FOLLOW": "messaging,safety",
        "HEARTH_SAFETY_SWEEP_SECONDS": "0.5",
    }


@pytest.fixture(scope="package")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory, environ: dict[str, str]
) -> Iterator[Platform]:
    platform = Platform(
        tmp_path_factory.mktemp("safety"),
        services=["messaging", "safety", "audit"],
        environ=environ,
        nats_url=nats_server.url,
    ).start()
    yield platform
    platform.stop()


@pytest.fixture(scope="package")
def people(platform: Platform, environ: dict[str, str]) -> Iterator[People]:
    people = People(platform, environ)
    yield people
    people.close()
