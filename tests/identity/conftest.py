"""Identity under test: the identity service alone on the session's nats-server, with its own
streams, following an age stream of its own that the tests write AgeBandAttested events to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hearth_identity.application import Identity
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from tests.conftest import stream_environ, unique_name
from tests.identity.support import WRAPPING, Devices
from tests.support.clock import Clock
from tests.support.platform import running


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    prefix = unique_name("id")
    environ = {
        **stream_environ(prefix, "identity", "age", "safety"),
        "HEARTH_IDENTITY_HOUSE_RULES_VERSION": "3",
        "HEARTH_IDENTITY_SUBJECT_KEY_WRAPPING": WRAPPING,
    }
    with running(nats_server, tmp_path_factory, "identity", environ, ["identity"]) as platform:
        yield platform


@pytest.fixture
def clock(platform: Platform) -> Iterator[Clock]:
    """Identity's clock (its own, its login challenges' and its session signer's), moved by
    the test; put back afterwards."""
    app = platform.hosts["identity"].parts.applications[0]
    assert isinstance(app, Identity)
    clock = Clock()
    kept = app.clock, app.challenges.clock, app.signer.clock
    app.clock = app.challenges.clock = app.signer.clock = clock
    yield clock
    app.clock, app.challenges.clock, app.signer.clock = kept


@pytest.fixture
def devices(platform: Platform, tmp_path: Path) -> Devices:
    return Devices(platform, tmp_path)
