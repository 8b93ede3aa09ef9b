"""Double Ratchet: conversations, loss and reordering, skip limits, tampering, persistence,
and interop with Syndace's python-doubleratchet configured with the same primitives."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import random
import time

import doubleratchet as reference
import pytest
from doubleratchet.recommended import (
    HashFunction,
    aead_aes_hmac,
    diffie_hellman_ratchet_curve25519,
    kdf_hkdf,
    kdf_separate_hmacs,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth_crypto import ratchet
from hearth_crypto.ratchet import (
    MESSAGE_KEY_INFO,
    ROOT_KDF_INFO,
    DuplicateMessage,
    InvalidSessionState,
    MalformedMessage,
    MessageAuthenticationFailed,
    MessageHeader,
    RatchetMessage,
    RatchetSession,
    SendingChainUnavailable,
    TooManySkippedMessages,
    concat_associated_data,
    decrypt_with_message_key,
    encrypt_with_message_key,
    kdf_ck,
    kdf_rk,
)
from hearth_crypto.x3dh import (
    IdentityKeyPair,
    PrekeyBundle,
    SignedPrekey,
    X25519KeyPair,
    agree_as_initiator,
    agree_as_responder,
)


def session_pair(
    max_skip: int = ratchet.MAX_SKIP, max_stored: int = ratchet.MAX_STORED
) -> tuple[RatchetSession, RatchetSession]:
    """Alice and Bob after X3DH, Bob's signed prekey serving as his first ratchet key."""
    alice, bob = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    signed_prekey = SignedPrekey.generate(bob, prekey_id=1)
    agreement, header = agree_as_initiator(alice, PrekeyBundle.publish(bob, signed_prekey))
    bob_agreement = agree_as_responder(bob, signed_prekey, None, header)
    return (
        RatchetSession.initiate(
            agreement.shared_secret,
            agreement.associated_data,
            signed_prekey.key_pair.public_key,
            max_skip=max_skip,
            max_stored=max_stored,
        ),
        RatchetSession.respond(
            bob_agreement.shared_secret,
            bob_agreement.associated_data,
            signed_prekey.key_pair,
            max_skip=max_skip,
            max_stored=max_stored,
        ),
    )


def wire(message: RatchetMessage) -> RatchetMessage:
    """What the recipient gets: the message after a trip through bytes."""
    return RatchetMessage.from_bytes(message.to_bytes())


def round_trip(session: RatchetSession) -> RatchetSession:
    return RatchetSession.from_dict(json.loads(json.dumps(session.to_dict())))


def test_conversation_with_many_dh_turns() -> None:
    alice, bob = session_pair()
    rng = random.Random(7)
    ratchet_keys: list[bytes] = []
    sender, receiver = alice, bob
    for turn in range(40):
        burst = [f"turn {turn} message {i}".encode() for i in range(rng.randint(1, 4))]
        messages = [sender.encrypt(text) for text in burst]
        assert len({m.header.ratchet_key for m in messages}) == 1
        assert [m.header.message_number for m in messages] == list(range(len(burst)))
        ratchet_keys.append(messages[0].header.ratchet_key)
        assert [receiver.decrypt(wire(m)) for m in messages] == burst
        sender, receiver = receiver, sender
    # Every turn is a DH ratchet step: a fresh ratchet key each time.
    assert len(set(ratchet_keys)) == 40
    assert alice.skipped_key_count == bob.skipped_key_count == 0


def test_ciphertexts_of_equal_plaintexts_differ() -> None:
    alice, _ = session_pair()
    assert alice.encrypt(b"same").ciphertext != alice.encrypt(b"same").ciphertext


def test_responder_cannot_send_before_the_first_message() -> None:
    alice, bob = session_pair()
    with pytest.raises(SendingChainUnavailable):
        bob.encrypt(b"too early")
    bob.decrypt(alice.encrypt(b"hello"))
    assert alice.decrypt(bob.encrypt(b"now I can")) == b"now I can"


def test_out_of_order_within_and_across_chains() -> None:
    alice, bob = session_pair()
    first_chain = [alice.encrypt(f"a{i}".encode()) for i in range(4)]
    assert bob.decrypt(first_chain[2]) == b"a2"
    assert bob.skipped_key_count == 2
    assert alice.decrypt(bob.encrypt(b"b0")) == b"b0"
    second_chain = [alice.encrypt(f"c{i}".encode()) for i in range(2)]
    assert second_chain[0].header.previous_chain_length == 4
    # The new chain arrives first: the rest of the old chain (a3) is skipped and stored.
    assert bob.decrypt(second_chain[1]) == b"c1"
    assert bob.skipped_key_count == 4  # a0, a1, a3, c0
    assert [bob.decrypt(m) for m in (first_chain[3], second_chain[0], first_chain[0])] == [
        b"a3",
        b"c0",
        b"a0",
    ]
    assert bob.decrypt(first_chain[1]) == b"a1"
    assert bob.skipped_key_count == 0


