"""X3DH: agreement, forged bundles, the spec's KDF, and interop with Syndace's python-x3dh."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import pytest
import x3dh as reference
import xeddsa
from x3dh.identity_key_pair import IdentityKeyPairSeed

from hearth_crypto.x3dh import (
    X3DH_INFO,
    IdentityKeyPair,
    InitialMessageHeader,
    InvalidPrekeySignature,
    InvalidPublicKey,
    KeyAgreement,
    KeyType,
    MalformedHeader,
    OneTimePrekey,
    PrekeyBundle,
    PublicPrekey,
    SignedPrekey,
    UnknownPrekey,
    X25519KeyPair,
    agree_as_initiator,
    agree_as_responder,
    encode_public_key,
    x25519,
)


class Responder:
    """Bob's device: identity, one signed prekey, one one-time prekey."""

    def __init__(self) -> None:
        self.identity = IdentityKeyPair.generate()
        self.signed_prekey = SignedPrekey.generate(self.identity, prekey_id=3)
        self.one_time_prekey = OneTimePrekey.generate(prekey_id=77)

    def bundle(self, *, with_one_time_prekey: bool = True) -> PrekeyBundle:
        return PrekeyBundle.publish(
            self.identity,
            self.signed_prekey,
            self.one_time_prekey if with_one_time_prekey else None,
        )


@pytest.mark.parametrize("with_one_time_prekey", [True, False])
def test_initiator_and_responder_agree(with_one_time_prekey: bool) -> None:
    alice, bob = IdentityKeyPair.generate(), Responder()

    alice_agreement, header = agree_as_initiator(
        alice, bob.bundle(with_one_time_prekey=with_one_time_prekey)
    )
    received = InitialMessageHeader.from_bytes(header.to_bytes())
    one_time_prekey = bob.one_time_prekey if with_one_time_prekey else None
    bob_agreement = agree_as_responder(bob.identity, bob.signed_prekey, one_time_prekey, received)

    assert bob_agreement == alice_agreement
    assert len(alice_agreement.shared_secret) == 32
    assert received == header
    assert header.identity_key == alice.public_key
    assert header.signed_prekey_id == 3
    assert header.one_time_prekey_id == (77 if with_one_time_prekey else None)
    # AD = Encode(IK_A) || Encode(IK_B), initiator first on both sides.
    assert alice_agreement.associated_data == (
        b"\x06" + alice.public_key + b"\x06" + bob.identity.public_key
    )


def test_each_initial_message_gets_a_fresh_secret() -> None:
    alice, bob = IdentityKeyPair.generate(), Responder()
    first, first_header = agree_as_initiator(alice, bob.bundle())
    second, second_header = agree_as_initiator(alice, bob.bundle())
    assert first_header.ephemeral_key != second_header.ephemeral_key
    assert first.shared_secret != second.shared_secret


def test_shared_secret_is_the_spec_kdf_over_the_four_dh_outputs() -> None:
    """SK = HKDF(salt = 32 zero bytes, IKM = F || DH1 || DH2 || DH3 || DH4, info), F = 0xFF*32."""
    alice, bob = IdentityKeyPair.generate(), Responder()
    ephemeral = X25519KeyPair.generate()
    agreement, _ = agree_as_initiator(alice, bob.bundle(), ephemeral=ephemeral)

    # Independent arithmetic: xeddsa for the key conversions and X25519, stdlib HMAC for HKDF.
    alice_dh_private = xeddsa.seed_to_priv(alice.seed)
    bob_identity_dh = xeddsa.ed25519_pub_to_curve25519_pub(bob.identity.public_key)
    spk = bob.signed_prekey.key_pair.public_key
    opk = bob.one_time_prekey.key_pair.public_key
    ikm = (
        b"\xff" * 32
        + xeddsa.x25519(alice_dh_private, spk)
        + xeddsa.x25519(ephemeral.private_key, bob_identity_dh)
        + xeddsa.x25519(ephemeral.private_key, spk)
        + xeddsa.x25519(ephemeral.private_key, opk)
    )
    prk = hmac.new(b"\x00" * 32, ikm, hashlib.sha256).digest()
    okm = hmac.new(prk, X3DH_INFO + b"\x01", hashlib.sha256).digest()
    assert agreement.shared_secret == okm


def test_x25519_matches_rfc7748_section_6_1() -> None:
    alice_private = bytes.fromhex(
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
    )
    bob_private = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    alice_public = X25519KeyPair(alice_private).public_key
    bob_public = X25519KeyPair(bob_private).public_key
    assert alice_public.hex() == (
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    )
    assert bob_public.hex() == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    assert x25519(alice_private, bob_public).hex() == shared
    assert x25519(bob_private, alice_public).hex() == shared


