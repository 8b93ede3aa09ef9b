"""Verifying a report's franked messages on arrival, each failure naming its check.

A report carries the reported message and up to 20 messages of context before it, each as
the reporter's device kept it (`hearth_sdk.franked`): plaintext, franking key, commitment and
the relay's signed stamp. Safety checks them against the relay keys messaging published in
its stream (no secret shared with messaging), in this order, per message:

- the franking checks (`hearth_crypto.franking.verify_report`): ``stamp_version`` (an old
  HMAC stamp), ``format``, ``relay_key``, ``signature``, ``sender``, ``conversation``,
  ``message_id``, ``commitment``;
- ``recipient``: one of the reporter's devices received it, or sent it;

and across them: ``context_size`` (at most 20, and at most `MAX_REPORT_BYTES` of text),
``same_conversation``, ``duplicate`` (a message twice), ``order`` (context oldest first, all
before the reported message) and ``time`` (nothing stamped in the future). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from hearth_crypto.franking import FrankingError, FrankingReport, verify_report

from .domain import MAX_CONTEXT, ContextTooLarge, NotReceived, ReportNotVerified

MAX_REPORT_BYTES = 256 * 1024
CLOCK_SKEW_MS = 2 * 60 * 1000


@dataclass(frozen=True)
class VerifiedMessages:
    """What safety learns from a verified report, in the clear: who, where, which, when."""

    subject_account_id: str  # the sender of the reported message
    subject_device_id: str
    conversation_id: str
    message_ids: tuple[str, ...]  # context oldest first, the reported message last
    sent_at_ms: tuple[int, ...]
    senders: frozenset[str]  # every account whose messages are in the report
    reporter_sent_it: bool


def verify_report_messages(
    keys: Mapping[str, bytes],
    reporter_devices: Collection[str],
    reported: FrankingReport,
    context: Sequence[FrankingReport],
    now_ms: int,
) -> VerifiedMessages:
    """Check a report's messages; raise `ReportNotVerified` (or `ContextTooLarge`) naming the
    first check that fails and which message failed it."""
    if len(context) > MAX_CONTEXT:
        raise ContextTooLarge(f"a report carries at most {MAX_CONTEXT} messages of context")
    messages = [*context, reported]
    if sum(len(m.body) for m in messages) > MAX_REPORT_BYTES:
        raise ContextTooLarge(f"a report carries at most {MAX_REPORT_BYTES} bytes of messages")

    def index(i: int) -> int | None:
        return None if i == len(context) else i

    for i, message in enumerate(messages):
        try:
            verify_report(keys, message)
        except FrankingError as e:
            raise ReportNotVerified(e.check, str(e), index(i)) from None
        stamp = message.relay_stamp
        if stamp.sender_device_id not in reporter_devices and not any(
            d in stamp.recipient_devices for d in reporter_devices
        ):
            raise NotReceived("none of your devices received or sent this message", index(i))
    conversation = reported.relay_stamp.conversation_id
    seen: set[str] = set()
    previous_ms = -1
    for i, message in enumerate(messages):
        stamp = message.relay_stamp
        if stamp.conversation_id != conversation:
            raise ReportNotVerified(
                "same_conversation", "context comes from another conversation", index(i)
            )
        if stamp.message_id in seen:
            raise ReportNotVerified("duplicate", "a message appears twice", index(i))
        seen.add(stamp.message_id)
        if stamp.timestamp_ms < previous_ms:
            raise ReportNotVerified(
                "order", "context is oldest first and before the reported message", index(i)
            )
        previous_ms = stamp.timestamp_ms
        if stamp.timestamp_ms > now_ms + CLOCK_SKEW_MS:
            raise ReportNotVerified("time", "stamped in the future", index(i))
    stamp = reported.relay_stamp
    return VerifiedMessages(
        subject_account_id=stamp.sender_account_id,
        subject_device_id=stamp.sender_device_id,
        conversation_id=conversation,
        message_ids=tuple(m.relay_stamp.message_id for m in messages),
        sent_at_ms=tuple(m.relay_stamp.timestamp_ms for m in messages),
        senders=frozenset(m.relay_stamp.sender_account_id for m in messages),
        reporter_sent_it=stamp.sender_device_id in reporter_devices,
    )
