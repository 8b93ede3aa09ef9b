"""Age tokens: a child gets a token for their band, redeems it once, and nobody else can."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace

import pytest
from nacl.signing import SigningKey

from hearth_crypto import age_token, blind_rsa
from hearth_crypto.age_band import AgeBand
from hearth_crypto.age_token import IssuerKey, Token, TokenPresentation
from hearth_proto.hearth.age.v1 import types_pb2

CHALLENGE = b"server-challenge-" + bytes(range(16))


@pytest.fixture(scope="module")
def issuer() -> IssuerKey:
    return IssuerKey.generate(AgeBand.AGE_13_15, epoch=7)


@pytest.fixture(scope="module")
def other_issuer() -> IssuerKey:
    return IssuerKey.generate(AgeBand.AGE_18_PLUS, epoch=7)


def _issue(issuer: IssuerKey) -> Token:
    request = age_token.create_token_request(issuer.public)
    return age_token.finalize_token(request, issuer.sign(request.blinded_message))


@pytest.fixture(scope="module")
def token(issuer: IssuerKey) -> Token:
    return _issue(issuer)


def test_issue_and_redeem(issuer: IssuerKey, token: Token) -> None:
    verified = age_token.verify_presentation(token.present(CHALLENGE), issuer.public, CHALLENGE)
    assert verified.band is AgeBand.AGE_13_15
    assert verified.epoch == 7
    assert verified.key_id == issuer.key_id
    assert verified.spend_key == token.spend_key


def test_token_message_commits_to_label_issuer_nonce_and_holder(
    issuer: IssuerKey, token: Token
) -> None:
    assert len(token.message) == age_token.TOKEN_MESSAGE_LENGTH == 19 + 32 + 32 + 32
    assert token.message.startswith(b"hearth/age-token/v1")
    parsed = age_token.TokenMessage.parse(token.message)
    assert parsed.key_id == issuer.key_id == token.key_id
    assert parsed.holder_key == token.holder_key
    assert parsed.holder_key == bytes(SigningKey(token.holder_seed).verify_key)
    assert parsed.to_bytes() == token.message


def test_every_request_has_a_fresh_nonce_and_holder_key(issuer: IssuerKey) -> None:
    first = age_token.TokenMessage.parse(age_token.create_token_request(issuer.public).message)
    second = age_token.TokenMessage.parse(age_token.create_token_request(issuer.public).message)
    assert first.nonce != second.nonce
    assert first.holder_key != second.holder_key


def test_issuer_sees_nothing_it_could_match_at_redemption(issuer: IssuerKey) -> None:
    request = age_token.create_token_request(issuer.public)
    blind_sig = issuer.sign(request.blinded_message)
    token = age_token.finalize_token(request, blind_sig)
    presented = token.present(CHALLENGE)
    seen_at_issuance = request.blinded_message + blind_sig
    nonce = age_token.TokenMessage.parse(token.message).nonce
    for value in (presented.message, presented.signature, nonce, token.holder_key):
        assert value not in seen_at_issuance


def test_pinned_randomness_reproduces_a_request(issuer: IssuerKey) -> None:
    def pinned() -> blind_rsa.RandomSource:
        stream = hashlib.shake_256(b"fixed seed").digest(4096)
        position = 0

        def take(length: int) -> bytes:
            nonlocal position
            position += length
            return stream[position - length : position]

        return take

    first = age_token.create_token_request(issuer.public, random_source=pinned())
    second = age_token.create_token_request(issuer.public, random_source=pinned())
    assert first.message == second.message
    assert first.blinded_message == second.blinded_message


def test_token_checked_against_another_issuer_key_is_refused(
    other_issuer: IssuerKey, token: Token
) -> None:
    with pytest.raises(age_token.WrongIssuerKey):
        age_token.verify_presentation(token.present(CHALLENGE), other_issuer.public, CHALLENGE)


def test_forged_signature_is_refused(issuer: IssuerKey, token: Token) -> None:
    presented = token.present(CHALLENGE)
    forged = bytearray(presented.signature)
    forged[-1] ^= 0x01
    with pytest.raises(age_token.InvalidTokenSignature):
        age_token.verify_presentation(
            replace(presented, signature=bytes(forged)), issuer.public, CHALLENGE
        )


def test_token_signed_by_a_key_claiming_the_issuers_id_is_refused(
    issuer: IssuerKey, other_issuer: IssuerKey
) -> None:
    # An attacker writes the real issuer's key id into the message but signs with its own key.
    holder = SigningKey.generate()
    message = age_token.TokenMessage(
        issuer.key_id, os.urandom(32), bytes(holder.verify_key)
    ).to_bytes()
    prepared = blind_rsa.prepare(message)
    blinded = blind_rsa.blind(other_issuer.private_key.public_key, prepared)
    signature = blind_rsa.finalize(
        other_issuer.private_key.public_key,
        prepared,
        other_issuer.sign(blinded.blinded_message),
        blinded.inverse,
    )
    forged = Token(message, prepared[:32], signature, holder.encode())
    with pytest.raises(age_token.InvalidTokenSignature):
        age_token.verify_presentation(forged.present(CHALLENGE), issuer.public, CHALLENGE)


def test_altered_nonce_is_refused(issuer: IssuerKey, token: Token) -> None:
    presented = token.present(CHALLENGE)
    altered = bytearray(presented.message)
    altered[19 + 32] ^= 0x01  # first nonce byte
    with pytest.raises(age_token.InvalidTokenSignature):
        age_token.verify_presentation(
            replace(presented, message=bytes(altered)), issuer.public, CHALLENGE
        )


def test_stolen_token_with_the_thiefs_holder_key_is_refused(
    issuer: IssuerKey, token: Token
) -> None:
    # Swapping in one's own holder key changes the signed message, so the signature fails.
    thief = SigningKey.generate()
    parsed = age_token.TokenMessage.parse(token.message)
    message = replace(parsed, holder_key=bytes(thief.verify_key)).to_bytes()
    stolen = Token(message, token.randomizer, token.signature, thief.encode())
    with pytest.raises(age_token.InvalidTokenSignature):
        age_token.verify_presentation(stolen.present(CHALLENGE), issuer.public, CHALLENGE)


def test_holder_proof_by_another_key_is_refused(issuer: IssuerKey, token: Token) -> None:
    thief = SigningKey.generate()
    payload = age_token.HOLDER_PROOF_LABEL + hashlib.sha256(token.message).digest() + CHALLENGE
    presented = replace(token.present(CHALLENGE), holder_proof=thief.sign(payload).signature)
    with pytest.raises(age_token.HolderProofInvalid):
        age_token.verify_presentation(presented, issuer.public, CHALLENGE)


def test_holder_proof_for_another_challenge_is_refused(issuer: IssuerKey, token: Token) -> None:
    replayed = token.present(b"an-earlier-challenge-0000")
    with pytest.raises(age_token.HolderProofInvalid):
        age_token.verify_presentation(replayed, issuer.public, CHALLENGE)


def test_holder_proof_from_another_token_is_refused(issuer: IssuerKey, token: Token) -> None:
    other = _issue(issuer)
    presented = replace(token.present(CHALLENGE), holder_proof=other.prove_holder(CHALLENGE))
    with pytest.raises(age_token.HolderProofInvalid):
        age_token.verify_presentation(presented, issuer.public, CHALLENGE)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("message", b"hearth/age-token/v1" + bytes(95), "token message must be 115 bytes"),
        ("message", b"hearth/age-token/v2" + bytes(96), "label"),
        ("randomizer", bytes(31), "randomizer must be 32 bytes"),
        ("signature", bytes(255), "signature must be 256 bytes"),
        ("holder_proof", bytes(63), "holder proof must be 64 bytes"),
    ],
)
def test_malformed_presentation_is_refused(
    issuer: IssuerKey, token: Token, field: str, value: bytes, reason: str
) -> None:
    presented: TokenPresentation = replace(token.present(CHALLENGE), **{field: value})
    with pytest.raises(age_token.MalformedToken, match=reason):
        age_token.verify_presentation(presented, issuer.public, CHALLENGE)


def test_short_challenge_is_refused_on_both_sides(issuer: IssuerKey, token: Token) -> None:
    with pytest.raises(age_token.InvalidChallenge):
        token.prove_holder(b"short")
    with pytest.raises(age_token.InvalidChallenge):
        age_token.verify_presentation(token.present(CHALLENGE), issuer.public, b"short")


def test_spend_key_is_stable_and_per_token(issuer: IssuerKey, token: Token) -> None:
    expected = hashlib.sha256(token.message).hexdigest()
    assert token.spend_key == expected
    assert age_token.spend_key(token.message) == expected
    # The same token presented twice (different challenges) must collide in the KV bucket.
    first = token.present(CHALLENGE)
    second = token.present(b"another-challenge-that-is-long")
    assert first.holder_proof != second.holder_proof
    assert first.spend_key == second.spend_key == expected
    assert (
        age_token.verify_presentation(first, issuer.public, CHALLENGE).spend_key
        == age_token.verify_presentation(
            second, issuer.public, b"another-challenge-that-is-long"
        ).spend_key
    )
    assert _issue(issuer).spend_key != token.spend_key


def test_token_survives_json_storage(issuer: IssuerKey, token: Token) -> None:
    stored = json.dumps(token.to_dict())
    restored = Token.from_dict(json.loads(stored))
    assert restored == token
    verified = age_token.verify_presentation(restored.present(CHALLENGE), issuer.public, CHALLENGE)
    assert verified.spend_key == token.spend_key


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"version": 2}, "version"),
        ({"signature": None}, "'signature' is missing"),
        ({"message": "not base64!"}, "'message' is not valid base64url"),
        ({"randomizer": "AAAA"}, "randomizer must be 32 bytes"),
        ({"holder_seed": "A" * 43 + "="}, "seed does not match"),
    ],
)
def test_corrupt_stored_token_is_refused(
    token: Token, change: dict[str, object], reason: str
) -> None:
    stored: dict[str, object] = {**token.to_dict(), **change}
    stored = {key: value for key, value in stored.items() if value is not None}
    with pytest.raises(age_token.MalformedToken, match=reason):
        Token.from_dict(stored)


def test_finalize_refuses_a_signature_from_the_wrong_issuer(
    issuer: IssuerKey, other_issuer: IssuerKey
) -> None:
    request = age_token.create_token_request(issuer.public)
    # The other issuer refuses values above its own modulus; ask again until it will sign.
    while int.from_bytes(request.blinded_message, "big") >= other_issuer.public.public_key.n:
        request = age_token.create_token_request(issuer.public)
    with pytest.raises(age_token.InvalidTokenSignature):
        age_token.finalize_token(request, other_issuer.sign(request.blinded_message))
    with pytest.raises(age_token.MalformedToken, match="malformed"):
        age_token.finalize_token(request, bytes(10))


def test_issuer_refuses_a_blinded_message_outside_its_modulus(issuer: IssuerKey) -> None:
    too_big = issuer.private_key.public_key.n.to_bytes(256, "big")
    with pytest.raises(blind_rsa.MessageOutOfRange):
        issuer.sign(too_big)


def test_the_age_band_is_the_proto_enum_value_for_value() -> None:
    """One AgeBand for every service: the same names (after AGE_BAND_) and numbers as
    hearth.age.v1.AgeBand, and the labels sessions and the contact policy use."""
    proto = {name.removeprefix("AGE_BAND_"): value for name, value in types_pb2.AgeBand.items()}
    assert {band.name.removeprefix("AGE_"): band.value for band in AgeBand} == proto
    assert [band.label for band in AgeBand.known()] == ["under_13", "13_15", "16_17", "18_plus"]
    for band in AgeBand:
        assert AgeBand.from_label(band.label) is band
        assert AgeBand.from_label(types_pb2.AgeBand.Name(types_pb2.AgeBand.ValueType(band))) is band
    assert AgeBand.from_label("twelve") is AgeBand.UNSPECIFIED
    assert [AgeBand.for_age(y) for y in (0, 12, 13, 15, 16, 17, 18, 90)] == [
        AgeBand.UNDER_13,
        AgeBand.UNDER_13,
        AgeBand.AGE_13_15,
        AgeBand.AGE_13_15,
        AgeBand.AGE_16_17,
        AgeBand.AGE_16_17,
        AgeBand.AGE_18_PLUS,
        AgeBand.AGE_18_PLUS,
    ]


def test_errors_share_one_base_class() -> None:
    for error in (
        age_token.MalformedToken,
        age_token.WrongIssuerKey,
        age_token.InvalidTokenSignature,
        age_token.HolderProofInvalid,
        age_token.InvalidChallenge,
    ):
        assert issubclass(error, age_token.AgeTokenError)
