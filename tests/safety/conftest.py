"""One platform for the safety tests that need services: messaging, safety and audit on the
session's nats-server, streams of their own; identity's events written by `People`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from tests.conftest import stream_environ, unique_name
from tests.messaging.conftest import messaging_environ
from tests.messaging.support import People

# The platform's own moderation organisation: it reads reports of people of no organisation.
PLATFORM_ORG = "org-platform-moderation"


def safety_environ() -> dict[str, str]:
    prefix = unique_name("s")
    return {
        **messaging_environ(prefix),
        **stream_environ(prefix, "safety", "audit"),
        "HEARTH_AUDIT_FOLLOW": "messaging,safety",
        "HEARTH_SAFETY_SWEEP_SECONDS": "0.5",
        "HEARTH_SAFETY_PLATFORM_ORGANISATION": PLATFORM_ORG,
    }


@contextmanager
def safety_platform(
    nats_server: EmbeddedNats, data_dir: Path, environ: dict[str, str]
) -> Iterator[tuple[Platform, People]]:
    """Messaging, safety and audit, and `People` writing identity's events."""
    platform = Platform(
        data_dir,
        services=["messaging", "safety", "audit"],
        environ=environ,
        nats_url=nats_server.url,
    ).start()
    people = People(platform, environ)
    try:
        yield platform, people
    finally:
        people.close()
        platform.stop()


@pytest.fixture(scope="package")
def environ() -> dict[str, str]:
    return safety_environ()


@pytest.fixture(scope="package")
def running(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory, environ: dict[str, str]
) -> Iterator[tuple[Platform, People]]:
    with safety_platform(nats_server, tmp_path_factory.mktemp("safety"), environ) as both:
        yield both


@pytest.fixture(scope="package")
def platform(running: tuple[Platform, People]) -> Platform:
    return running[0]


@pytest.fixture(scope="package")
def people(running: tuple[Platform, People]) -> People:
    return running[1]
