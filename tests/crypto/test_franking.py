"""Message franking: a sent message is reported, anyone holding the relay's published key
verifies the signed stamp and the commitment, and every way a report can lie is caught by the
check that names it; plus fixed vectors for the encodings and the key commitment franking
relies on."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

import pytest
from nacl.signing import SigningKey

from hearth_crypto.franking import (
    CommitmentMismatch,
    FrankingError,
    FrankingReport,
    InvalidStamp,
    LegacyStamp,
    MalformedFrank,
    MessageMetadata,
    MetadataMismatch,
    RelayKey,
    RelayStamp,
    UnknownRelayKey,
    frank_message,
    franking_commitment,
    pack_franked_body,
    relay_key_id,
    stamped_bytes,
    unpack_franked_body,
    verify_frank,
    verify_report,
    verify_stamp,
)
from hearth_crypto.ratchet import (
    MessageAuthenticationFailed,
    RatchetMessage,
    decrypt_with_message_key,
    encrypt_with_message_key,
)
from tests.crypto.test_ratchet import session_pair

RELAY = RelayKey.generate()
# What a third party holds: the public halves from messaging's stream, by key id.
PUBLISHED = {RELAY.key_id: RELAY.public.public_key}
ALICE = "a11ce000-0000-4000-8000-000000000001"
METADATA = MessageMetadata(
    conversation_id="conv-1", sender_device="device-alice-1", message_id="msg-42"
)
RECIPIENTS = ("device-bob-1", "device-bob-2", "device-alice-2")
TIMESTAMP_MS = 1_700_000_000_000


def stamp_for(
    commitment: bytes, metadata: MessageMetadata = METADATA, key: RelayKey = RELAY
) -> RelayStamp:
    return key.stamp(
        commitment,
        sender_account_id=ALICE,
        sender_device_id="device-alice-1",
        conversation_id="conv-1",
        message_id=metadata.message_id,
        recipient_devices=RECIPIENTS,
        timestamp_ms=TIMESTAMP_MS,
    )


def honest_report(body: bytes = b"you can tell me anything") -> FrankingReport:
    frank = frank_message(body, METADATA)
    return FrankingReport(body, frank.franking_key, METADATA, stamp_for(frank.commitment))


def test_sent_message_is_reported_and_verified_by_a_third_party() -> None:
    """Sender franks and encrypts, relay signs, recipient decrypts, checks, and reports; the
    verifier holds nothing but the relay's public key."""
    alice, bob = session_pair()
    body = b"don't tell your parents about me"
    frank = frank_message(body, METADATA)
    message = alice.encrypt(pack_franked_body(body, frank.franking_key))

    # The relay sees only ciphertext and commitment.
    assert body not in message.to_bytes() and frank.franking_key not in message.to_bytes()
    stamp = stamp_for(frank.commitment)
    assert len(stamp.signature) == 64 and stamp.key_id == RELAY.key_id

    received_body, franking_key = unpack_franked_body(bob.decrypt(message))
    verify_frank(received_body, franking_key, METADATA, stamp.commitment)
    report = FrankingReport(received_body, franking_key, METADATA, stamp)
    verify_report({RELAY.key_id: RELAY.public.public_key}, report)


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
    ],
    ids=["body", "franking key"],
)
def test_altered_content_fails_the_commitment(
    lie: Callable[[FrankingReport], FrankingReport],
) -> None:
    report = honest_report()
    verify_report(PUBLISHED, report)
    with pytest.raises(CommitmentMismatch) as refused:
        verify_report(PUBLISHED, lie(report))
    assert refused.value.check == "commitment"


@pytest.mark.parametrize(
    "lie",
    [
        lambda s: replace(s, commitment=os.urandom(32)),
        lambda s: replace(s, sender_account_id="b0b00000-0000-4000-8000-000000000002"),
        lambda s: replace(s, sender_device_id="device-mallory"),
        lambda s: replace(s, conversation_id="conv-2"),
        lambda s: replace(s, message_id="msg-43"),
        lambda s: replace(s, recipient_devices=(*s.recipient_devices, "device-carol-1")),
        lambda s: replace(s, recipient_devices=s.recipient_devices[1:]),
        lambda s: replace(s, timestamp_ms=s.timestamp_ms + 1),
        lambda s: replace(s, signature=os.urandom(64)),
    ],
    ids=[
        "commitment",
        "sender account",
        "sender device",
        "conversation",
        "message id",
        "recipient added",
        "recipient dropped",
        "timestamp",
        "signature",
    ],
)
def test_altered_stamp_fails_the_signature(lie: Callable[[RelayStamp], RelayStamp]) -> None:
    report = honest_report()
    with pytest.raises(InvalidStamp) as refused:
        verify_report(PUBLISHED, replace(report, relay_stamp=lie(report.relay_stamp)))
    assert refused.value.check == "signature"


