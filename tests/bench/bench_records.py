"""Case records: what keeping one message costs the record keeper, and what checking one
costs a coroner's `hearth-audit verify`, each beside the franking check both must do anyway.

`records.keep` builds a `CaseRecord`, seals it (XSalsa20-Poly1305) and takes its digest;
`records.check` decodes a disclosed record, recomputes its digest and verifies its franking
(the per-record work `verify_package` adds to the bundle's own checks). The baseline
`franking.verify` is `verify_report` alone: an Ed25519 verification and an HMAC.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable

from hearth_crypto.case_record import CaseRecord, seal_record
from hearth_crypto.franking import MessageMetadata, RelayKey, frank_message, verify_report
from tests.bench.report import Report, best_of

ROUNDS = 3
RECORDS = 2000
QUICK = {"ROUNDS": 1, "RECORDS": 50}
PER_S = "records/s"


def records(key: RelayKey) -> list[CaseRecord]:
    made = []
    for _ in range(RECORDS):
        conversation, device, message = (str(uuid.uuid4()) for _ in range(3))
        body = b"a message of a typical length between a youth worker and a young person " * 2
        frank = frank_message(body, MessageMetadata(conversation, device, message))
        stamp = key.stamp(
            frank.commitment,
            sender_account_id=str(uuid.uuid4()),
            sender_device_id=device,
            conversation_id=conversation,
            message_id=message,
            recipient_devices=[str(uuid.uuid4()), str(uuid.uuid4())],
            timestamp_ms=int(time.time() * 1000),
        )
        made.append(
            CaseRecord(
                organisation_id=str(uuid.uuid4()),
                young_person_account_id=str(uuid.uuid4()),
                message_id=message,
                conversation_id=conversation,
                sender_account_id=stamp.sender_account_id,
                sender_device_id=device,
                body=body,
                franking_key=frank.franking_key,
                franking_commitment=frank.commitment,
                franking_stamp=stamp.signature,
                franking_key_id=stamp.key_id,
                recipient_device_ids=stamp.recipient_devices,
                relayed_at_ms=stamp.timestamp_ms,
            )
        )
    return made


def rate(work: Callable[[], None]) -> Callable[[], float]:
    def measure() -> float:
        started = time.perf_counter()
        work()
        return RECORDS / (time.perf_counter() - started)

    return measure


def run(report: Report) -> None:
    key = RelayKey(os.urandom(32))
    keys = {key.public.key_id: key.public.public_key}
    made = records(key)
    documents = [r.to_json() for r in made]
    record_key = os.urandom(32)

    def franking() -> None:
        for record in made:
            verify_report(keys, record.franking_report())

    def keep() -> None:
        for record in made:
            seal_record(record_key, record)
            record.digest()

    def check() -> None:
        for document in documents:
            record = CaseRecord.from_json(document)
            record.digest()
            verify_report(keys, record.franking_report())

    baseline, kept, checked = best_of(ROUNDS, rate(franking), rate(keep), rate(check))
    report.figure("franking.verify", baseline, PER_S)
    report.figure("records.keep", kept, PER_S, baseline="franking.verify")
    report.figure("records.check", checked, PER_S, baseline="franking.verify")
