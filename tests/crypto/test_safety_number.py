"""Safety numbers: libsignal's published vector, symmetry, and sensitivity to keys and ids."""

from __future__ import annotations

import pytest

from hearth_crypto.safety_number import (
    ITERATIONS,
    SafetyNumber,
    fingerprint_digits,
    fingerprint_hash,
    safety_number,
)
from hearth_crypto.x3dh import IdentityKeyPair, KeyType, encode_public_key

# The test vector from libsignal: rust/protocol/src/fingerprint.rs (fingerprint_test_v1,
# "testVectorsVersion1 in Java") and libsignal-protocol-c tests/test_fingerprint.c. The keys
# are libsignal's 33-byte serialised Curve25519 identity keys (0x05 prefix).
ALICE_IDENTITY = bytes.fromhex("0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868")
BOB_IDENTITY = bytes.fromhex("05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b")
ALICE_STABLE_ID = b"+14152222222"
BOB_STABLE_ID = b"+14153333333"
DISPLAYABLE_FINGERPRINT = "300354477692869396892869876765458257569162576843440918079131"
# The same file's ALICE_SCANNABLE_FINGERPRINT_V1 is a protobuf carrying the first 32 bytes of
# each party's iterated hash; these are those two fields.
ALICE_SCANNABLE_CONTENT = "1e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df"
BOB_SCANNABLE_CONTENT = "d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d"


def test_matches_libsignal_displayable_vector_for_both_parties() -> None:
    assert ITERATIONS == 5200
    alice_view = safety_number(ALICE_IDENTITY, ALICE_STABLE_ID, BOB_IDENTITY, BOB_STABLE_ID)
    bob_view = safety_number(BOB_IDENTITY, BOB_STABLE_ID, ALICE_IDENTITY, ALICE_STABLE_ID)
    assert alice_view.digits == DISPLAYABLE_FINGERPRINT
    assert bob_view.digits == DISPLAYABLE_FINGERPRINT


def test_iterated_hash_matches_libsignal_scannable_vector() -> None:
    assert fingerprint_hash(ALICE_IDENTITY, ALICE_STABLE_ID)[:32].hex() == ALICE_SCANNABLE_CONTENT
    assert fingerprint_hash(BOB_IDENTITY, BOB_STABLE_ID)[:32].hex() == BOB_SCANNABLE_CONTENT


def test_halves_are_each_partys_digits_smaller_first() -> None:
    alice = fingerprint_digits(ALICE_IDENTITY, ALICE_STABLE_ID)
    bob = fingerprint_digits(BOB_IDENTITY, BOB_STABLE_ID)
    assert len(alice) == len(bob) == 30 and alice.isdigit() and bob.isdigit()
    assert min(alice, bob) + max(alice, bob) == DISPLAYABLE_FINGERPRINT


def hearth_identity() -> bytes:
    return encode_public_key(KeyType.ED25519, IdentityKeyPair.generate().public_key)


def test_symmetric_for_hearth_identities_and_shown_in_groups() -> None:
    alice, bob = hearth_identity(), hearth_identity()
    number = safety_number(alice, b"account-alice", bob, b"account-bob")
    assert number == safety_number(bob, b"account-bob", alice, b"account-alice")
    assert len(number.digits) == 60 and number.digits.isdigit()
    assert len(number.groups) == 12 and all(len(group) == 5 for group in number.groups)
    assert str(number) == " ".join(number.groups)
    assert str(number).replace(" ", "") == number.digits


def test_a_substituted_key_or_identifier_changes_the_number() -> None:
    alice, bob, mallory = hearth_identity(), hearth_identity(), hearth_identity()
    genuine = safety_number(alice, b"alice", bob, b"bob")
    assert safety_number(alice, b"alice", mallory, b"bob") != genuine
    assert safety_number(alice, b"alice", bob, b"bob2") != genuine
    assert safety_number(alice, b"alice", bob, b"bob", iterations=1024) != genuine


def test_digits_are_zero_padded() -> None:
    groups = SafetyNumber(DISPLAYABLE_FINGERPRINT).groups
    assert groups[:2] == ("30035", "44776")
    # Find an input whose first chunk is below 10000 and check it keeps five digits.
    for n in range(2000):
        digits = fingerprint_digits(b"key", str(n).encode(), iterations=2)
        if digits.startswith("0"):
            digest = fingerprint_hash(b"key", str(n).encode(), iterations=2)
            assert int(digits[:5]) == int.from_bytes(digest[:5], "big") % 100_000
            assert len(digits) == 30
            return
    pytest.fail("no chunk below 10000 in 2000 tries")


@pytest.mark.parametrize("iterations", [0, 1, 1_000_001])
def test_iteration_count_outside_libsignal_bounds_is_refused(iterations: int) -> None:
    with pytest.raises(ValueError):
        fingerprint_hash(ALICE_IDENTITY, ALICE_STABLE_ID, iterations)
