"""The eventsourcing library's own recorder test cases, against a real nats-server."""

from __future__ import annotations

import os
from typing import Any

import pytest
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    ProcessRecorder,
    TrackingRecorder,
)
from eventsourcing.tests import application as app_cases
from eventsourcing.tests import persistence as cases
from eventsourcing.utils import Environment

from hearth_eventlog import (
    NatsAggregateRecorder,
    NatsApplicationRecorder,
    NatsFactory,
    NatsProcessRecorder,
    NatsTrackingRecorder,
)
from tests.conftest import unique_name
from tests.eventlog.support import NatsBacked, isolated_app_env


class TestAggregateRecorder(NatsBacked, cases.AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        return self.new_factory().aggregate_recorder()


class TestApplicationRecorder(NatsBacked, cases.ApplicationRecorderTestCase[ApplicationRecorder]):
    def create_recorder(self) -> ApplicationRecorder:
        return self.new_factory().application_recorder()

    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestNonInterleavingNotificationIds(NatsBacked, cases.NonInterleavingNotificationIDsBaseCase):
    insert_num = 1000  # one atomic batch at JetStream's limit

    def create_recorder(self) -> ApplicationRecorder:
        return self.new_factory().application_recorder()


class TestTrackingRecorder(NatsBacked, cases.TrackingRecorderTestCase):
    def create_recorder(self) -> TrackingRecorder:
        return self.new_factory().tracking_recorder()


class TestProcessRecorder(NatsBacked, cases.ProcessRecorderTestCase):
    def create_recorder(self) -> ProcessRecorder:
        return self.new_factory().process_recorder()


class SubclassOfTrackingRecorder(NatsTrackingRecorder):
    pass


class TestInfrastructureFactory(NatsBacked, cases.InfrastructureFactoryTestCase[NatsFactory]):
    def setUp(self) -> None:
        self.env = Environment(
            unique_name("factory"),
            {"PERSISTENCE_MODULE": "hearth_eventlog", "NATS_URL": self.nats_url},
        )
        super().setUp()

    def expected_factory_class(self) -> type[NatsFactory]:
        return NatsFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return NatsAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return NatsApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return NatsTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return SubclassOfTrackingRecorder

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return NatsProcessRecorder


class TestExampleApplication(NatsBacked, app_cases.ExampleApplicationTestCase):
    expected_factory_topic = "hearth_eventlog.factory:NatsFactory"

    @pytest.fixture(autouse=True)
    def _environ(self, nats_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
        for key, value in isolated_app_env(nats_url, "BankAccounts").items():
            monkeypatch.setenv(key, value)
        yield
        assert os.environ["PERSISTENCE_MODULE"] == "hearth_eventlog"
