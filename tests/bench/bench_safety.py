"""Safety: verifying a report with 20 franked messages of context, beside raw Ed25519.

A report of 21 messages costs 21 Ed25519 verifications of the relay's stamps, 21 HMAC
openings of the commitments and the report's own checks, so its rate can reach at best
1/21 of raw Ed25519 verification measured in the same rounds (`safety.report.verify`'s
ratio to `ed25519.verify`, ideally close to 0.048). The queue's figure (`safety.queue.next`)
needs the application and comes with the service.
"""

from __future__ import annotations

import time
import uuid

from nacl.signing import SigningKey

from hearth_crypto.franking import FrankingReport, MessageMetadata, RelayKey, frank_message
from hearth_safety.verification import verify_report_messages
from tests.bench.report import Report, best_of

ROUNDS = 3
REPORTS = 100
VERIFICATIONS = 2_000
CONTEXT = 20


def conversation(relay: RelayKey, count: int) -> list[FrankingReport]:
    conversation_id = str(uuid.uuid4())
    stranger, child = (str(uuid.uuid4()), "stranger-phone"), (str(uuid.uuid4()), "child-phone")
    said = []
    now_ms = int(time.time() * 1000) - 3_600_000
    for i in range(count):
        account, device = child if i % 2 else stranger
        other = stranger[1] if i % 2 else child[1]
        body = f"message {i} of a conversation that someone will report".encode()
        metadata = MessageMetadata(conversation_id, device, str(uuid.uuid4()))
        frank = frank_message(body, metadata)
        stamp = relay.stamp(
            frank.commitment,
            sender_account_id=account,
            sender_device_id=device,
            conversation_id=conversation_id,
            message_id=metadata.message_id,
            recipient_devices=[other, "child-tablet"],
            timestamp_ms=now_ms + i * 1000,
        )
        said.append(FrankingReport(body, frank.franking_key, metadata, stamp))
    return said


def run(report: Report) -> None:
    relay = RelayKey.generate()
    keys = {relay.key_id: relay.public.public_key}
    *context, reported = conversation(relay, CONTEXT + 1)
    key = SigningKey.generate()
    signed = key.sign(b"x" * 200)
    verify_key = key.verify_key

    def raw_verify() -> float:
        started = time.perf_counter()
        for _ in range(VERIFICATIONS):
            verify_key.verify(signed)
        return VERIFICATIONS / (time.perf_counter() - started)

    def reports() -> float:
        started = time.perf_counter()
        for _ in range(REPORTS):
            now_ms = int(time.time() * 1000)
            verify_report_messages(keys, {"child-phone"}, reported, context, now_ms)
        return REPORTS / (time.perf_counter() - started)

    verify_rate, report_rate = best_of(ROUNDS, raw_verify, reports)
    report.figure("ed25519.verify", verify_rate, "verifications/s")
    report.figure("safety.report.verify", report_rate, "reports/s", baseline="ed25519.verify")
    report.note(f"each report: {CONTEXT} messages of context and the reported one")
