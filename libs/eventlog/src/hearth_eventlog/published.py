"""Stored events: every domain event is stored as its protobuf schema under `protos/`.

An event class is declared with `@published(SomeEvent_pb2_message)`. The `ProtobufMapper`
stores it with the protobuf full name as its topic and the serialised message as its state,
so any reader decodes it from the schema alone, without the producing service's Python code,
and renaming a Python class changes nothing that is stored. The mapper refuses an event with no
schema (so it never writes a Python path as a topic) and one with an attribute its schema lacks
(so nothing is silently dropped from the record). Snapshots are events too: an application
that enabled them would need a schema for them first.

An aggregate is declared with `@aggregate_name("service.Kind")`, which registers it and maps
its creation events to it: the mapper fills their `originator_topic` (which eventsourcing
needs to rebuild the aggregate) from that registry on the way back, as the class that bears
the name today, so no aggregate's Python path is stored either.

Old topics map to today's events through `register_aliases`: the eventsourcing `module:Class`
topics that events were stored under before they had schemas (their state is eventsourcing's
JSON, which the mapper reads into the schema), and the old full name of a renamed message.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import CanInitAggregate, CanMutateAggregate, DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.timestamp_pb2 import Timestamp

E = TypeVar("E", bound=type)
_SCHEMA_ATTR = "__hearth_schema__"
_classes: dict[str, type] = {}  # stable event name -> event class
_aggregates: dict[str, type] = {}  # stable aggregate name -> aggregate class
_created_by: dict[str, str] = {}  # stable name of a creation event -> of its aggregate
_aliases: dict[str, str] = {}  # old topic -> stable event name
# The event classes eventsourcing defines on every aggregate class; unless given a schema, they
# are bases that are never stored themselves (the mapper refuses them if they are).
_BASE_EVENTS = frozenset({"Event", "Created"})


def published(schema: type[Message]) -> Callable[[E], E]:
    """Declare that an event class is stored as (and read by others as) `schema`."""

    def register(cls: E) -> E:
        name = schema.DESCRIPTOR.full_name
        existing = _classes.get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise TypeError(f"{name} is already the schema of {existing.__qualname__}")
        setattr(cls, _SCHEMA_ATTR, schema)
        _classes[name] = cls
        return cls

    return register


def schema_of(cls: type) -> type[Message] | None:
    schema: type[Message] | None = getattr(cls, _SCHEMA_ATTR, None)
    return schema


def aggregate_name(name: str) -> Callable[[E], E]:
    """Declare an aggregate's stable name; every event class it defines must be `@published`."""

    def register(cls: E) -> E:
        existing = _aggregates.get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise TypeError(f"{name} is already the name of {existing.__qualname__}")
        events = {
            attr: value
            for attr, value in vars(cls).items()
            if isinstance(value, type)
            and issubclass(value, CanMutateAggregate)
            and not (attr in _BASE_EVENTS and schema_of(value) is None)
        }
        unnamed = sorted(attr for attr, value in events.items() if schema_of(value) is None)
        if unnamed:
            raise TypeError(f"events {unnamed} of {cls.__qualname__} have no @published schema")
        created = [v for v in events.values() if issubclass(v, CanInitAggregate)]
        if not created:
            raise TypeError(f"{cls.__qualname__} defines no published creation event")
        for event_class in created:
            schema = schema_of(event_class)
            assert schema is not None
            if _created_by.setdefault(schema.DESCRIPTOR.full_name, name) != name:
                raise TypeError(f"{schema.DESCRIPTOR.full_name} already creates another aggregate")
        _aggregates[name] = cls
        return cls

    return register


def aggregates() -> dict[str, type]:
    """Every aggregate registered so far, by its stable name (for tools that list events)."""
    return dict(_aggregates)


def register_aliases(table: Mapping[str, type[Message]]) -> None:
    """Old topics (`module:Class` paths, renamed messages' full names) -> today's schema."""
    for old, schema in table.items():
        name = schema.DESCRIPTOR.full_name
        if old in _classes:
            raise TypeError(f"{old} is a current event name, not an alias")
        if _aliases.setdefault(old, name) != name:
            raise TypeError(f"{old} is already an alias of {_aliases[old]}")


def _event_class(topic: str) -> type | None:
    """The class to rebuild a stored event as.

    eventsourcing redefines an event class declared in an aggregate as a subclass of the same
    name (mixing in the aggregate's own `Event`), and `@event(ThatClass)` on a command method
    derives one more, which applies the method's body. The most derived of that line is the
    class the aggregate records, so it is the one that replays correctly.
    """
    cls = _classes.get(_aliases.get(topic, topic))
    if cls is None:
        return None
    while True:
        subclasses: list[type] = cls.__subclasses__()
        same = [sub for sub in subclasses if sub.__qualname__ == cls.__qualname__]
        if not same:
            return cls
        cls = same[-1]


@dataclass(frozen=True)
class PublishedEvent:
    """An event as another service sees it: identity, position and its protobuf message."""

    originator_id: UUID | str
    originator_version: int
    topic: str
    message: Message


def _is_legacy(topic: str) -> bool:
    """eventsourcing's `module:Class` topics, with JSON state; a protobuf name has no colon."""
    return ":" in topic