def test_lost_messages_do_not_stop_the_conversation() -> None:
    alice, bob = session_pair()
    for turn in range(5):
        for _lost in range(3):
            alice.encrypt(b"never delivered")
        assert bob.decrypt(alice.encrypt(f"turn {turn}".encode())) == f"turn {turn}".encode()
        bob.encrypt(b"lost reply")
        assert alice.decrypt(bob.encrypt(b"reply")) == b"reply"
    # Three lost per Alice chain, one lost per Bob chain, keys kept in case they turn up.
    assert bob.skipped_key_count == 15
    assert alice.skipped_key_count == 5


def test_replayed_message_is_refused() -> None:
    alice, bob = session_pair()
    messages = [alice.encrypt(b"0"), alice.encrypt(b"1")]
    bob.decrypt(messages[1])
    bob.decrypt(messages[0])  # from the skipped store, which then forgets the key
    with pytest.raises(DuplicateMessage):
        bob.decrypt(messages[1])
    with pytest.raises(DuplicateMessage):
        bob.decrypt(messages[0])


def test_replay_from_an_older_chain_fails_and_leaves_the_session_intact() -> None:
    alice, bob = session_pair()
    old = alice.encrypt(b"old")
    bob.decrypt(old)
    alice.decrypt(bob.encrypt(b"reply"))
    bob.decrypt(alice.encrypt(b"new chain"))
    before = bob.to_dict()
    with pytest.raises(MessageAuthenticationFailed):
        bob.decrypt(old)
    assert bob.to_dict() == before
    assert bob.decrypt(alice.encrypt(b"still fine")) == b"still fine"


@settings(max_examples=25, deadline=None)
@given(order=st.permutations(list(range(8))))
def test_any_delivery_order_decrypts_every_message(order: list[int]) -> None:
    alice, bob = session_pair()
    first = [alice.encrypt(bytes([i])) for i in range(4)]
    bob.decrypt(first[0])
    alice.decrypt(bob.encrypt(b"turn"))
    messages = first[1:] + [alice.encrypt(bytes([i])) for i in range(4, 9)]
    for index in order:
        assert bob.decrypt(messages[index]) == bytes([index + 1])
    assert bob.skipped_key_count == 0


# Skip limits.


def test_skip_limit_boundary() -> None:
    alice, bob = session_pair(max_skip=10, max_stored=20)
    messages = [alice.encrypt(bytes([i])) for i in range(12)]
    with pytest.raises(TooManySkippedMessages):
        bob.decrypt(messages[11])  # would derive 11 skipped keys
    assert bob.decrypt(messages[10]) == bytes([10])  # exactly 10 is allowed
    assert bob.skipped_key_count == 10


def test_skip_limit_counts_both_chains_of_one_message() -> None:
    """At most max_skip keys for one message, even when it closes one chain and opens another."""
    alice, bob = session_pair(max_skip=10, max_stored=20)
    old_chain = [alice.encrypt(bytes([i])) for i in range(7)]
    bob.decrypt(old_chain[0])
    alice.decrypt(bob.encrypt(b"turn"))
    new_chain = [alice.encrypt(bytes([100 + i])) for i in range(6)]
    with pytest.raises(TooManySkippedMessages):
        bob.decrypt(new_chain[5])  # 6 left in the old chain + 5 in the new one = 11
    assert bob.decrypt(new_chain[4]) == bytes([104])  # 6 + 4 = 10
    assert bob.skipped_key_count == 10


