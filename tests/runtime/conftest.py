"""The platform under test: identity and audit on the session's nats-server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_runtime.telemetry import setup_telemetry
from tests.conftest import stream_environ, unique_name
from tests.runtime.support import SPANS
from tests.support.platform import running


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    setup_telemetry("hearth-tests", {}, extra_exporters=[SPANS])
    prefix = unique_name("p")
    environ = {
        **stream_environ(prefix, "identity", "audit", "age", "messaging"),
    }
    with running(nats_server, tmp_path_factory, "platform", environ) as platform:
        yield platform