def test_recipient_order_does_not_matter_but_membership_does() -> None:
    stamp = honest_report().relay_stamp
    verify_stamp(PUBLISHED, replace(stamp, recipient_devices=tuple(reversed(RECIPIENTS))))
    with pytest.raises(InvalidStamp):
        verify_stamp(PUBLISHED, replace(stamp, recipient_devices=("device-bob-1",)))


def test_a_stamp_by_an_unpublished_key_is_refused_naming_the_key() -> None:
    impostor = RelayKey.generate()
    report = honest_report()
    forged = replace(report, relay_stamp=stamp_for(report.relay_stamp.commitment, key=impostor))
    with pytest.raises(UnknownRelayKey) as refused:
        verify_report(PUBLISHED, forged)
    assert refused.value.check == "relay_key"
    # Claiming a published key id does not help: the signature is checked under that key.
    with pytest.raises(InvalidStamp):
        verify_report(
            PUBLISHED,
            replace(forged, relay_stamp=replace(forged.relay_stamp, key_id=RELAY.key_id)),
        )


def test_after_rotation_stamps_of_every_published_key_verify() -> None:
    old, new = RelayKey.generate(), RelayKey.generate()
    keys = {k.key_id: k.public.public_key for k in (old, new)}
    body = b"hi"
    frank = frank_message(body, METADATA)
    for key in (old, new):
        stamp = stamp_for(frank.commitment, key=key)
        assert stamp.key_id == key.key_id
        verify_report(keys, FrankingReport(body, frank.franking_key, METADATA, stamp))
    with pytest.raises(UnknownRelayKey):  # a verifier that only knows the new key
        verify_stamp({new.key_id: new.public.public_key}, stamp_for(frank.commitment, key=old))


def test_an_old_hmac_stamp_is_refused_with_a_clear_reason() -> None:
    stamp = honest_report().relay_stamp
    for legacy in (replace(stamp, signature=os.urandom(32)), replace(stamp, key_id="")):
        with pytest.raises(LegacyStamp, match="HMAC stamp") as refused:
            verify_stamp(PUBLISHED, legacy)
        assert refused.value.check == "stamp_version"


def test_fabricated_message_with_own_commitment_lacks_a_stamp() -> None:
    """A reporter cannot frame someone: a self-made commitment was never signed."""
    genuine = honest_report()
    fabricated = frank_message(b"words put in someone's mouth", METADATA)
    with pytest.raises(InvalidStamp):
        verify_report(
            PUBLISHED,
            FrankingReport(
                b"words put in someone's mouth",
                fabricated.franking_key,
                METADATA,
                replace(genuine.relay_stamp, commitment=fabricated.commitment),
            ),
        )


@pytest.mark.parametrize(
    ("claimed", "check"),
    [
        (replace(METADATA, sender_device="device-bob-1"), "sender"),
        (replace(METADATA, conversation_id="conv-9"), "conversation"),
        (replace(METADATA, message_id="msg-99"), "message_id"),
    ],
)
def test_committed_metadata_must_match_what_the_relay_authenticated(
    claimed: MessageMetadata, check: str
) -> None:
    """A sender committing to another device, conversation or message is caught by the relay's
    own signed record of them."""
    frank = frank_message(b"hi", claimed)
    stamp = stamp_for(frank.commitment)
    with pytest.raises(MetadataMismatch) as refused:
        verify_report(PUBLISHED, FrankingReport(b"hi", frank.franking_key, claimed, stamp))
    assert refused.value.check == check


def test_malformed_inputs_are_refused() -> None:
    report = honest_report()
    with pytest.raises(MalformedFrank):
        verify_report(PUBLISHED, replace(report, franking_key=b"short"))
    with pytest.raises(MalformedFrank):
        verify_stamp(PUBLISHED, replace(report.relay_stamp, signature=os.urandom(63)))
    with pytest.raises(MalformedFrank):
        verify_stamp(PUBLISHED, replace(report.relay_stamp, commitment=b"short"))
    with pytest.raises(MalformedFrank):
        stamp_for(b"short")
    with pytest.raises(MalformedFrank):
        RELAY.stamp(
            os.urandom(32),
            sender_account_id="a",
            sender_device_id="s",
            conversation_id="c",
            message_id="m",
            recipient_devices=(),
            timestamp_ms=-1,
        )
    with pytest.raises(MalformedFrank):
        RelayKey(b"short seed")
    with pytest.raises(MalformedFrank):
        relay_key_id(b"short key")
    with pytest.raises(MalformedFrank):
        unpack_franked_body(b"\x02" + os.urandom(40))
    with pytest.raises(MalformedFrank):
        unpack_franked_body(b"\x01" + os.urandom(31))
    assert all(issubclass(e, FrankingError) for e in (MalformedFrank, LegacyStamp))


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