def test_far_skip_is_refused_before_any_key_is_derived(monkeypatch: pytest.MonkeyPatch) -> None:
    alice, bob = session_pair()
    bob.decrypt(alice.encrypt(b"first"))
    genuine = alice.encrypt(b"second")
    before = bob.to_dict()
    derivations = 0
    real_kdf_ck = ratchet.kdf_ck

    def counting_kdf_ck(chain_key: bytes) -> tuple[bytes, bytes]:
        nonlocal derivations
        derivations += 1
        # Fail fast rather than grinding through billions of keys if the check regresses.
        assert derivations < 100, "skipped keys derived before the limit was checked"
        return real_kdf_ck(chain_key)

    monkeypatch.setattr(ratchet, "kdf_ck", counting_kdf_ck)
    same_chain = MessageHeader(genuine.header.ratchet_key, 0, 2**32 - 1)
    new_chain = MessageHeader(X25519KeyPair.generate().public_key, 2**32 - 1, 0)
    started = time.perf_counter()
    for header in (same_chain, new_chain):
        with pytest.raises(TooManySkippedMessages):
            bob.decrypt(RatchetMessage(header, genuine.ciphertext))
    assert time.perf_counter() - started < 0.1
    assert derivations == 0
    assert bob.to_dict() == before
    monkeypatch.undo()
    assert bob.decrypt(genuine) == b"second"


def test_stored_skipped_keys_are_capped_oldest_first() -> None:
    alice, bob = session_pair(max_skip=10, max_stored=25)
    messages = [alice.encrypt(bytes([i])) for i in range(44)]
    for received in (10, 21, 32, 43):  # each skips 10 keys
        bob.decrypt(messages[received])
        assert bob.skipped_key_count <= 25
    assert bob.skipped_key_count == 25
    # 40 keys were skipped; the 15 oldest (messages 0-9 and 11-15) were evicted.
    for evicted in (0, 9, 11, 15):
        with pytest.raises(DuplicateMessage):
            bob.decrypt(messages[evicted])
    for kept in (16, 20, 22, 42):
        assert bob.decrypt(messages[kept]) == bytes([kept])
    assert bob.skipped_key_count == 21


def test_limits_must_be_consistent() -> None:
    with pytest.raises(ValueError):
        session_pair(max_skip=30, max_stored=20)


# Tampering.


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_tampered_ciphertext_and_header_are_rejected_without_changing_state() -> None:
    alice, bob = session_pair()
    bob.decrypt(alice.encrypt(b"first"))
    genuine = alice.encrypt(b"attack at dawn")
    header = genuine.header
    forgeries = [
        RatchetMessage(header, flip(genuine.ciphertext, 0)),  # ciphertext body
        RatchetMessage(header, flip(genuine.ciphertext, len(genuine.ciphertext) - 1)),  # tag
        RatchetMessage(MessageHeader(header.ratchet_key, 0, 2), genuine.ciphertext),
        RatchetMessage(MessageHeader(header.ratchet_key, 5, 1), genuine.ciphertext),
        RatchetMessage(
            MessageHeader(X25519KeyPair.generate().public_key, 0, 1), genuine.ciphertext
        ),
    ]
    before = bob.to_dict()
    for forged in forgeries:
        with pytest.raises(MessageAuthenticationFailed):
            bob.decrypt(forged)
        assert bob.to_dict() == before
    assert bob.decrypt(genuine) == b"attack at dawn"


def test_wrong_associated_data_is_rejected() -> None:
    alice, bob = session_pair()
    state = bob.to_dict()
    state["associated_data"] = "AAAA"
    other_identities = RatchetSession.from_dict(state)
    with pytest.raises(MessageAuthenticationFailed):
        other_identities.decrypt(alice.encrypt(b"for bob's identity only"))


def test_malformed_messages_are_rejected() -> None:
    alice, bob = session_pair()
    data = alice.encrypt(b"x").to_bytes()
    with pytest.raises(MalformedMessage):
        RatchetMessage.from_bytes(data[:39])
    with pytest.raises(MalformedMessage):
        bob.decrypt(RatchetMessage.from_bytes(data[:-1]))
    with pytest.raises(MalformedMessage):  # low-order ratchet key
        bob.decrypt(RatchetMessage(MessageHeader(bytes(32), 0, 0), data[40:]))
    with pytest.raises(MalformedMessage):
        MessageHeader(bytes(32), 2**32, 0)


# Persistence.


def test_state_survives_json_mid_conversation() -> None:
    alice, bob = session_pair()
    pending = [alice.encrypt(f"a{i}".encode()) for i in range(5)]
    bob.decrypt(pending[4])
    bob = round_trip(bob)
    assert bob.skipped_key_count == 4
    reply = bob.encrypt(b"b0")
    alice = round_trip(alice)
    assert alice.decrypt(reply) == b"b0"
    next_chain = alice.encrypt(b"a5")
    bob = round_trip(bob)
    assert bob.decrypt(next_chain) == b"a5"
    assert [bob.decrypt(m) for m in reversed(pending[:4])] == [b"a3", b"a2", b"a1", b"a0"]
    for turn in range(3):
        bob = round_trip(bob)
        assert round_trip(alice).decrypt(bob.encrypt(bytes([turn]))) == bytes([turn])


