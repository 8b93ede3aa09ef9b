"""One-tap report: gather, on the device, the franked message and its franked context.

Everything a report needs to be verified is already on the device: for a received message,
the body, the franking key that came inside the ciphertext and the relay's stamp
(:class:`~hearth_sdk.sessions.ReceivedMessage`); for a message the child sent, the same kept
by :func:`send_recorded` when it was sent. :func:`gather_report` takes the reported message
and up to 20 messages of the same conversation around it (those before it first: the run-up
matters most), checks each frank locally, and returns a plain :class:`ReportEvidence`. What
carries it to the safety service, and what the service does with it, is that service's part;
nothing here sends anything.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf.timestamp_pb2 import Timestamp

from hearth_crypto.franking import (
    FrankingError,
    FrankingReport,
    MessageMetadata,
    RelayStamp,
    frank_message,
    verify_frank,
)

from .messaging import MessagingDevice
from .sessions import ReceivedMessage

CONTEXT_MESSAGES = 20


@dataclass(frozen=True)
class SentMessage:
    """A message this device sent, as kept for a report: what franking needs to prove it."""

    message_id: str
    conversation_id: str
    sender_account_id: str
    sender_device_id: str
    body: bytes
    franking_key: bytes
    franking_commitment: bytes
    franking_stamp: bytes
    relayed_at_ms: int


@dataclass(frozen=True)
class FrankedMessage:
    """One message of a report, sent or received, with its franking proof."""

    message_id: str
    conversation_id: str
    sender_account_id: str
    sender_device_id: str
    body: bytes
    franking_key: bytes
    franking_commitment: bytes
    franking_stamp: bytes
    relayed_at_ms: int
    sent_by_reporter: bool

    def franking_report(self) -> FrankingReport:
        """The form `hearth_crypto.franking.verify_report` checks under the relay's key."""
        return FrankingReport(
            body=self.body,
            franking_key=self.franking_key,
            metadata=MessageMetadata(self.conversation_id, self.sender_device_id, self.message_id),
            relay_stamp=RelayStamp(
                self.franking_commitment,
                self.sender_device_id,
                self.conversation_id,
                self.relayed_at_ms,
                self.franking_stamp,
            ),
        )


@dataclass(frozen=True)
class ReportEvidence:
    """What a one-tap report carries: the reported message and its context, all franked."""

    report_id: str
    reporter_account_id: str
    conversation_id: str
    category: str  # what the child chose (or the scanner suggested), e.g. "grooming"
    reported: FrankedMessage
    context: tuple[FrankedMessage, ...]
    gathered_at_ms: int


class NothingToReport(LookupError):
    """The reported message is not among this device's records, or its frank is broken."""


def send_recorded(
    device: MessagingDevice, conversation_id: str, body: bytes, message_id: str | None = None
) -> SentMessage:
    """Send through the messaging SDK and keep what a later report needs."""
    message_id = message_id or str(uuid.uuid4())
    frank = frank_message(body, MessageMetadata(conversation_id, device.device_id, message_id))
    response = device.send(conversation_id, body, message_id=message_id, frank=frank)
    relayed: Timestamp = response.relayed_at
    return SentMessage(
        message_id=message_id,
        conversation_id=conversation_id,
        sender_account_id=device.account_id,
        sender_device_id=device.device_id,
        body=body,
        franking_key=frank.franking_key,
        franking_commitment=frank.commitment,
        franking_stamp=response.franking_stamp,
        relayed_at_ms=relayed.ToMilliseconds(),
    )


def _franked(record: ReceivedMessage | SentMessage) -> FrankedMessage:
    return FrankedMessage(
        message_id=record.message_id,
        conversation_id=record.conversation_id,
        sender_account_id=record.sender_account_id,
        sender_device_id=record.sender_device_id,
        body=record.body,
        franking_key=record.franking_key,
        franking_commitment=record.franking_commitment,
        franking_stamp=record.franking_stamp,
        relayed_at_ms=record.relayed_at_ms,
        sent_by_reporter=isinstance(record, SentMessage),
    )


def _opens(message: FrankedMessage) -> bool:
    try:
        metadata = MessageMetadata(
            message.conversation_id, message.sender_device_id, message.message_id
        )
        verify_frank(message.body, message.franking_key, metadata, message.franking_commitment)
    except FrankingError:
        return False
    return True


def gather_report(
    reporter_account_id: str,
    reported_message_id: str,
    received: Iterable[ReceivedMessage],
    sent: Iterable[SentMessage] = (),
    *,
    category: str = "",
    context_messages: int = CONTEXT_MESSAGES,
) -> ReportEvidence:
    """The reported message and up to `context_messages` of its conversation around it.

    Context is taken nearest first, earlier messages before later ones; a record whose frank
    does not open (a corrupted local copy) is left out rather than sent as evidence.
    """
    kept: list[ReceivedMessage | SentMessage] = [*received, *sent]
    records = {r.message_id: _franked(r) for r in kept}
    reported = records.get(reported_message_id)
    if reported is None:
        raise NothingToReport("the reported message is not on this device")
    if not _opens(reported):
        raise NothingToReport("the reported message's frank does not open")
    same = sorted(
        (m for m in records.values() if m.conversation_id == reported.conversation_id),
        key=lambda m: (m.relayed_at_ms, m.message_id),
    )
    at = next(i for i, m in enumerate(same) if m.message_id == reported_message_id)
    before = [m for m in reversed(same[:at]) if _opens(m)]
    after = [m for m in same[at + 1 :] if _opens(m)]
    chosen = before[:context_messages]
    chosen += after[: context_messages - len(chosen)]
    return ReportEvidence(
        report_id=str(uuid.uuid4()),
        reporter_account_id=reporter_account_id,
        conversation_id=reported.conversation_id,
        category=category,
        reported=reported,
        context=tuple(sorted(chosen, key=lambda m: (m.relayed_at_ms, m.message_id))),
        gathered_at_ms=int(time.time() * 1000),
    )
