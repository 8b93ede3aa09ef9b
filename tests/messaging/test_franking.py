"""Publicly verifiable franking through the real relay: the relay's key is in messaging's
stream, and a third party holding only that verifies what a recipient reports."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from hearth_crypto.franking import (
    FrankingError,
    FrankingReport,
    RelayKey,
    RelayStamp,
    verify_report,
)
from hearth_eventlog.published import decode_published
from hearth_proto.hearth.messaging.v1 import events_pb2
from hearth_runtime.application import HearthApplication
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_sdk.franked import MessageNotKept
from tests.messaging.conftest import messaging_environ
from tests.messaging.support import People

TEEN = ("young_person", "13_15")


class MessagingLog(HearthApplication):
    """A reader of messaging's stream: what an auditor, the safety service or police see."""

    name = "messaging"


def published_relay_keys(environ: Mapping[str, str], nats_url: str) -> dict[str, bytes]:
    """Every relay key recorded in messaging's stream, by key id: all a verifier needs."""
    log = MessagingLog(env={**environ, "NATS_URL": nats_url})
    try:
        keys: dict[str, bytes] = {}
        for record in log.recorder.select_notifications(None, 100_000):
            message = decode_published(record.topic, record.state)
            if isinstance(message, events_pb2.RelayKeyPublished):
                assert message.algorithm == "ed25519"
                keys[message.key_id] = message.public_key
        return keys
    finally:
        log.close()


def test_a_third_party_verifies_a_received_message_with_the_key_from_the_log(
    people: People, environ: dict[str, str], nats_server: EmbeddedNats
) -> None:
    a = people.account(*TEEN)
    b = people.account(*TEEN)
    people.settle()
    alice, alice_tablet, bob = (
        people.device(a, *TEEN),
        people.device(a, *TEEN),
        people.device(b, *TEEN),
    )
    conversation = alice.start_conversation([b]).conversation_id
    sent = alice.send(conversation, b"send me a photo, it's our secret")
    [received] = bob.receive(1)
    alice_tablet.receive(1)

    assert len(sent.franking_stamp) == 64
    assert sorted(sent.recipient_device_ids) == sorted([bob.device_id, alice_tablet.device_id])
    assert list(sent.recipient_device_ids) == list(received.recipient_device_ids)
    assert received.franking_key_id == sent.franking_key_id

    keys = published_relay_keys(environ, nats_server.url)
    assert received.franking_key_id in keys
    report = received.franking_report()
    verify_report(keys, report)
    assert report.relay_stamp.sender_account_id == a
    assert bob.device_id in report.relay_stamp.recipient_devices
    for device in (alice, alice_tablet, bob):
        device.disconnect()


@pytest.mark.parametrize(
    ("lie", "check"),
    [
        (lambda r: replace(r, body=b"something never said"), "commitment"),
        (
            lambda r: replace(r, relay_stamp=replace(r.relay_stamp, commitment=bytes(32))),
            "signature",
        ),
        (
            lambda r: replace(
                r, relay_stamp=replace(r.relay_stamp, sender_account_id=str(uuid.uuid4()))
            ),
            "signature",
        ),
        (
            lambda r: replace(
                r,
                relay_stamp=replace(
                    r.relay_stamp,
                    recipient_devices=(*r.relay_stamp.recipient_devices, str(uuid.uuid4())),
                ),
            ),
            "signature",
        ),
        (
            lambda r: replace(
                r, relay_stamp=replace(r.relay_stamp, timestamp_ms=r.relay_stamp.timestamp_ms - 1)
            ),
            "signature",
        ),
        (lambda r: replace(r, relay_stamp=replace(r.relay_stamp, key_id="0" * 16)), "relay_key"),
        (
            lambda r: replace(r, relay_stamp=replace(r.relay_stamp, signature=bytes(32))),
            "stamp_version",
        ),
    ],
    ids=["body", "commitment", "sender", "recipient list", "timestamp", "key id", "hmac stamp"],
)
def test_an_altered_report_fails_naming_the_check(
    people: People,
    environ: dict[str, str],
    nats_server: EmbeddedNats,
    lie: Callable[[FrankingReport], FrankingReport],
    check: str,
) -> None:
    a = people.account(*TEEN)
    b = people.account(*TEEN)
    people.settle()
    alice, bob = people.device(a, *TEEN), people.device(b, *TEEN)
    conversation = alice.start_conversation([b]).conversation_id
    alice.send(conversation, b"are your parents home?")
    [received] = bob.receive(1)
    keys = published_relay_keys(environ, nats_server.url)
    verify_report(keys, received.franking_report())
    with pytest.raises(FrankingError) as refused:
        verify_report(keys, lie(received.franking_report()))
    assert refused.value.check == check
    alice.disconnect()
    bob.disconnect()