def test_serialised_state_is_json_and_stable() -> None:
    alice, bob = session_pair(max_skip=5, max_stored=9)
    alice.encrypt(b"lost")
    bob.decrypt(alice.encrypt(b"y"))
    state = bob.to_dict()
    text = json.dumps(state)
    assert RatchetSession.from_dict(json.loads(text)).to_dict() == state
    assert state["max_skip"] == 5 and state["max_stored"] == 9
    assert isinstance(state["skipped"], list) and len(state["skipped"]) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", 2),
        ("root_key", "not base64!"),
        ("root_key", "AAAA"),
        ("sent", True),
        ("received", -1),
        ("skipped", {}),
        ("max_skip", 10_000),
    ],
)
def test_corrupt_state_is_refused(field: str, value: object) -> None:
    alice, _ = session_pair()
    state: dict[str, object] = dict(alice.to_dict())
    state[field] = value
    with pytest.raises(InvalidSessionState):
        RatchetSession.from_dict(state)


# The spec's KDFs and AEAD, checked against the spec text and the reference library.


def test_kdf_ck_uses_the_spec_constants() -> None:
    chain_key = os.urandom(32)
    next_chain_key, message_key = kdf_ck(chain_key)
    assert message_key == hmac.new(chain_key, b"\x01", hashlib.sha256).digest()
    assert next_chain_key == hmac.new(chain_key, b"\x02", hashlib.sha256).digest()


class ReferenceRootKDF(kdf_hkdf.KDF):
    @staticmethod
    def _get_hash_function() -> HashFunction:
        return HashFunction.SHA_256

    @staticmethod
    def _get_info() -> bytes:
        return ROOT_KDF_INFO


class ReferenceChainKDF(kdf_separate_hmacs.KDF):
    @staticmethod
    def _get_hash_function() -> HashFunction:
        return HashFunction.SHA_256


class ReferenceAEAD(aead_aes_hmac.AEAD):
    @staticmethod
    def _get_hash_function() -> HashFunction:
        return HashFunction.SHA_256

    @staticmethod
    def _get_info() -> bytes:
        return MESSAGE_KEY_INFO


# The reference chain step outputs HMAC(ck, c) for each byte c of the constant and keeps the
# first 32 bytes as the next chain key: b"\x02\x01" gives the spec's (CK', MK).
CHAIN_CONSTANT = b"\x02\x01"


def test_kdfs_match_the_reference_library() -> None:
    root_key, dh_output, chain_key = os.urandom(32), os.urandom(32), os.urandom(32)
    their_root = asyncio.run(ReferenceRootKDF.derive(root_key, dh_output, 64))
    assert kdf_rk(root_key, dh_output) == (their_root[:32], their_root[32:])
    their_chain = asyncio.run(ReferenceChainKDF.derive(chain_key, CHAIN_CONSTANT, 64))
    assert kdf_ck(chain_key) == (their_chain[:32], their_chain[32:])


def test_aead_matches_the_reference_library_both_ways() -> None:
    key, associated_data = os.urandom(32), b"ad"
    for plaintext in (b"", b"x" * 15, b"y" * 16, os.urandom(1000)):
        ours = encrypt_with_message_key(key, plaintext, associated_data)
        assert asyncio.run(ReferenceAEAD.decrypt(ours, key, associated_data)) == plaintext
        theirs = asyncio.run(ReferenceAEAD.encrypt(plaintext, key, associated_data))
        # Deterministic given the key (IV from HKDF), so the bytes agree exactly.
        assert theirs == ours
        assert decrypt_with_message_key(key, theirs, associated_data) == plaintext


class ReferenceDoubleRatchet(reference.DoubleRatchet):
    @staticmethod
    def _build_associated_data(associated_data: bytes, header: reference.Header) -> bytes:
        return concat_associated_data(associated_data, hearth_header(header))


def hearth_header(header: reference.Header) -> MessageHeader:
    return MessageHeader(
        header.ratchet_pub, header.previous_sending_chain_length, header.sending_chain_length
    )


def to_hearth(message: reference.EncryptedMessage) -> RatchetMessage:
    return RatchetMessage(hearth_header(message.header), message.ciphertext)