def decode_published(topic: str, state: bytes) -> Message | None:
    """Decode a stored event's state by its topic; None when the topic is no schema.

    Also None for an old `module:Class` topic, whose state is JSON, not a message.
    """
    if _is_legacy(topic):
        return None
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(_aliases.get(topic, topic))
    except KeyError:
        return None
    message: Message = message_factory.GetMessageClass(descriptor)()
    message.ParseFromString(state)
    return message


class ProtobufMapper(Mapper[UUID]):
    """Maps every event to its protobuf schema, and events stored before they had one back."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        cls = type(domain_event)
        schema = schema_of(cls)
        if schema is None:
            raise TypeError(
                f"{cls.__qualname__} has no schema: declare it @published(...) with a message "
                "under protos/, so it is not stored under a Python path"
            )
        name = schema.DESCRIPTOR.full_name
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        if isinstance(domain_event, CanInitAggregate):
            self._check_originator(name, state.pop("originator_topic"))
        message = self._message(schema, state, cls.__qualname__)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=name,
            state=message.SerializeToString(),
        )

    @staticmethod
    def _check_originator(name: str, originator_topic: str) -> None:
        aggregate = _created_by.get(name)
        if aggregate is None:
            raise TypeError(f"{name} creates an aggregate with no @aggregate_name")
        if originator_topic != get_topic(_aggregates[aggregate]):
            raise TypeError(f"{name} creates {aggregate}, not {originator_topic}")

    @staticmethod
    def _message(schema: type[Message], state: dict[str, Any], what: str) -> Message:
        message = schema()
        for field in schema.DESCRIPTOR.fields:
            if field.name in state:
                _set_field(message, field, state.pop(field.name))
        if state:
            raise TypeError(
                f"{what} has attributes {sorted(state)} that its schema "
                f"{schema.DESCRIPTOR.full_name} lacks"
            )
        return message

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        topic = stored_event.topic
        cls = _event_class(topic)
        if cls is None:
            raise MapperDeserialisationError(
                f"no event type is stored as {topic!r} (nor has it as an alias)"
            )
        schema = schema_of(cls)
        assert schema is not None
        where = f"{topic} {stored_event.originator_id} v{stored_event.originator_version}"
        try:
            if _is_legacy(topic):
                message = self._from_json(stored_event.state, schema, where)
            else:
                message = schema()
                message.ParseFromString(stored_event.state)
        except (DecodeError, TypeError, ValueError) as e:
            raise MapperDeserialisationError(
                f"state of {where} is not a valid {schema.__name__}: {e}"
            ) from e
        hints = _hints(cls)
        state: dict[str, Any] = {}
        for field in schema.DESCRIPTOR.fields:
            state[field.name] = _get_field(message, field, hints.get(field.name))
        if issubclass(cls, CanInitAggregate):
            state["originator_topic"] = get_topic(
                _aggregates[_created_by[schema.DESCRIPTOR.full_name]]
            )
        originator_id = stored_event.originator_id
        if isinstance(originator_id, str):
            originator_id = UUID(originator_id)
        state["originator_id"] = originator_id
        state["originator_version"] = stored_event.originator_version
        domain_event: object = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return typing.cast(DomainEventProtocol[UUID], domain_event)

    def _from_json(self, state: bytes, schema: type[Message], where: str) -> Message:
        """An event stored before it had a schema, read into its schema's message."""
        fields: dict[str, Any] = self.transcoder.decode(state)
        # The aggregate's Python path, which the stable aggregate name now stands for.
        fields.pop("originator_topic", None)
        return self._message(schema, fields, where)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_timestamp(field: Any) -> bool:
    return (
        field.type == FieldDescriptor.TYPE_MESSAGE
        and field.message_type is not None
        and field.message_type.full_name == "google.protobuf.Timestamp"
    )


def _is_map(field: Any) -> bool:
    return (
        field.type == FieldDescriptor.TYPE_MESSAGE
        and field.message_type is not None
        and field.message_type.GetOptions().map_entry
    )


def _to_proto(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _set_field(message: Message, field: Any, value: Any) -> None:
    if value is None:
        return
    if _is_timestamp(field):
        getattr(message, field.name).FromDatetime(value)
    elif _is_map(field):
        # dict() also takes the list of pairs that eventsourcing's JSON keeps a mapping as.
        getattr(message, field.name).update(dict(value))
    elif field.is_repeated:
        getattr(message, field.name).extend(_to_proto(v) for v in value)
    else:
        setattr(message, field.name, _to_proto(value))


def _get_field(message: Message, field: Any, hint: Any) -> Any:
    if field.has_presence and not message.HasField(field.name):
        return None
    value = getattr(message, field.name)
    if _is_timestamp(field):
        assert isinstance(value, Timestamp)
        return value.ToDatetime(tzinfo=UTC)
    if _is_map(field):
        return dict(value)
    if field.is_repeated:
        item = typing.get_args(hint)[0] if typing.get_args(hint) else None
        return tuple(_from_proto(v, item) for v in value)
    return _from_proto(value, hint)


def _from_proto(value: Any, hint: Any) -> Any:
    target = _concrete(hint)
    if target is UUID:
        return UUID(value)
    if isinstance(target, type) and issubclass(target, enum.Enum):
        return target(value)
    return value


def _concrete(hint: Any) -> Any:
    """`X | None` -> X; anything else as it is."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


__all__ = [
    "ProtobufMapper",
    "PublishedEvent",
    "aggregate_name",
    "aggregates",
    "decode_published",
    "published",
    "register_aliases",
]
