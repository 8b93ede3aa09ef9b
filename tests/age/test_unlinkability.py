"""The issuer cannot link a redemption to the issuance it came from.

Everything issuance stored (verification and issuance events, log lines) is compared, read
raw from JetStream, with everything redemption stored (its event, the spent-token entry in the
key-value bucket, log lines): no value of one appears anywhere in the other, except the issuer
key (which names only a band, a method and an epoch).
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from hearth_eventlog.published import decode_published
from hearth_eventlog.records import decode_record
from hearth_proto.hearth.age.v1 import age_pb2, types_pb2
from hearth_runtime.platform import Platform
from tests.age.support import age_client, authority, raw_kv, raw_stream

MIN_VALUE = 8  # shorter values (an epoch number, an enum) are shared by every token of a band


def message_values(message: Message) -> list[bytes]:
    """Every string and bytes value in a message, nested messages included."""
    found: list[bytes] = []
    for field, value in message.ListFields():
        values = value if field.is_repeated else [value]
        for item in values:
            if isinstance(item, Timestamp):
                continue
            if isinstance(item, Message):
                found.extend(message_values(item))
            elif isinstance(item, bytes):
                found.append(item)
            elif isinstance(item, str):
                found.append(item.encode())
    return found


def stored_values(messages: list[tuple[int, str, bytes]]) -> tuple[list[bytes], bytes]:
    """The values of stream records (envelope and decoded event), and all their raw bytes."""
    values: list[bytes] = []
    raw = b""
    for _, subject, payload in messages:
        raw += subject.encode() + b"\n" + payload + b"\n"
        record = decode_record(payload)
        values.extend(message_values(record))
        values.append(subject.encode())
        event = decode_published(record.topic, record.state)
        if event is not None:
            values.extend(message_values(event))
    return values, raw


def test_nothing_stored_by_issuance_matches_anything_stored_by_redemption(
    platform: Platform, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = age_client(platform, tmp_path)
    key = client.issuer_key(types_pb2.AGE_BAND_13_15, types_pb2.METHOD_CLASS_DOCUMENT)
    start = raw_stream(platform)[-1][0]  # issuer keys were published at start-up

    caplog.clear()
    today = date.today()
    document, signature = authority(platform).issue(today.replace(year=today.year - 15))
    vid = client.start_verification(types_pb2.METHOD_CLASS_DOCUMENT)
    decision = client.submit_document(vid, document, signature)
    client.obtain_tokens(vid, decision)
    issuance_logs = "\n".join(r.getMessage() for r in caplog.records).encode()
    issued = [m for m in raw_stream(platform) if m[0] > start]
    middle = issued[-1][0]
    assert raw_kv(platform) == []

    caplog.clear()
    token_count = client.wallet.count()
    response = client.redeem(types_pb2.AGE_BAND_13_15)
    assert client.wallet.count() == token_count - 1
    redemption_logs = "\n".join(r.getMessage() for r in caplog.records).encode()
    redeemed = [m for m in raw_stream(platform) if m[0] > middle]
    spent = raw_kv(platform)
    assert len(redeemed) == 1 and len(spent) == 1

    issuance, issuance_raw = stored_values(issued)
    assert b"hearth.age.v1.TokensIssued" in issuance
    redemption, redemption_raw = stored_values(redeemed)
    for _, subject, value in spent:
        redemption += [subject.encode(), value]
        redemption_raw += subject.encode() + b"\n" + value + b"\n"
    issuance_raw += issuance_logs
    redemption_raw += redemption_logs
    allowed = {key.key_id, key.key_id.hex().encode()}

    linking = [v for v in redemption if len(v) >= MIN_VALUE and v in issuance_raw]
    linking += [v for v in issuance if len(v) >= MIN_VALUE and v in redemption_raw]
    assert [v for v in linking if v not in allowed] == []
    # The redemption did record what the platform is meant to learn.
    assert response.band == types_pb2.AGE_BAND_13_15
    assert isinstance(response, age_pb2.RedeemTokenResponse)