def to_reference(message: RatchetMessage) -> reference.EncryptedMessage:
    header = message.header
    return reference.EncryptedMessage(
        header=reference.Header(
            ratchet_pub=header.ratchet_key,
            previous_sending_chain_length=header.previous_chain_length,
            sending_chain_length=header.message_number,
        ),
        ciphertext=message.ciphertext,
    )


REFERENCE_CONFIGURATION = {
    "diffie_hellman_ratchet_class": diffie_hellman_ratchet_curve25519.DiffieHellmanRatchet,
    "root_chain_kdf": ReferenceRootKDF,
    "message_chain_kdf": ReferenceChainKDF,
    "message_chain_constant": CHAIN_CONSTANT,
    "dos_protection_threshold": ratchet.MAX_SKIP,
    "max_num_skipped_message_keys": ratchet.MAX_STORED,
    "aead": ReferenceAEAD,
}


def test_hearth_initiator_talks_to_reference_responder() -> None:
    shared_secret, associated_data = os.urandom(32), os.urandom(66)
    bob_ratchet_key = X25519KeyPair.generate()
    alice = RatchetSession.initiate(shared_secret, associated_data, bob_ratchet_key.public_key)

    async def conversation() -> None:
        first = alice.encrypt(b"hello from hearth")
        bob, plaintext = await ReferenceDoubleRatchet.decrypt_initial_message(
            shared_secret=shared_secret,
            own_ratchet_priv=bob_ratchet_key.private_key,
            message=to_reference(first),
            associated_data=associated_data,
            **REFERENCE_CONFIGURATION,  # type: ignore[arg-type]
        )
        assert plaintext == b"hello from hearth"
        for turn in range(6):
            replies = [
                await bob.encrypt_message(f"ref {turn}.{i}".encode(), associated_data)
                for i in range(3)
            ]
            # Out of order across the interop boundary too.
            for i in (2, 0, 1):
                assert alice.decrypt(to_hearth(replies[i])) == f"ref {turn}.{i}".encode()
            ours = [alice.encrypt(f"hearth {turn}.{i}".encode()) for i in range(2)]
            for i in (1, 0):
                decrypted = await bob.decrypt_message(to_reference(ours[i]), associated_data)
                assert decrypted == f"hearth {turn}.{i}".encode()

    asyncio.run(conversation())


def test_reference_initiator_talks_to_hearth_responder() -> None:
    shared_secret, associated_data = os.urandom(32), os.urandom(66)
    bob_ratchet_key = X25519KeyPair.generate()
    bob = RatchetSession.respond(shared_secret, associated_data, bob_ratchet_key)

    async def conversation() -> None:
        alice, first = await ReferenceDoubleRatchet.encrypt_initial_message(
            shared_secret=shared_secret,
            recipient_ratchet_pub=bob_ratchet_key.public_key,
            message=b"hello from the reference",
            associated_data=associated_data,
            **REFERENCE_CONFIGURATION,  # type: ignore[arg-type]
        )
        assert bob.decrypt(to_hearth(first)) == b"hello from the reference"
        for turn in range(6):
            ours = [bob.encrypt(f"hearth {turn}.{i}".encode()) for i in range(2)]
            for i in (1, 0):
                decrypted = await alice.decrypt_message(to_reference(ours[i]), associated_data)
                assert decrypted == f"hearth {turn}.{i}".encode()
            theirs = [
                await alice.encrypt_message(f"ref {turn}.{i}".encode(), associated_data)
                for i in range(3)
            ]
            for i in (0, 2, 1):
                assert bob.decrypt(to_hearth(theirs[i])) == f"ref {turn}.{i}".encode()

    asyncio.run(conversation())


def test_reference_rejects_what_hearth_rejects() -> None:
    shared_secret, associated_data = os.urandom(32), os.urandom(66)
    bob_ratchet_key = X25519KeyPair.generate()
    alice = RatchetSession.initiate(shared_secret, associated_data, bob_ratchet_key.public_key)
    genuine = alice.encrypt(b"x")
    tampered = RatchetMessage(genuine.header, flip(genuine.ciphertext, 3))
    with pytest.raises(reference.AuthenticationFailedException):
        asyncio.run(
            ReferenceDoubleRatchet.decrypt_initial_message(
                shared_secret=shared_secret,
                own_ratchet_priv=bob_ratchet_key.private_key,
                message=to_reference(tampered),
                associated_data=associated_data,
                **REFERENCE_CONFIGURATION,  # type: ignore[arg-type]
            )
        )