def test_bundle_signed_by_another_identity_is_refused() -> None:
    alice, bob, mallory = IdentityKeyPair.generate(), Responder(), IdentityKeyPair.generate()
    forged_prekey = SignedPrekey.generate(mallory, prekey_id=3)
    forged = PrekeyBundle.publish(bob.identity, forged_prekey)
    with pytest.raises(InvalidPrekeySignature):
        forged.verify()
    with pytest.raises(InvalidPrekeySignature):
        agree_as_initiator(alice, forged)


def test_substituted_signed_prekey_is_refused() -> None:
    """A relay swapping in its own prekey under Bob's genuine signature is caught."""
    alice, bob = IdentityKeyPair.generate(), Responder()
    genuine = bob.bundle()
    substituted = PrekeyBundle(
        identity_key=genuine.identity_key,
        signed_prekey=PublicPrekey(3, X25519KeyPair.generate().public_key),
        signed_prekey_signature=genuine.signed_prekey_signature,
        one_time_prekey=genuine.one_time_prekey,
    )
    with pytest.raises(InvalidPrekeySignature):
        agree_as_initiator(alice, substituted)


def test_corrupted_signature_is_refused() -> None:
    genuine = Responder().bundle()
    signature = bytearray(genuine.signed_prekey_signature)
    signature[10] ^= 0x01
    corrupted = PrekeyBundle(
        genuine.identity_key, genuine.signed_prekey, bytes(signature), genuine.one_time_prekey
    )
    genuine.verify()
    with pytest.raises(InvalidPrekeySignature):
        corrupted.verify()


def test_signature_covers_the_encoded_prekey() -> None:
    bob = Responder()
    message = encode_public_key(KeyType.X25519, bob.signed_prekey.key_pair.public_key)
    assert message[0] == 0x05 and len(message) == 33
    xeddsa_verified = xeddsa.ed25519_verify(
        bob.signed_prekey.signature, bob.identity.public_key, message
    )
    assert xeddsa_verified


def test_responder_refuses_prekeys_it_does_not_hold() -> None:
    alice, bob = IdentityKeyPair.generate(), Responder()
    _, header = agree_as_initiator(alice, bob.bundle())
    rotated = SignedPrekey.generate(bob.identity, prekey_id=4)
    with pytest.raises(UnknownPrekey):
        agree_as_responder(bob.identity, rotated, bob.one_time_prekey, header)
    with pytest.raises(UnknownPrekey):  # one-time prekey already used and deleted
        agree_as_responder(bob.identity, bob.signed_prekey, None, header)
    with pytest.raises(UnknownPrekey):
        agree_as_responder(
            bob.identity, bob.signed_prekey, OneTimePrekey.generate(prekey_id=78), header
        )


def test_substituted_initiator_identity_yields_a_different_secret() -> None:
    alice, bob, mallory = IdentityKeyPair.generate(), Responder(), IdentityKeyPair.generate()
    agreement, header = agree_as_initiator(alice, bob.bundle())
    claimed = InitialMessageHeader(
        mallory.public_key, header.ephemeral_key, header.signed_prekey_id, 77
    )
    bob_view = agree_as_responder(bob.identity, bob.signed_prekey, bob.one_time_prekey, claimed)
    assert bob_view.shared_secret != agreement.shared_secret
    assert bob_view.associated_data != agreement.associated_data


def test_low_order_ephemeral_key_is_refused() -> None:
    bob = Responder()
    header = InitialMessageHeader(IdentityKeyPair.generate().public_key, bytes(32), 3, None)
    with pytest.raises(InvalidPublicKey):
        agree_as_responder(bob.identity, bob.signed_prekey, None, header)


def test_malformed_headers_are_refused() -> None:
    header = InitialMessageHeader(bytes(range(32)), bytes(range(32, 64)), 9, 10)
    data = header.to_bytes()
    assert InitialMessageHeader.from_bytes(data) == header
    with pytest.raises(MalformedHeader):
        InitialMessageHeader.from_bytes(data[:-1])
    with pytest.raises(MalformedHeader):
        InitialMessageHeader.from_bytes(data[:68] + b"\x02" + data[69:])
    without = InitialMessageHeader(bytes(range(32)), bytes(range(32, 64)), 9, None).to_bytes()
    with pytest.raises(MalformedHeader):
        InitialMessageHeader.from_bytes(without[:-1] + b"\x01")
    with pytest.raises(InvalidPublicKey):
        InitialMessageHeader(bytes(31), bytes(32), 1, None)


