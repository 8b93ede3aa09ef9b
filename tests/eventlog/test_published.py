"""Published events are stored as their protobuf schema and read back by anyone."""

from __future__ import annotations

import enum
from typing import ClassVar
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

from hearth_eventlog.published import ProtobufMapper, decode_published, published
from tests.eventlog.support import isolated_app_env


def schema_for(name: str) -> type[Message]:
    """A schema of this test's own, shaped like a published event."""
    pool = descriptor_pool.Default()
    full_name = f"hearth.testing.v1.{name}"
    try:
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto(
        name=f"hearth/testing/v1/{name.lower()}.proto",
        package="hearth.testing.v1",
        syntax="proto3",
        dependency=["google/protobuf/timestamp.proto"],
    )
    message = file.message_type.add(name=name)
    F = descriptor_pb2.FieldDescriptorProto
    for number, (field, kind) in enumerate(
        [
            ("timestamp", F.TYPE_MESSAGE),
            ("originator_topic", F.TYPE_STRING),
            ("role", F.TYPE_INT32),
            ("device_public_key", F.TYPE_BYTES),
            ("request_id", F.TYPE_STRING),
        ],
        start=1,
    ):
        added = message.field.add(name=field, number=number, type=kind, label=F.LABEL_OPTIONAL)
        if kind == F.TYPE_MESSAGE:
            added.type_name = ".google.protobuf.Timestamp"
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))


MemberRegistered = schema_for("MemberRegistered")


class Role(enum.IntEnum):
    CHILD = 1
    GUARDIAN = 3


class Member(Aggregate):
    @published(MemberRegistered)
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
    env: ClassVar[dict[str, str]] = {"MAPPER_TOPIC": "hearth_eventlog.published:ProtobufMapper"}


def test_published_event_is_stored_as_its_schema_and_round_trips(nats_url: str) -> None:
    app = Members(env=isolated_app_env(nats_url, "Members"))
    try:
        member = Member(Role.GUARDIAN, b"k" * 32, "req-1")
        member.note("private note")
        app.save(member)

        stored = app.recorder.select_notifications(None, 10)
        assert stored[0].topic == "hearth.testing.v1.MemberRegistered"
        # Any reader decodes it from the schema alone.
        message = decode_published(stored[0].topic, stored[0].state)
        assert isinstance(message, MemberRegistered)
        assert message.role == Role.GUARDIAN.value  # type: ignore[attr-defined]
        assert message.device_public_key == b"k" * 32  # type: ignore[attr-defined]
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
        @published(schema_for("LeakyRegistered"))
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


def test_a_schema_belongs_to_one_event_class() -> None:
    with pytest.raises(TypeError, match="already the schema of"):

        @published(MemberRegistered)
        class Impostor(Aggregate.Created):
            pass


CounterBumped = schema_for("CounterBumped")


class Counter(Aggregate):
    @event("Started")
    def __init__(self) -> None:
        self.total = 0

    @published(CounterBumped)
    class Bumped(Aggregate.Event):
        role: int

    @event(Bumped)
    def bump(self, role: int) -> None:
        self.total += role


class Counters(Application[UUID]):
    env: ClassVar[dict[str, str]] = {"MAPPER_TOPIC": "hearth_eventlog.published:ProtobufMapper"}


def test_published_event_of_a_command_method_replays_the_method(nats_url: str) -> None:
    app = Counters(env=isolated_app_env(nats_url, "Counters"))
    try:
        counter = Counter()
        counter.bump(2)
        counter.bump(5)
        app.save(counter)
        assert app.recorder.select_notifications(None, 5)[1].topic.endswith("CounterBumped")
        replayed: Counter = app.repository.get(counter.id)
        assert replayed.total == 7
        assert replayed.version == counter.version
    finally:
        app.close()