# Fixed vectors: the canonical encodings are a contract between the relay and every verifier
# (another language's verifier must sign and check the same bytes), so they are pinned here.

SENDER_ACCOUNT = "11111111-1111-4111-8111-111111111111"
SENDER_DEVICE = "22222222-2222-4222-8222-222222222222"
CONVERSATION = "33333333-3333-4333-8333-333333333333"
MESSAGE = "44444444-4444-4444-8444-444444444444"
VECTOR_RECIPIENTS = (
    "66666666-6666-4666-8666-666666666666",
    "55555555-5555-4555-8555-555555555555",
)
VECTOR_SEED = bytes(range(32))
VECTOR_COMMITMENT = bytes(range(100, 132))
VECTOR_PUBLIC_KEY = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
VECTOR_KEY_ID = "ecd55e5ef9a0956b"
VECTOR_STAMPED = (
    "00000020" + b"hearth franking stamp v2 ed25519".hex()
    + "00000010" + b"ecd55e5ef9a0956b".hex()
    + "00000020" + VECTOR_COMMITMENT.hex()
    + "00000024" + SENDER_ACCOUNT.encode().hex()
    + "00000024" + SENDER_DEVICE.encode().hex()
    + "00000024" + CONVERSATION.encode().hex()
    + "00000024" + MESSAGE.encode().hex()
    # the recipients: one field of count then each, sorted
    + "00000054" + "00000002"
    + "00000024" + VECTOR_RECIPIENTS[1].encode().hex()
    + "00000024" + VECTOR_RECIPIENTS[0].encode().hex()
    + "00000008" + "0000019adb8c5b00"  # 1_764_620_000_000 ms, big-endian
)  # fmt: skip
VECTOR_SIGNATURE = (
    "2ff8dfc52ab006098281d6041a821d2e15b703daef7f299bdb572d717d964828"
    "17450491633de0bf9e6542900952f00f946ad7d192f4ead52357eccff82ea60f"
)
VECTOR_FRANKING_KEY = bytes(range(32))
VECTOR_BODY = b"meet me after school"
VECTOR_MESSAGE_COMMITMENT = "4727f7102a97cc051034759a362615f09aeab643c3aafb7aa13a39b68cda9ef6"


def vector_stamp() -> RelayStamp:
    return RelayKey(VECTOR_SEED).stamp(
        VECTOR_COMMITMENT,
        sender_account_id=SENDER_ACCOUNT,
        sender_device_id=SENDER_DEVICE,
        conversation_id=CONVERSATION,
        message_id=MESSAGE,
        recipient_devices=VECTOR_RECIPIENTS,
        timestamp_ms=1_764_620_000_000,
    )


def test_ed25519_is_rfc_8032() -> None:
    """RFC 8032 section 7.1, TEST 1: the library under the stamp signs as the RFC says."""
    key = SigningKey(
        bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    )
    assert bytes(key.verify_key).hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    assert key.sign(b"").signature.hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065"
        "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )


def test_stamp_vector() -> None:
    relay = RelayKey(VECTOR_SEED)
    assert relay.public.public_key.hex() == VECTOR_PUBLIC_KEY
    assert relay.key_id == relay_key_id(bytes.fromhex(VECTOR_PUBLIC_KEY)) == VECTOR_KEY_ID
    stamp = vector_stamp()
    assert stamped_bytes(stamp).hex() == VECTOR_STAMPED
    assert stamp.signature.hex() == VECTOR_SIGNATURE
    verify_stamp({VECTOR_KEY_ID: bytes.fromhex(VECTOR_PUBLIC_KEY)}, stamp)


def test_commitment_vector() -> None:
    metadata = MessageMetadata(CONVERSATION, SENDER_DEVICE, MESSAGE)
    commitment = franking_commitment(VECTOR_FRANKING_KEY, VECTOR_BODY, metadata)
    assert commitment.hex() == VECTOR_MESSAGE_COMMITMENT


def test_stamp_encoding_is_unambiguous() -> None:
    """Moving characters between neighbouring fields, or between recipients, changes the
    signed bytes."""
    stamp = vector_stamp()
    shifted = replace(
        stamp,
        sender_account_id=stamp.sender_account_id + stamp.sender_device_id[0],
        sender_device_id=stamp.sender_device_id[1:],
    )
    assert stamped_bytes(shifted) != stamped_bytes(stamp)
    assert stamped_bytes(replace(stamp, recipient_devices=("ab", "c"))) != stamped_bytes(
        replace(stamp, recipient_devices=("a", "bc"))
    )
    assert stamped_bytes(replace(stamp, recipient_devices=("a", "a"))) == stamped_bytes(
        replace(stamp, recipient_devices=("a",))
    )


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
