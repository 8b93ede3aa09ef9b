"""Safety: verifying a report with 20 franked messages of context, beside raw Ed25519.

A report of 21 messages costs 21 Ed25519 verifications of the relay's stamps, 21 HMAC
openings of the commitments and the report's own checks, so its rate can reach at best
1/21 of raw Ed25519 verification measured in the same rounds (`safety.report.verify`'s
ratio to `ed25519.verify`, ideally close to 0.048). `safety.queue.next` is the time to fetch
the next case of an organisation with 10,000 open cases: the application reads its stream
forward from where its board stopped (one empty read from NATS) and takes the first entry of
the queue, kept in (severity, deadline) order. The board is filled in memory with the cases'
CaseOpened events, as catching up with them would leave it.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from nacl.signing import SigningKey

from hearth_crypto.franking import FrankingReport, MessageMetadata, RelayKey, frank_message
from hearth_proto.hearth.safety.v1 import events_pb2
from hearth_safety.application import Safety
from hearth_safety.verification import verify_report_messages
from tests.bench.report import Report, best_of

ROUNDS = 3
REPORTS = 100
VERIFICATIONS = 2_000
CONTEXT = 20
OPEN_CASES = 10_000
FETCHES = 200
SEVERITIES = ("immediate", "high", "medium", "low")
QUICK = {"ROUNDS": 1, "REPORTS": 5, "VERIFICATIONS": 100, "OPEN_CASES": 500, "FETCHES": 10}


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
    queue_next(report)


def queue_next(report: Report) -> None:
    prefix = f"bench{uuid.uuid4().hex[:8]}".upper()
    app = Safety(
        {
            "NATS_URL": report.nats_url,
            "HEARTH_SAFETY_STREAM": f"{prefix}_SAFETY",
            "HEARTH_SAFETY_SUBJECT_PREFIX": f"{prefix.lower()}.safety",
        }
    )
    try:
        board = app.current_board()  # the (empty) stream read once
        organisation = "org-bench"
        start = datetime.now(UTC)
        for i in range(OPEN_CASES):
            deadline = Timestamp()
            deadline.FromDatetime(start + timedelta(minutes=(i * 7919) % OPEN_CASES))
            board._apply(
                str(uuid.uuid4()),
                events_pb2.CaseOpened(
                    organisation_id=organisation,
                    severity=SEVERITIES[i % 4],
                    deadline=deadline,
                ),
            )

        def fetch() -> float:
            started = time.perf_counter()
            for _ in range(FETCHES):
                (first,) = app.queue(organisation, 1)
            elapsed = time.perf_counter() - started
            assert first.severity.value == "immediate"
            return elapsed / FETCHES * 1000

        ms = min(fetch() for _ in range(ROUNDS))  # on a shared machine noise only slows
        report.figure("safety.queue.next", ms, "ms")
        report.note(f"{OPEN_CASES} open cases on the board; each fetch reads the stream forward")
    finally:
        app.close()
