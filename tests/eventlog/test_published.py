"""Every event is stored as its protobuf schema under a stable name, and read back by anyone."""

from __future__ import annotations

import enum
from typing import ClassVar
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    MapperDeserialisationError,
    StoredEvent,
    UUIDAsHex,
)
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

from hearth_eventlog import published as registry
from hearth_eventlog.published import (
    ProtobufMapper,
    aggregate_name,
    decode_published,
    published,
    register_aliases,
)
from tests.eventlog.support import isolated_app_env

F = descriptor_pb2.FieldDescriptorProto
REGISTERED = (
    ("role", F.TYPE_INT32),
    ("device_public_key", F.TYPE_BYTES),
    ("request_id", F.TYPE_STRING),
)


def schema_for(name: str, fields: tuple[tuple[str, int], ...] = REGISTERED) -> type[Message]:
    """A schema of this test's own, shaped like a stored event (a timestamp, then `fields`)."""
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
    stamp = message.field.add(name="timestamp", number=1, type=F.TYPE_MESSAGE)
    stamp.type_name = ".google.protobuf.Timestamp"
    stamp.label = F.LABEL_OPTIONAL
    for number, (field, kind) in enumerate(fields, start=2):
        message.field.add(name=field, number=number, type=kind, label=F.LABEL_OPTIONAL)
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))


MemberRegistered = schema_for("MemberRegistered")
MemberNoted = schema_for("MemberNoted", (("note", F.TYPE_STRING),))


class Role(enum.IntEnum):
    CHILD = 1
    GUARDIAN = 3


@aggregate_name("testing.Member")
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

    @published(MemberNoted)
    class Noted(Aggregate.Event):
        note: str

    @event(Noted)
    def note(self, note: str) -> None:
        self.last_note = note


class Members(Application[UUID]):
    env: ClassVar[dict[str, str]] = {"MAPPER_TOPIC": "hearth_eventlog.published:ProtobufMapper"}


def test_an_event_is_stored_as_its_schema_and_round_trips(nats_url: str) -> None:
    app = Members(env=isolated_app_env(nats_url, "Members"))
    try:
        member = Member(Role.GUARDIAN, b"k" * 32, "req-1")
        member.note("private note")
        app.save(member)

        stored = app.recorder.select_notifications(None, 10)
        assert [n.topic for n in stored] == [
            "hearth.testing.v1.MemberRegistered",
            "hearth.testing.v1.MemberNoted",
        ]
        # Any reader decodes it from the schema alone.
        message = decode_published(stored[0].topic, stored[0].state)
        assert isinstance(message, MemberRegistered)
        assert message.role == Role.GUARDIAN.value  # type: ignore[attr-defined]
        assert message.device_public_key == b"k" * 32  # type: ignore[attr-defined]
        # The aggregate's Python path is not stored: the mapper knows it from the event type.
        assert b"test_published" not in stored[0].state

        copy: Member = app.repository.get(member.id)
        assert copy.role is Role.GUARDIAN
        assert copy.request_id == "req-1"
        assert copy.last_note == "private note"
        assert copy.created_on == member.created_on
    finally:
        app.close()


def test_event_with_attribute_its_schema_lacks_is_refused() -> None:
    @aggregate_name("testing.Leaky")
    class Leaky(Aggregate):
        @published(schema_for("LeakyRegistered", (("role", F.TYPE_INT32),)))
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


def test_a_creation_event_of_an_undeclared_aggregate_is_refused() -> None:
    class Stray(Aggregate):
        @published(schema_for("StrayOpened", ()))
        class Opened(Aggregate.Created):
            pass

        @event(Opened)
        def __init__(self) -> None:
            pass

    mapper = ProtobufMapper(transcoder=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="no @aggregate_name"):
        mapper.to_stored_event(Stray().collect_events()[0])


CounterStarted = schema_for("CounterStarted", ())
CounterBumped = schema_for("CounterBumped", (("role", F.TYPE_INT32),))


@aggregate_name("testing.Counter")
class Counter(Aggregate):
    @published(CounterStarted)
    class Started(Aggregate.Created):
        pass

    @event(Started)
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


def test_an_event_of_a_command_method_replays_the_method(nats_url: str) -> None:
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


def transcoder() -> JSONTranscoder:
    t = JSONTranscoder()
    t.register(UUIDAsHex())
    t.register(DatetimeAsISO())
    return t


def test_an_event_stored_under_its_old_python_path_replays_through_an_alias() -> None:
    """As eventsourcing stored it before it had a schema: a module:Class topic, JSON state."""
    register_aliases({"tests.eventlog.old_module:Counter.Bumped": CounterBumped})
    counter = Counter()
    counter.bump(3)
    mapper = ProtobufMapper(transcoder=transcoder())
    created, bumped = counter.collect_events()
    old = StoredEvent(
        originator_id=counter.id,
        originator_version=2,
        topic="tests.eventlog.old_module:Counter.Bumped",
        state=transcoder().encode({"timestamp": bumped.timestamp, "role": 3}),
    )
    replayed = mapper.to_domain_event(old)
    assert isinstance(replayed, Counter.Bumped)
    assert decode_published(old.topic, old.state) is None  # JSON, not the schema's message
    assert replayed == bumped
    rebuilt = replayed.mutate(created.mutate(None))
    assert isinstance(rebuilt, Counter)
    assert rebuilt.total == 3


def test_an_unknown_topic_is_a_deserialisation_error_not_an_import() -> None:
    mapper = ProtobufMapper(transcoder=transcoder())
    stored = StoredEvent(
        originator_id=UUID(int=1), originator_version=1, topic="os:system", state=b"{}"
    )
    with pytest.raises(MapperDeserialisationError, match="no event type"):
        mapper.to_domain_event(stored)


def test_a_class_renamed_in_python_replays_by_its_stable_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What is stored is the schema's and the aggregate's names, never the class's path."""
    mapper = ProtobufMapper(transcoder=transcoder())
    stored = [mapper.to_stored_event(e) for e in _counted(4)]
    # A fresh registry, as a process running the renamed code would have.
    for table in ("_classes", "_aggregates", "_created_by", "_aliases"):
        monkeypatch.setattr(registry, table, {})

    @aggregate_name("testing.Counter")
    class Tally(Aggregate):
        @published(CounterStarted)
        class Opened(Aggregate.Created):
            pass

        @event(Opened)
        def __init__(self) -> None:
            self.count = 0

        @published(CounterBumped)
        class Added(Aggregate.Event):
            role: int

        @event(Added)
        def add(self, role: int) -> None:
            self.count += role

    tally = None
    for record in stored:
        domain_event = mapper.to_domain_event(record)
        tally = domain_event.mutate(tally)  # type: ignore[attr-defined]
    assert isinstance(tally, Tally)
    assert tally.count == 4


def _counted(by: int) -> list[Aggregate.Event]:
    counter = Counter()
    counter.bump(by)
    return list(counter.collect_events())  # type: ignore[arg-type]
