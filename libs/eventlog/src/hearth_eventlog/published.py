"""Published events: domain events stored as their protobuf schema under `protos/`.

An event class that another service or a regulator reads is declared with
`@published(SomeEvent_pb2_message)`. The `ProtobufMapper` then stores it with the protobuf full
name as its topic and the serialised message as its state, so any reader decodes it from the
schema alone, without the producing service's Python code. Other events keep eventsourcing's
JSON form. A published event with an attribute its schema lacks is refused, so nothing is
silently dropped from the record.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.timestamp_pb2 import Timestamp

E = TypeVar("E", bound=type)
_SCHEMA_ATTR = "__hearth_schema__"
_classes: dict[str, type] = {}


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


def _event_class(topic: str) -> type | None:
    """The class to rebuild a published event as.

    eventsourcing redefines an event class declared in an aggregate as a subclass of the same
    name (mixing in the aggregate's own `Event`), and `@event(ThatClass)` on a command method
    derives one more, which applies the method's body. The most derived of that line is the
    class the aggregate records, so it is the one that replays correctly.
    """
    cls = _classes.get(topic)
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


def decode_published(topic: str, state: bytes) -> Message | None:
    """Decode a published event's state by its topic; None when the topic is no schema."""
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(topic)
    except KeyError:
        return None
    message: Message = message_factory.GetMessageClass(descriptor)()
    message.ParseFromString(state)
    return message


class ProtobufMapper(Mapper[UUID]):
    """Maps `@published` events to their protobuf schema, and the rest as eventsourcing does."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        schema = schema_of(type(domain_event))
        if schema is None:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        message = schema()
        for field in schema.DESCRIPTOR.fields:
            if field.name in state:
                _set_field(message, field, state.pop(field.name))
        if state:
            raise TypeError(
                f"{type(domain_event).__qualname__} has attributes {sorted(state)} that its "
                f"schema {schema.DESCRIPTOR.full_name} lacks"
            )
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=schema.DESCRIPTOR.full_name,
            state=message.SerializeToString(),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = _event_class(stored_event.topic)
        if cls is None:
            return super().to_domain_event(stored_event)
        schema = schema_of(cls)
        assert schema is not None
        message = schema()
        try:
            message.ParseFromString(stored_event.state)
        except DecodeError as e:
            raise MapperDeserialisationError(
                f"state of {stored_event.topic} {stored_event.originator_id} "
                f"v{stored_event.originator_version} is not a valid {schema.__name__}: {e}"
            ) from e
        hints = _hints(cls)
        state: dict[str, Any] = {}
        for field in schema.DESCRIPTOR.fields:
            state[field.name] = _get_field(message, field, hints.get(field.name))
        originator_id = stored_event.originator_id
        if isinstance(originator_id, str):
            originator_id = UUID(originator_id)
        state["originator_id"] = originator_id
        state["originator_version"] = stored_event.originator_version
        domain_event: object = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return typing.cast(DomainEventProtocol[UUID], domain_event)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_timestamp(field: Any) -> bool:
    return (
        field.type == FieldDescriptor.TYPE_MESSAGE
        and field.message_type is not None
        and field.message_type.full_name == "google.protobuf.Timestamp"
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


__all__ = ["ProtobufMapper", "PublishedEvent", "decode_published", "published"]
