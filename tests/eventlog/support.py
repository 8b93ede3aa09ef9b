"""Helpers for event log tests: recorders on fresh streams of a real nats-server."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.utils import Environment

from hearth_eventlog import NatsFactory
from tests.conftest import unique_name


def fresh_env(nats_url: str, **extra: str) -> Environment:
    name = unique_name("app")
    return Environment(
        name, {"PERSISTENCE_MODULE": "hearth_eventlog", "NATS_URL": nats_url, **extra}
    )


def isolated_app_env(nats_url: str, app_name: str) -> dict[str, str]:
    """Environment for an Application class whose name is fixed: its own stream and subjects."""
    key = app_name.upper()
    unique = unique_name("iso")
    return {
        "PERSISTENCE_MODULE": "hearth_eventlog",
        "NATS_URL": nats_url,
        f"HEARTH_{key}_STREAM": unique.upper(),
        f"HEARTH_{key}_SUBJECT_PREFIX": f"hearth.{unique}",
    }


class NatsBacked:
    """Mixin for unittest cases: each test gets its own stream on the session server."""

    nats_url: str
    factories: list[NatsFactory]

    @pytest.fixture(autouse=True)
    def _nats(self, nats_url: str) -> Any:
        self.nats_url = nats_url
        self.factories = []
        yield
        for factory in self.factories:
            factory.close()

    def new_factory(self, **extra: str) -> NatsFactory:
        factory = NatsFactory(fresh_env(self.nats_url, **extra))
        self.factories.append(factory)
        return factory
