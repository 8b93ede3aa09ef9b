"""Message franking: a sent message is reported, the relay's stamp and the commitment verify,
and every way a report can lie is caught; plus the key commitment franking relies on."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

import pytest

from hearth_crypto.franking import (
    CommitmentMismatch,
    FrankingReport,
    InvalidStamp,
    MalformedFrank,
    MessageMetadata,
    MetadataMismatch,
    RelayStamp,
    frank_message,
    franking_commitment,
    pack_franked_body,
    stamp_commitment,
    unpack_franked_body,
    verify_frank,
    verify_report,
)
from hearth_crypto.ratchet import (
    MessageAuthenticationFailed,
    RatchetMessage,
    decrypt_with_message_key,
    encrypt_with_message_key,
)
from tests.crypto.test_ratchet import session_pair

SERVER_KEY = os.urandom(32)
METADATA = MessageMetadata(
    conversation_id="conv-1", sender_device="device-alice-1", message_id="msg-42"
)
TIMESTAMP_MS = 1_700_000_000_000


def honest_report(body: bytes = b"you can tell me anything") -> FrankingReport:
    frank = frank_message(body, METADATA)
    stamp = stamp_commitment(
        SERVER_KEY, frank.commitment, METADATA.sender_device, METADATA.conversation_id, TIMESTAMP_MS
    )
    return FrankingReport(body, frank.franking_key, METADATA, stamp)


def test_sent_message_is_reported_and_verified_end_to_end() -> None:
    """Sender franks and encrypts, relay stamps, recipient decrypts, checks, and reports."""
    alice, bob = session_pair()
    body = b"don't tell your parents about me"
    frank = frank_message(body, METADATA)
    message = alice.encrypt(pack_franked_body(body, frank.franking_key))

    # The relay sees only ciphertext and commitment.
    assert body not in message.to_bytes() and frank.franking_key not in message.to_bytes()
    stamp = stamp_commitment(SERVER_KEY, frank.commitment, "device-alice-1", "conv-1", TIMESTAMP_MS)

    received_body, franking_key = unpack_franked_body(bob.decrypt(message))
    verify_frank(received_body, franking_key, METADATA, stamp.commitment)
    verify_report(SERVER_KEY, FrankingReport(received_body, franking_key, METADATA, stamp))


def test_franking_keys_are_fresh_per_message() -> None:
    first, second = frank_message(b"same", METADATA), frank_message(b"same", METADATA)
    assert first.franking_key != second.franking_key
    assert first.commitment != second.commitment
    assert len(first.franking_key) == len(first.commitment) == 32


def test_recipient_detects_a_commitment_that_does_not_match() -> None:
    frank = frank_message(b"what was committed", METADATA)
    with pytest.raises(CommitmentMismatch):
        verify_frank(b"what was encrypted", frank.franking_key, METADATA, frank.commitment)


@pytest.mark.parametrize(
    "lie",
    [
        lambda r: replace(r, body=b"something the sender never said"),
        lambda r: replace(r, franking_key=os.urandom(32)),
        lambda r: replace(r, metadata=replace(r.metadata, message_id="msg-43")),
    ],
    ids=["body", "franking key", "message id"],
)
def test_altered_content_fails_the_commitment(
    lie: Callable[[FrankingReport], FrankingReport],
) -> None:
    report = honest_report()
    verify_report(SERVER_KEY, report)
    with pytest.raises(CommitmentMismatch):
        verify_report(SERVER_KEY, lie(report))


@pytest.mark.parametrize(
    "lie",
    [
        lambda s: replace(s, timestamp_ms=s.timestamp_ms + 1),
        lambda s: replace(s, sender="device-mallory"),
        lambda s: replace(s, conversation_id="conv-2"),
        lambda s: replace(s, commitment=os.urandom(32)),
        lambda s: replace(s, stamp=os.urandom(32)),
    ],
    ids=["timestamp", "sender", "conversation", "commitment", "stamp"],
)
def test_altered_stamp_fails_the_stamp(lie: Callable[[RelayStamp], RelayStamp]) -> None:
    report = honest_report()
    with pytest.raises(InvalidStamp):
        verify_report(SERVER_KEY, replace(report, relay_stamp=lie(report.relay_stamp)))


def test_stamp_from_another_server_key_is_refused() -> None:
    with pytest.raises(InvalidStamp):
        verify_report(os.urandom(32), honest_report())


def test_fabricated_message_with_own_commitment_lacks_a_stamp() -> None:
    """A reporter cannot frame someone: a self-made commitment was never stamped."""
    genuine = honest_report()
    fabricated = frank_message(b"words put in someone's mouth", METADATA)
    with pytest.raises(InvalidStamp):
        verify_report(
            SERVER_KEY,
            FrankingReport(
                b"words put in someone's mouth",
                fabricated.franking_key,
                METADATA,
                replace(genuine.relay_stamp, commitment=fabricated.commitment),
            ),
        )


def test_sender_claim_must_match_what_the_relay_authenticated() -> None:
    """A sender committing to another device's id is caught by the relay's own record."""
    claimed = replace(METADATA, sender_device="device-bob-1")
    frank = frank_message(b"hi", claimed)
    stamp = stamp_commitment(SERVER_KEY, frank.commitment, "device-alice-1", "conv-1", TIMESTAMP_MS)
    with pytest.raises(MetadataMismatch):
        verify_report(SERVER_KEY, FrankingReport(b"hi", frank.franking_key, claimed, stamp))
    moved = replace(METADATA, conversation_id="conv-9")
    frank = frank_message(b"hi", moved)
    stamp = stamp_commitment(SERVER_KEY, frank.commitment, "device-alice-1", "conv-1", TIMESTAMP_MS)
    with pytest.raises(MetadataMismatch):
        verify_report(SERVER_KEY, FrankingReport(b"hi", frank.franking_key, moved, stamp))


def test_malformed_inputs_are_refused() -> None:
    report = honest_report()
    with pytest.raises(MalformedFrank):
        verify_report(SERVER_KEY, replace(report, franking_key=b"short"))
    with pytest.raises(MalformedFrank):
        stamp_commitment(SERVER_KEY, b"short", "s", "c", 0)
    with pytest.raises(MalformedFrank):
        stamp_commitment(SERVER_KEY, os.urandom(32), "s", "c", -1)
    with pytest.raises(MalformedFrank):
        unpack_franked_body(b"\x02" + os.urandom(40))
    with pytest.raises(MalformedFrank):
        unpack_franked_body(b"\x01" + os.urandom(31))


def test_commitment_encoding_is_unambiguous() -> None:
    key = os.urandom(32)
    shifted = MessageMetadata("c" + METADATA.conversation_id, "device", "m")
    assert franking_commitment(
        key, b"abc", MessageMetadata(METADATA.conversation_id, "device", "m")
    ) != franking_commitment(key, b"ab", shifted)
    assert franking_commitment(key, b"x", MessageMetadata("a", "bc", "d")) != (
        franking_commitment(key, b"x", MessageMetadata("ab", "c", "d"))
    )


def test_packed_body_round_trips() -> None:
    key = os.urandom(32)
    for body in (b"", b"hello", os.urandom(500)):
        assert unpack_franked_body(pack_franked_body(body, key)) == (body, key)


# Key commitment: a ratchet ciphertext opens under one key only.


def test_ciphertext_does_not_open_under_a_different_key() -> None:
    key, other_key, associated_data = os.urandom(32), os.urandom(32), b"ad"
    ciphertext = encrypt_with_message_key(key, pack_franked_body(b"hi", os.urandom(32)), b"ad")
    with pytest.raises(MessageAuthenticationFailed):
        decrypt_with_message_key(other_key, ciphertext, associated_data)
    assert unpack_franked_body(decrypt_with_message_key(key, ciphertext, associated_data))[0] == (
        b"hi"
    )


def test_stamped_ciphertext_does_not_open_in_another_session() -> None:
    alice, bob = session_pair()
    _, other_bob = session_pair()
    message = alice.encrypt(pack_franked_body(b"hi", os.urandom(32)))
    with pytest.raises(MessageAuthenticationFailed):
        other_bob.decrypt(RatchetMessage.from_bytes(message.to_bytes()))
    assert unpack_franked_body(bob.decrypt(message))[0] == b"hi"
