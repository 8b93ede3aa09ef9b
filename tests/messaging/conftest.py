"""Messaging on the session's nats-server, with identity's events fed to it by the tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from tests.conftest import stream_environ, unique_name
from tests.messaging.support import People
from tests.support.platform import running


def messaging_environ(prefix: str) -> dict[str, str]:
    return {
        **stream_environ(prefix, "identity", "messaging"),
        "HEARTH_MESSAGING_MAILBOX_STREAM": f"{prefix}_MAILBOX".upper(),
        "HEARTH_MESSAGING_MAILBOX_SUBJECT_PREFIX": f"{prefix}.mailbox",
        "HEARTH_MESSAGING_SEND_RATE": "5",
        "HEARTH_MESSAGING_SEND_BURST": "40",
        "HEARTH_MESSAGING_MAX_CIPHERTEXT_BYTES": "4096",
    }


@pytest.fixture(scope="module")
def environ() -> dict[str, str]:
    return messaging_environ(unique_name("m"))


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory, environ: dict[str, str]
) -> Iterator[Platform]:
    with running(nats_server, tmp_path_factory, "messaging", environ, ["messaging"]) as platform:
        yield platform


@pytest.fixture(scope="module")
def people(platform: Platform, environ: dict[str, str]) -> Iterator[People]:
    people = People(platform, environ)
    yield people
    people.close()
