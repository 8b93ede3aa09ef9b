"""How stored events and tracking records lie in JetStream: subjects, payloads, hashes."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from uuid import UUID, SafeUUID

from eventsourcing.persistence import Notification, StoredEvent

from hearth_proto.hearth.eventlog.v1.record_pb2 import RecordedEvent, TrackingRecord

_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")


def originator_token(originator_id: UUID | str) -> str:
    """The subject token of an aggregate: UUID hex, or an encoded name.

    Names are base64url-encoded behind `n-` unless already a safe token, so no name can
    reach another aggregate's subject or a wildcard.
    """
    if isinstance(originator_id, UUID):
        return originator_id.hex
    if _PLAIN_TOKEN.fullmatch(originator_id) and len(originator_id) != 32:
        return f"n_{originator_id}"
    encoded = base64.urlsafe_b64encode(originator_id.encode()).rstrip(b"=").decode()
    return f"b_{encoded}"


def subject_token(name: str) -> str:
    """The subject token of a tracked upstream application's name."""
    return originator_token(name)


def event_hash(payload: bytes) -> bytes:
    """The link the next event of the same aggregate carries."""
    return hashlib.sha256(payload).digest()


def encode_event(event: StoredEvent, previous_hash: bytes) -> bytes:
    record = RecordedEvent(
        originator_version=event.originator_version,
        topic=event.topic,
        state=event.state,
        previous_hash=previous_hash,
    )
    if isinstance(event.originator_id, UUID):
        record.originator_uuid = event.originator_id.bytes
    else:
        record.originator_name = event.originator_id
    return record.SerializeToString()


def decode_record(payload: bytes) -> RecordedEvent:
    record = RecordedEvent()
    record.ParseFromString(payload)
    return record


def originator_of(record: RecordedEvent) -> UUID | str:
    if record.WhichOneof("originator") == "originator_uuid":
        return _uuid(record.originator_uuid)
    return record.originator_name


_UUIDS: dict[bytes, UUID] = {}  # an aggregate's events come in runs: decode its id once
_UUID_CACHE = 4096
_new = object.__new__
_set = object.__setattr__


def _uuid(raw: bytes) -> UUID:
    """`UUID(bytes=raw)`, several times quicker: replay makes one per event."""
    found = _UUIDS.get(raw)
    if found is None:
        if len(raw) != 16:
            return UUID(bytes=raw)  # raises the ValueError UUID does
        if len(_UUIDS) >= _UUID_CACHE:
            _UUIDS.clear()
        found = _new(UUID)
        _set(found, "int", int.from_bytes(raw, "big"))
        _set(found, "is_safe", SafeUUID.unknown)
        _UUIDS[raw] = found
    return found


def decode_event(payload: bytes) -> StoredEvent:
    record = decode_record(payload)
    return StoredEvent(
        originator_id=originator_of(record),
        originator_version=record.originator_version,
        topic=record.topic,
        state=record.state,
    )


@dataclass(frozen=True)
class TracedNotification(Notification):
    """A notification with the W3C trace context its event was appended under."""

    trace_context: tuple[tuple[str, str], ...] = ()
    # The payload exactly as stored, so an auditor can commit to the very bytes.
    payload: bytes = b""


def decode_notification(
    seq: int, payload: bytes, trace_context: tuple[tuple[str, str], ...] = ()
) -> TracedNotification:
    return notification_of(seq, decode_record(payload), payload, trace_context)


def notification_of(
    seq: int,
    record: RecordedEvent,
    payload: bytes,
    trace_context: tuple[tuple[str, str], ...] = (),
) -> TracedNotification:
    """The notification of an already decoded record (a subscription reads the topic first).

    Made without the frozen dataclass's `__init__` (a guarded `__setattr__` per field): a
    replay makes one per event, and this is a third of its cost. The fields are exactly the
    dataclass's (tests compare the two)."""
    notification: TracedNotification = _new(TracedNotification)
    notification.__dict__.update(
        originator_id=originator_of(record),
        originator_version=record.originator_version,
        topic=record.topic,
        state=record.state,
        id=seq,
        trace_context=trace_context,
        payload=payload,
    )
    return notification


def encode_tracking(application_name: str, notification_id: int) -> bytes:
    return TrackingRecord(
        application_name=application_name, notification_id=notification_id
    ).SerializeToString()


def decode_tracking(payload: bytes) -> TrackingRecord:
    record = TrackingRecord()
    record.ParseFromString(payload)
    return record