def test_a_reported_message_comes_with_its_context_and_survives_a_restart(
    people: People, environ: dict[str, str], nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    a = people.account(*TEEN)
    b = people.account(*TEEN)
    people.settle()
    alice = people.device(a, *TEEN)
    bob = people.device(b, *TEEN, state_path=tmp_path / "bob.json")
    conversation = alice.start_conversation([b]).conversation_id
    for i in range(4):
        alice.send(conversation, f"message {i}".encode())
    received = bob.receive(4)
    assert len(received) == 4
    bob.disconnect()

    restored = people.device(b, *TEEN, state_path=tmp_path / "bob.json")
    reported, context = restored.franked.report(conversation, received[3].message_id, context=2)
    assert reported.body == b"message 3"
    assert [m.body for m in context] == [b"message 1", b"message 2"]
    keys = published_relay_keys(environ, nats_server.url)
    for report in (reported, *context):
        verify_report(keys, report)
    assert reported.relay_stamp.recipient_devices == (restored.device_id,)
    with pytest.raises(MessageNotKept):
        restored.franked.report(conversation, str(uuid.uuid4()))

    # A participant may report what they sent, too, with what was said before it.
    restored.send(conversation, b"stop messaging me")
    mine, before = restored.franked.report(
        conversation, restored.franked.messages(conversation)[-1].message_id, context=1
    )
    assert mine.body == b"stop messaging me" and [m.body for m in before] == [b"message 3"]
    verify_report(keys, mine)
    assert mine.relay_stamp.sender_account_id == b
    with pytest.raises(ValueError, match="at most 20"):
        restored.franked.report(conversation, received[3].message_id, context=21)
    alice.disconnect()


def test_after_rotation_stamps_of_the_old_and_the_new_key_both_verify(
    own_nats: EmbeddedNats, tmp_path: Path
) -> None:
    environ = messaging_environ("rotation")
    seeds = [os.urandom(32), os.urandom(32)]
    old, new = (RelayKey(seed) for seed in seeds)
    reports: list[FrankingReport] = []
    stamps: list[RelayStamp] = []
    for seed in seeds:
        platform = Platform(
            tmp_path,
            services=["messaging"],
            environ={**environ, "HEARTH_MESSAGING_FRANKING_KEY": base64.b64encode(seed).decode()},
            nats_url=own_nats.url,
        ).start()
        people = People(platform, environ)
        try:
            a, b = people.account(*TEEN), people.account(*TEEN)
            people.settle()
            alice, bob = people.device(a, *TEEN), people.device(b, *TEEN)
            conversation = alice.start_conversation([b]).conversation_id
            alice.send(conversation, b"hello")
            [received] = bob.receive(1)
            reports.append(received.franking_report())
            stamps.append(received.relay_stamp)
            alice.disconnect()
            bob.disconnect()
        finally:
            people.close()
            platform.stop()
    assert [s.key_id for s in stamps] == [old.key_id, new.key_id]
    keys = published_relay_keys(environ, own_nats.url)
    assert keys == {k.key_id: k.public.public_key for k in (old, new)}
    for report in reports:
        verify_report(keys, report)