# Interop with python-x3dh 1.3 configured with Hearth's choices: Ed25519 identity keys,
# SHA-256, the same info string, and the same Encode(PK). Its bundles and headers carry
# public keys where Hearth's carry prekey ids, so the tests map one to the other.


class ReferenceX3DH(reference.BaseState):
    @staticmethod
    def _encode_public_key(key_format: reference.IdentityKeyFormat, pub: bytes) -> bytes:
        if key_format is reference.IdentityKeyFormat.ED_25519:
            return encode_public_key(KeyType.ED25519, pub)
        return encode_public_key(KeyType.X25519, pub)


def reference_state(identity: IdentityKeyPair | None = None) -> ReferenceX3DH:
    state = ReferenceX3DH.create(
        reference.IdentityKeyFormat.ED_25519,
        reference.HashFunction.SHA_256,
        X3DH_INFO,
        None if identity is None else IdentityKeyPairSeed(identity.seed),
    )
    state.generate_pre_keys(1)
    return state


def test_reference_uses_the_same_identity_key_for_the_same_seed() -> None:
    identity = IdentityKeyPair.generate()
    assert reference_state(identity).bundle.identity_key == identity.public_key


@pytest.mark.parametrize("with_one_time_prekey", [True, False])
def test_hearth_initiator_agrees_with_reference_responder(with_one_time_prekey: bool) -> None:
    alice = IdentityKeyPair.generate()
    bob = reference_state()
    theirs = bob.bundle
    one_time_public = next(iter(theirs.pre_keys))
    ours = PrekeyBundle(
        identity_key=theirs.identity_key,
        signed_prekey=PublicPrekey(1, theirs.signed_pre_key),
        signed_prekey_signature=theirs.signed_pre_key_sig,
        one_time_prekey=PublicPrekey(2, one_time_public) if with_one_time_prekey else None,
    )

    agreement, header = agree_as_initiator(alice, ours)
    their_header = reference.Header(
        identity_key=header.identity_key,
        ephemeral_key=header.ephemeral_key,
        signed_pre_key=theirs.signed_pre_key,
        pre_key=one_time_public if header.one_time_prekey_id == 2 else None,
    )
    shared_secret, associated_data, _ = asyncio.run(
        bob.get_shared_secret_passive(their_header, require_pre_key=with_one_time_prekey)
    )

    assert KeyAgreement(shared_secret, associated_data) == agreement


@pytest.mark.parametrize("with_one_time_prekey", [True, False])
def test_reference_initiator_agrees_with_hearth_responder(with_one_time_prekey: bool) -> None:
    alice = reference_state()
    bob = Responder()
    their_bundle = reference.Bundle(
        identity_key=bob.identity.public_key,
        signed_pre_key=bob.signed_prekey.key_pair.public_key,
        signed_pre_key_sig=bob.signed_prekey.signature,
        pre_keys=(
            frozenset({bob.one_time_prekey.key_pair.public_key})
            if with_one_time_prekey
            else frozenset()
        ),
    )

    shared_secret, associated_data, their_header = asyncio.run(
        alice.get_shared_secret_active(their_bundle, require_pre_key=with_one_time_prekey)
    )
    header = InitialMessageHeader(
        identity_key=their_header.identity_key,
        ephemeral_key=their_header.ephemeral_key,
        signed_prekey_id=bob.signed_prekey.prekey_id,
        one_time_prekey_id=None if their_header.pre_key is None else 77,
    )
    one_time_prekey = bob.one_time_prekey if with_one_time_prekey else None
    agreement = agree_as_responder(bob.identity, bob.signed_prekey, one_time_prekey, header)

    assert agreement == KeyAgreement(shared_secret, associated_data)


def test_reference_refuses_a_bundle_hearth_refuses() -> None:
    bob, mallory = Responder(), IdentityKeyPair.generate()
    forged = SignedPrekey.generate(mallory, prekey_id=3)
    their_bundle = reference.Bundle(
        identity_key=bob.identity.public_key,
        signed_pre_key=forged.key_pair.public_key,
        signed_pre_key_sig=forged.signature,
        pre_keys=frozenset(),
    )
    with pytest.raises(reference.KeyAgreementException, match="signature"):
        asyncio.run(reference_state().get_shared_secret_active(their_bundle, require_pre_key=False))
