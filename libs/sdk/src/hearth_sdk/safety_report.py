"""One-tap report: gather, on the device, the franked message and its franked context.

Everything a report needs to be verified is already on the device: for each message received
or sent, the body, the franking key and the relay's stamp, kept by the messaging SDK in the
device's :class:`~hearth_sdk.franked.FrankedHistory` (`device.franked`) as a
:class:`~hearth_sdk.franked.ReceivedMessage`, the one record of a franked message (what
:func:`send_recorded` answers is that record too). :func:`gather_report` takes the reported message
and up to 20 messages of the same conversation around it (those before it first: the run-up
matters most), checks each frank locally, and returns a plain :class:`ReportEvidence`. What
carries it to the safety service is :func:`send_report` (the service verifies every message
again against the relay keys messaging publishes); nothing else here sends anything.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import grpc

from hearth_crypto.franking import FrankingError, MessageMetadata, verify_frank
from hearth_proto.hearth.safety.v1 import safety_pb2, safety_pb2_grpc

from .channel import bearer
from .franked import FrankedHistory, MessageNotKept, ReceivedMessage
from .messaging import MessagingDevice

CONTEXT_MESSAGES = 20


@dataclass(frozen=True)
class FrankedMessage(ReceivedMessage):
    """One message of a report, sent or received, as the device kept it (the same record as
    `hearth_sdk.franked`'s history), and whether the reporter sent it."""

    sent_by_reporter: bool = False

    @classmethod
    def of(cls, kept: ReceivedMessage, reporter_account_id: str) -> FrankedMessage:
        fields = {f.name: getattr(kept, f.name) for f in dataclasses.fields(ReceivedMessage)}
        return cls(**fields, sent_by_reporter=kept.sender_account_id == reporter_account_id)


# What `send_recorded` hands back: the record the device's history keeps of a sent message.
SentMessage = ReceivedMessage


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
) -> ReceivedMessage:
    """Send through the messaging SDK; the device's history keeps what a later report needs
    (as it does for every message sent), and this answers that record."""
    message_id = message_id or str(uuid.uuid4())
    device.send(conversation_id, body, message_id=message_id)
    kept = device.franked.find(message_id)
    assert kept is not None  # kept by send, before it returned
    return kept


def _opens(message: ReceivedMessage) -> bool:
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
    received: FrankedHistory | Iterable[ReceivedMessage],
    sent: Iterable[ReceivedMessage] = (),
    *,
    category: str = "",
    context_messages: int = CONTEXT_MESSAGES,
) -> ReportEvidence:
    """The reported message and up to `context_messages` of its conversation around it, from
    the device's history (`device.franked`) or the messages given.

    Context is taken nearest first, earlier messages before later ones; a record whose frank
    does not open (a corrupted local copy) is left out rather than sent as evidence.
    """
    if isinstance(received, FrankedHistory):
        history = received
        for message in sent:
            history.keep(message)
    else:
        given = [*received, *sent]
        history = FrankedHistory(kept=max(len(given), 1))
        for message in given:
            history.keep(message)
    try:
        kept, earlier, later = history.around(reported_message_id)
    except MessageNotKept:
        raise NothingToReport("the reported message is not on this device") from None
    if not _opens(kept):
        raise NothingToReport("the reported message's frank does not open")
    before = [m for m in reversed(earlier) if _opens(m)]
    after = [m for m in later if _opens(m)]
    chosen = before[:context_messages]
    chosen += after[: context_messages - len(chosen)]
    context = sorted(chosen, key=lambda m: (m.relayed_at_ms, m.message_id))
    return ReportEvidence(
        report_id=str(uuid.uuid4()),
        reporter_account_id=reporter_account_id,
        conversation_id=kept.conversation_id,
        category=category,
        reported=FrankedMessage.of(kept, reporter_account_id),
        context=tuple(FrankedMessage.of(m, reporter_account_id) for m in context),
        gathered_at_ms=int(time.time() * 1000),
    )


def _franked_proto(m: FrankedMessage) -> safety_pb2.FrankedMessage:
    return safety_pb2.FrankedMessage(
        message_id=m.message_id,
        conversation_id=m.conversation_id,
        sender_account_id=m.sender_account_id,
        sender_device_id=m.sender_device_id,
        body=m.body,
        franking_key=m.franking_key,
        franking_commitment=m.franking_commitment,
        franking_stamp=m.franking_stamp,
        franking_key_id=m.franking_key_id,
        recipient_device_ids=list(m.recipient_device_ids),
        relayed_at_ms=m.relayed_at_ms,
    )


def report_request(
    evidence: ReportEvidence, note: str = "", assessment: dict[str, float] | None = None
) -> safety_pb2.ReportMessageRequest:
    """The safety service's request for `evidence` (its report id is the request id)."""
    return safety_pb2.ReportMessageRequest(
        request_id=evidence.report_id,
        reported=_franked_proto(evidence.reported),
        context=[_franked_proto(m) for m in evidence.context],
        category=evidence.category,
        note=note,
        scanner_assessment=assessment or {},
    )


def send_report(
    channel: grpc.Channel,
    token: str,
    evidence: ReportEvidence,
    *,
    note: str = "",
    assessment: dict[str, float] | None = None,
) -> safety_pb2.ReportMessageResponse:
    """Send a gathered report to the safety service; the answer names the case, its
    severity and who will read it."""
    stub = safety_pb2_grpc.SafetyServiceStub(channel)
    response: safety_pb2.ReportMessageResponse = stub.ReportMessage(
        report_request(evidence, note, assessment),
        metadata=bearer(token),
    )
    return response
