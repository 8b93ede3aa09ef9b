"""Every stored event has a schema and a stable topic: a protobuf name, never a Python path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate, event

from hearth_eventlog import StreamSettings
from hearth_eventlog.published import ProtobufMapper, aggregate_name
from hearth_eventlog.records import decode_record
from hearth_proto.hearth.age.v1 import events_pb2 as age_events
from hearth_proto.hearth.audit.v1 import events_pb2 as audit_events
from hearth_proto.hearth.identity.v1 import events_pb2 as identity_events
from hearth_proto.hearth.identity.v1 import identity_pb2_grpc
from hearth_proto.hearth.messaging.v1 import events_pb2 as messaging_events
from hearth_proto.hearth.safety.v1 import events_pb2 as safety_events
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_sdk.channel import connect
from tests.conftest import stream_environ, unique_name
from tests.replay import script
from tests.runtime.support import register
from tests.support.polling import wait_for
from tests.support.streams import read_stream

# Messages of the events files that are parts of an event, not events.
PARTS = {"hearth.audit.v1.WitnessedLeaf"}


def event_schemas() -> set[str]:
    names = set()
    for module in (identity_events, age_events, messaging_events, audit_events, safety_events):
        names |= {d.full_name for d in module.DESCRIPTOR.message_types_by_name.values()}
    return names - PARTS


def test_a_run_of_every_service_stores_only_schema_names(nats_url: str) -> None:
    environ = {"NATS_URL": nats_url, **stream_environ(unique_name("topics"), *script.SERVICES)}
    states = script.run(environ)
    topics: set[str] = set()
    for service in script.SERVICES:
        app = script.application(service, environ)
        try:  # stored as the schemas, every aggregate rebuilds to the state it was saved in
            for aggregate_id, state in states[service].items():
                assert script.state_of(app.repository.get(UUID(aggregate_id))) == state
        finally:
            app.close()
        stream = StreamSettings.from_env(environ, service).stream
        for message in read_stream(nats_url, stream):
            topic = decode_record(message.data).topic
            assert ":" not in topic and "hearth_" not in topic and "domain" not in topic, topic
            assert topic.startswith(f"hearth.{service}.v1."), topic
            topics.add(topic)
    # Every event schema is stored by the run, and nothing is stored without one.
    assert topics == event_schemas()
    # 32 published before, the 19 that had no schema, messaging's RelayKeyPublished, the
    # record keeper's seven (issue 15), safety's 39 and identity's two of the safety team's
    # restrictions (issue 11), and identity's three of passkeys (issue 14), and safety's
    # CaseNotesRead (issue 11's case notes).
    assert len(topics) == 104


@pytest.fixture
def platform(nats_server: EmbeddedNats, tmp_path: Path) -> Iterator[Platform]:
    environ = stream_environ(unique_name("p"), *script.SERVICES)
    platform = Platform(tmp_path, environ=environ, nats_url=nats_server.url).start()
    yield platform
    platform.stop()


def stored_topics(platform: Platform, service: str) -> list[str]:
    config = platform.hosts[service].config
    stream = StreamSettings.from_env(config.environ, service).stream
    return [
        decode_record(m.data).topic
        for m in read_stream(platform.nats_url, stream)
        if ".events." in m.subject
    ]


def test_the_running_services_store_only_schema_names(platform: Platform) -> None:
    """Start-up (issuer keys, the audit log) and a registration followed by messaging and audit."""
    identity = identity_pb2_grpc.IdentityServiceStub(connect(platform.endpoint("identity")))
    register(identity, unique_name("topics"))
    wait_for(
        lambda: (
            "hearth.messaging.v1.ContactFactNoted" in stored_topics(platform, "messaging")
            and "hearth.audit.v1.EventsWitnessed" in stored_topics(platform, "audit")
        ),
        timeout=30,
    )
    schemas = event_schemas()
    for service in script.SERVICES:
        topics = stored_topics(platform, service)
        assert topics, service
        assert set(topics) <= schemas, service
    assert "hearth.audit.v1.AuditLogOpened" in stored_topics(platform, "audit")


def test_an_event_without_a_schema_is_refused_not_stored_as_a_path() -> None:
    class Note(Aggregate):
        @event("Written")
        def __init__(self, text: str) -> None:
            self.text = text

    with pytest.raises(TypeError, match="no schema"):
        ProtobufMapper(transcoder=None).to_stored_event(  # type: ignore[arg-type]
            Note("hello").collect_events()[0]
        )


def test_an_aggregate_with_an_event_without_a_schema_is_refused_when_declared() -> None:
    with pytest.raises(TypeError, match=r"events \['Written'\] of .*Diary have no"):

        @aggregate_name("testing.Diary")
        class Diary(Aggregate):
            @event("Written")
            def __init__(self, text: str) -> None:
                self.text = text
