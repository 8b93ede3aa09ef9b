"""Decoding stored records: the quick paths a replay takes give what the plain ones give."""

from __future__ import annotations

import dataclasses
import re
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from hearth_eventlog.link import _PLAIN_ACK
from hearth_eventlog.records import (
    TracedNotification,
    decode_notification,
    decode_record,
    encode_event,
    originator_of,
)


@pytest.mark.parametrize("originator", [uuid4(), UUID(int=0), UUID(int=2**128 - 1), "a-name"])
def test_a_decoded_notification_equals_the_dataclass_made_by_its_init(
    originator: UUID | str,
) -> None:
    payload = encode_event(StoredEvent(originator, 7, "svc.domain:Thing.Made", b"{}"), b"h" * 32)
    made = decode_notification(41, payload, (("traceparent", "00-ab-cd-01"),))
    expected = TracedNotification(
        originator_id=originator,
        originator_version=7,
        topic="svc.domain:Thing.Made",
        state=b"{}",
        id=41,
        trace_context=(("traceparent", "00-ab-cd-01"),),
        payload=payload,
    )
    assert made == expected
    # Every field the dataclass has, no more: a field added later must be added here too.
    assert made.__dict__.keys() == {f.name for f in dataclasses.fields(TracedNotification)}
    assert hash(made.originator_id) == hash(originator)
    assert type(made.originator_id) is type(originator)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.id = 1  # type: ignore[misc]


def test_a_uuid_of_the_wrong_length_is_refused_as_uuid_refuses_it() -> None:
    record = decode_record(encode_event(StoredEvent(uuid4(), 1, "t", b""), b""))
    record.originator_uuid = b"short"
    with pytest.raises(ValueError, match="16"):
        originator_of(record)


@pytest.mark.parametrize(
    ("answer", "plain"),
    [
        (b'{"stream":"HEARTH_IDENTITY","seq":12}', True),
        (b'{"stream":"S","seq":3,"duplicate":true}', False),
        (b'{"stream":"S","seq":3,"batch":"b1","count":2}', False),
        (b'{"error":{"code":400,"err_code":10071,"description":"wrong last sequence"}}', False),
        (b'{"stream":"S\\",\\"seq\\":9","seq":3}', False),
    ],
)
def test_only_a_plain_acknowledgement_skips_json(answer: bytes, plain: bool) -> None:
    assert isinstance(_PLAIN_ACK, re.Pattern)
    assert (_PLAIN_ACK.fullmatch(answer) is not None) is plain
