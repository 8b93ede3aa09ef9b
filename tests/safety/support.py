"""Helpers for safety's domain tests: aggregates rebuilt from their recorded events, staff,
and franked messages relayed by a real relay key."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    Transcoding,
    UUIDAsHex,
)

from hearth_crypto.franking import (
    FrankingReport,
    MessageMetadata,
    RelayKey,
    frank_message,
)
from hearth_eventlog.published import ProtobufMapper
from hearth_safety.domain import Staff, StaffRole

A = TypeVar("A", bound=Aggregate)
NOW = datetime(2026, 3, 24, 10, 0, tzinfo=UTC)  # a Tuesday, in moderation hours


class BytesAsBase64(Transcoding):
    type = bytes
    name = "bytes_b64"

    def encode(self, obj: bytes) -> str:
        return base64.b64encode(obj).decode()

    def decode(self, data: str) -> bytes:
        return base64.b64decode(data)


def rebuilt(aggregate: A) -> A:
    """The aggregate as the log would give it back: its events stored, read and replayed."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), BytesAsBase64()):
        transcoder.register(transcoding)
    # The mapper the event log uses: every event through its protobuf schema.
    mapper: Mapper[uuid.UUID] = ProtobufMapper(transcoder=transcoder)
    copy = None
    for domain_event in aggregate.collect_events():
        stored = mapper.to_stored_event(domain_event)
        replayed = mapper.to_domain_event(stored)
        assert isinstance(replayed, Aggregate.Event)
        copy = replayed.mutate(copy)
    assert isinstance(copy, type(aggregate))
    return copy


def account() -> str:
    return str(uuid.uuid4())


def moderator() -> Staff:
    return Staff(account(), StaffRole.MODERATOR)


def lead() -> Staff:
    return Staff(account(), StaffRole.SAFEGUARDING_LEAD)


class Relay:
    """A relay key and the public keys a verifier holds, and a conversation to report from."""

    def __init__(self) -> None:
        self.key = RelayKey.generate()
        self.keys = {self.key.key_id: self.key.public.public_key}
        self.conversation = str(uuid.uuid4())
        self.clock_ms = int(NOW.timestamp() * 1000) - 3_600_000

    def send(
        self,
        body: bytes,
        sender: tuple[str, str],
        recipients: Sequence[str],
        *,
        conversation: str | None = None,
        at_ms: int | None = None,
    ) -> FrankingReport:
        """A message as a recipient keeps it: franked by the sender, stamped by the relay."""
        conversation = conversation or self.conversation
        account_id, device = sender
        metadata = MessageMetadata(conversation, device, str(uuid.uuid4()))
        frank = frank_message(body, metadata)
        self.clock_ms += 1000
        stamp = self.key.stamp(
            frank.commitment,
            sender_account_id=account_id,
            sender_device_id=device,
            conversation_id=conversation,
            message_id=metadata.message_id,
            recipient_devices=recipients,
            timestamp_ms=self.clock_ms if at_ms is None else at_ms,
        )
        return FrankingReport(body, frank.franking_key, metadata, stamp)
