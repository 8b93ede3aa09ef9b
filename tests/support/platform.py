"""A platform of real services on the session's nats-server, for a module's tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence

import pytest

from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform


@contextlib.contextmanager
def running(
    nats_server: EmbeddedNats,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    environ: Mapping[str, str],
    services: Sequence[str] | None = None,
) -> Iterator[Platform]:
    """Started platform (all services unless `services` names some), stopped afterwards."""
    platform = Platform(
        tmp_path_factory.mktemp(name),
        services=None if services is None else list(services),
        environ=environ,
        nats_url=nats_server.url,
    ).start()
    try:
        yield platform
    finally:
        platform.stop()
