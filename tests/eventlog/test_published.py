"""Published events are stored as their protobuf schema and read back by anyone."""

from __future__ import annotations

import enum
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from hearth_eventlog.published import ProtobufMapper, decode_published, published
from hearth_proto.hearth.identity.v1 import events_pb2
from tests.eventlog.support import isolated_app_env


class Role(enum.IntEnum):
    CHILD = 1
    GUARDIAN = 3


class Member(Aggregate):
    @published(events_pb2.AccountRegistered)
    class Registered(Aggregate.Created):
        role: Role
        device_public_key: bytes
        request_id: str

    @event(Registered)
    def __init__(self, role: Role, device_public_key: bytes, request_id: str) -> None:
        self.role = role
        self.device_public_key = device_public_key
        self.request_id = request_id

    class Noted(Aggregate.Event):
        note: str

    @event(Noted)
    def note(self, note: str) -> None:
        self.last_note = note


class Members(Application[UUID]):
    env = {"MAPPER_TOPIC": "hearth_eventlog.published:ProtobufMapper"}


def test_published_event_is_stored_as_its_schema_and_round_trips(nats_url: str) -> None:
    app = Members(env=isolated_app_env(nats_url, "Members"))
    try:
        member = Member(Role.GUARDIAN, b"k" * 32, "req-1")
        member.note("private note")
        app.save(member)

        stored = app.recorder.select_notifications(None, 10)
        assert stored[0].topic == "hearth.identity.v1.AccountRegistered"
        # Any reader decodes it from the schema alone.
        message = decode_published(stored[0].topic, stored[0].state)
        assert isinstance(message, events_pb2.AccountRegistered)
        assert message.role == Role.GUARDIAN.value
        assert message.device_public_key == b"k" * 32
        # Unpublished events keep eventsourcing's JSON form.
        assert stored[1].topic.endswith("Member.Noted")
        assert decode_published(stored[1].topic, stored[1].state) is None

        copy: Member = app.repository.get(member.id)
        assert copy.role is Role.GUARDIAN
        assert copy.request_id == "req-1"
        assert copy.last_note == "private note"
        assert copy.created_on == member.created_on
    finally:
        app.close()


def test_event_with_attribute_its_schema_lacks_is_refused() -> None:
    class Leaky(Aggregate):
        @published(events_pb2.AccountRegistered)
        class Registered(Aggregate.Created):
            role: Role
            birth_date: str

        @event(Registered)
        def __init__(self, role: Role, birth_date: str) -> None:
            self.role = role

    leaky = Leaky(Role.CHILD, "2014-01-01")
    mapper = ProtobufMapper(transcoder=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"\['birth_date'\]"):
        mapper.to_stored_event(leaky.collect_events()[0])
