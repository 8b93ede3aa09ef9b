"""Token issuance and redemption: blind signatures per band, one redemption per token."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import date
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from nacl.signing import SigningKey

from hearth_age.domain import MethodClass
from hearth_age.keys import Epochs, key_file
from hearth_crypto import age_token, blind_rsa
from hearth_crypto.age_band import AgeBand
from hearth_proto.hearth.age.v1 import age_pb2, events_pb2, types_pb2
from hearth_runtime.platform import Platform
from hearth_sdk.age import AgeClient, issuer_public
from hearth_sdk.errors import error_info
from tests.age.conftest import EPOCH_SECONDS
from tests.age.support import age_client, authority, events_of, raw_kv, raw_stream
from tests.support.status import refused

DOCUMENT = types_pb2.METHOD_CLASS_DOCUMENT
BAND_13_15 = types_pb2.AGE_BAND_13_15


def verified(platform: Platform, tmp_path: Path, age: int = 14) -> tuple[AgeClient, str]:
    """A young person whose document decided a band; the open session's id."""
    client = age_client(platform, tmp_path)
    today = date.today()
    document, signature = authority(platform).issue(today.replace(year=today.year - age))
    vid = client.start_verification(DOCUMENT)
    client.submit_document(vid, document, signature)
    return client, vid


def with_tokens(platform: Platform, tmp_path: Path, count: int = 3) -> AgeClient:
    client, vid = verified(platform, tmp_path)
    decision = age_pb2.AgeDecision(band=BAND_13_15, method_class=DOCUMENT)
    assert client.obtain_tokens(vid, decision, count) == count
    return client


def issue_request(
    client: AgeClient, vid: str, key: age_pb2.IssuerKey, blinded: list[bytes]
) -> age_pb2.IssueTokensRequest:
    return age_pb2.IssueTokensRequest(
        verification_id=vid,
        request_id=str(uuid.uuid4()),
        key_id=key.key_id,
        blinded_messages=blinded,
    )


def snapshot(
    platform: Platform,
) -> tuple[list[tuple[int, str, bytes]], list[tuple[int, str, bytes]]]:
    return raw_stream(platform), raw_kv(platform)


def test_keys_are_served_and_recorded_one_per_band_and_method(
    platform: Platform, tmp_path: Path
) -> None:
    client = age_client(platform, tmp_path)
    keys = client.issuer_keys()
    assert {(k.band, k.method_class) for k in keys} == {
        (b.value, m.value) for b in AgeBand.known() for m in MethodClass
    }
    epoch = str(Epochs(EPOCH_SECONDS).of(time.time()))
    assert {k.epoch for k in keys} == {epoch}
    published = {e.key_id: e for e in events_of(platform, events_pb2.IssuerKeyPublished)}
    for key in keys:
        record = published[key.key_id]
        assert record.public_key_der == key.public_key_der
        assert (record.band, record.method_class, record.epoch) == (
            key.band,
            key.method_class,
            epoch,
        )
        assert blind_rsa.PublicKey.from_der(key.public_key_der).key_id == key.key_id


def test_a_decided_session_gets_a_batch_of_thirty_tokens(
    platform: Platform, tmp_path: Path
) -> None:
    client, vid = verified(platform, tmp_path)
    decision = age_pb2.AgeDecision(band=BAND_13_15, method_class=DOCUMENT)
    assert client.obtain_tokens(vid, decision) == 30
    assert client.wallet.count(BAND_13_15) == 30
    issued = events_of(platform, events_pb2.TokensIssued)
    assert any(e.count == 30 for e in issued)


def test_a_batch_over_the_maximum_is_refused(platform: Platform, tmp_path: Path) -> None:
    client, vid = verified(platform, tmp_path)
    key = client.issuer_key(BAND_13_15, DOCUMENT)
    issuer = issuer_public(key)
    blinded = [age_token.create_token_request(issuer).blinded_message for _ in range(31)]
    before = snapshot(platform)
    message = refused(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        client.stub.IssueTokens,
        issue_request(client, vid, key, blinded),
        metadata=client.metadata,
    )
    assert "at most 30" in message
    assert snapshot(platform) == before


def test_a_blinded_message_outside_the_modulus_is_refused(
    platform: Platform, tmp_path: Path
) -> None:
    client, vid = verified(platform, tmp_path)
    key = client.issuer_key(BAND_13_15, DOCUMENT)
    public = blind_rsa.PublicKey.from_der(key.public_key_der)
    too_big = (public.n + 1).to_bytes(public.modulus_len, "big")
    good = age_token.create_token_request(issuer_public(key)).blinded_message
    before = snapshot(platform)
    for blinded in ([good, too_big], [b"\x01" * 10], []):
        refused(
            grpc.StatusCode.INVALID_ARGUMENT,
            client.stub.IssueTokens,
            issue_request(client, vid, key, blinded),
            metadata=client.metadata,
        )
    assert snapshot(platform) == before


def test_issuance_only_for_a_decided_session_and_only_its_band(
    platform: Platform, tmp_path: Path
) -> None:
    client = age_client(platform, tmp_path)
    undecided = client.start_verification(DOCUMENT)
    key = client.issuer_key(BAND_13_15, DOCUMENT)
    blinded = [age_token.create_token_request(issuer_public(key)).blinded_message]
    refused(
        grpc.StatusCode.FAILED_PRECONDITION,
        client.stub.IssueTokens,
        issue_request(client, undecided, key, blinded),
        metadata=client.metadata,
    )
    client, vid = verified(platform, tmp_path, age=14)
    older = client.issuer_key(types_pb2.AGE_BAND_18_PLUS, DOCUMENT)
    blinded = [age_token.create_token_request(issuer_public(older)).blinded_message]
    assert "AGE_13_15" in refused(
        grpc.StatusCode.PERMISSION_DENIED,
        client.stub.IssueTokens,
        issue_request(client, vid, older, blinded),
        metadata=client.metadata,
    )


def test_a_session_issues_once_and_an_identical_retry_gets_the_same_signatures(
    platform: Platform, tmp_path: Path
) -> None:
    client, vid = verified(platform, tmp_path)
    key = client.issuer_key(BAND_13_15, DOCUMENT)
    blinded = [age_token.create_token_request(issuer_public(key)).blinded_message for _ in range(2)]
    request = issue_request(client, vid, key, blinded)
    first = client.stub.IssueTokens(request, metadata=client.metadata)
    issued_before = len(events_of(platform, events_pb2.TokensIssued))
    again = client.stub.IssueTokens(request, metadata=client.metadata)
    assert list(again.blind_signatures) == list(first.blind_signatures)
    assert len(events_of(platform, events_pb2.TokensIssued)) == issued_before
    other = [age_token.create_token_request(issuer_public(key)).blinded_message]
    refused(
        grpc.StatusCode.FAILED_PRECONDITION,
        client.stub.IssueTokens,
        issue_request(client, vid, key, other),
        metadata=client.metadata,
    )


def test_a_redeemed_token_attests_the_band_for_the_account(
    platform: Platform, tmp_path: Path
) -> None:
    client = with_tokens(platform, tmp_path)
    response = client.redeem(BAND_13_15)
    assert response.band == BAND_13_15
    assert response.method_class == DOCUMENT
    assert response.assurance_level == types_pb2.ASSURANCE_LEVEL_ENHANCED
    epochs = Epochs(EPOCH_SECONDS)
    assert response.epoch == str(epochs.of(time.time()))
    assert response.expires_at.ToDatetime().timestamp() == pytest.approx(
        epochs.end(int(response.epoch)).timestamp()
    )
    attested = events_of(platform, events_pb2.AgeBandAttested)[-1]
    assert (attested.band, attested.method_class, attested.assurance_level, attested.epoch) == (
        BAND_13_15,
        DOCUMENT,
        types_pb2.ASSURANCE_LEVEL_ENHANCED,
        response.epoch,
    )
    assert attested.expires_at == response.expires_at
    assert client.wallet.count() == 2


def presented(
    client: AgeClient, token: age_token.Token, band: int = BAND_13_15
) -> age_pb2.RedeemTokenRequest:
    challenge, shown = client.presentation(token)
    return age_pb2.RedeemTokenRequest(
        request_id=str(uuid.uuid4()),
        band=band,  # type: ignore[arg-type]
        challenge=challenge,
        token_message=shown.message,
        randomizer=shown.randomizer,
        signature=shown.signature,
        holder_proof=shown.holder_proof,
    )


def test_a_reused_token_is_refused(platform: Platform, tmp_path: Path) -> None:
    client = with_tokens(platform, tmp_path)
    token = client.wallet.take(BAND_13_15)
    client.redeem_token(token, BAND_13_15)
    before = snapshot(platform)
    assert "already been redeemed" in refused(
        grpc.StatusCode.ALREADY_EXISTS,
        client.stub.RedeemToken,
        presented(client, token),
        metadata=client.metadata,
    )
    assert snapshot(platform) == before
    with pytest.raises(grpc.RpcError) as caught:
        client.stub.RedeemToken(presented(client, token), metadata=client.metadata)
    info = error_info(caught.value)
    assert info is not None and (info.reason, info.domain) == ("TOKEN_SPENT", "age.hearth")


def test_a_forged_token_is_refused(platform: Platform, tmp_path: Path) -> None:
    client = with_tokens(platform, tmp_path)
    real = client.wallet.take(BAND_13_15)
    # A forger's own key signs a token message naming the real issuer key.
    key = client.issuer_key(BAND_13_15, DOCUMENT)
    forger = age_token.IssuerKey.generate(AgeBand.AGE_13_15, int(key.epoch))
    posing = age_token.IssuerPublicKey(
        AgeBand.AGE_13_15, int(key.epoch), forger.private_key.public_key
    )
    request = age_token.create_token_request(posing)
    message = age_token.TokenMessage.parse(request.message)
    claimed = age_token.TokenMessage(key.key_id, message.nonce, message.holder_key).to_bytes()
    prepared = request.randomizer + claimed
    forged = age_token.Token(
        claimed, request.randomizer, _pss_sign(forger.private_key, prepared), request.holder_seed
    )
    before = snapshot(platform)
    assert "not valid" in refused(
        grpc.StatusCode.INVALID_ARGUMENT,
        client.stub.RedeemToken,
        presented(client, forged),
        metadata=client.metadata,
    )
    # An altered real token (one bit of its signature) is forged too.
    altered = age_token.Token(
        real.message,
        real.randomizer,
        real.signature[:-1] + bytes([real.signature[-1] ^ 1]),
        real.holder_seed,
    )
    refused(
        grpc.StatusCode.INVALID_ARGUMENT,
        client.stub.RedeemToken,
        presented(client, altered),
        metadata=client.metadata,
    )
    assert snapshot(platform) == before
    client.redeem_token(real, BAND_13_15)  # and the real one still redeems


def _pss_sign(private: blind_rsa.PrivateKey, prepared: bytes) -> bytes:
    """RSASSA-PSS (SHA-384, 48-byte salt) by the forger's key: a well-formed, wrong signature."""
    key = serialization.load_pem_private_key(private.to_pem(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    return key.sign(prepared, pss, hashes.SHA384())


def test_a_token_of_an_ended_epoch_is_refused(
    platform: Platform, tmp_path: Path, age_key_dir: Path
) -> None:
    client = age_client(platform, tmp_path)
    past = Epochs(EPOCH_SECONDS).of(time.time()) - 1
    old = age_token.IssuerKey(
        AgeBand.AGE_13_15,
        past,
        blind_rsa.PrivateKey.from_pem(
            key_file(age_key_dir, AgeBand.AGE_13_15, MethodClass.DOCUMENT, past).read_bytes()
        ),
    )
    request = age_token.create_token_request(old.public)
    token = age_token.finalize_token(request, old.sign(request.blinded_message))
    before = snapshot(platform)
    assert "epoch ended" in refused(
        grpc.StatusCode.FAILED_PRECONDITION,
        client.stub.RedeemToken,
        presented(client, token),
        metadata=client.metadata,
    )
    assert snapshot(platform) == before


def test_a_token_of_another_band_is_refused(platform: Platform, tmp_path: Path) -> None:
    client = with_tokens(platform, tmp_path)
    token = client.wallet.take(BAND_13_15)
    before = snapshot(platform)
    assert "AGE_13_15" in refused(
        grpc.StatusCode.PERMISSION_DENIED,
        client.stub.RedeemToken,
        presented(client, token, band=types_pb2.AGE_BAND_18_PLUS),
        metadata=client.metadata,
    )
    assert snapshot(platform) == before
    client.redeem_token(token, BAND_13_15)  # not spent by the refusal


def test_a_token_bound_to_another_holder_is_refused(platform: Platform, tmp_path: Path) -> None:
    owner = with_tokens(platform, tmp_path)
    thief = age_client(platform, tmp_path)
    token = owner.wallet.take(BAND_13_15)
    # The thief copied the token but not its holder secret: it proves with a key of its own.
    before = snapshot(platform)
    challenge = thief.stub.GetRedemptionChallenge(
        age_pb2.GetRedemptionChallengeRequest(), metadata=thief.metadata
    ).challenge
    request = age_pb2.RedeemTokenRequest(
        request_id="steal-1",
        band=BAND_13_15,
        challenge=challenge,
        token_message=token.message,
        randomizer=token.randomizer,
        signature=token.signature,
        holder_proof=_foreign_proof(token, challenge),
    )
    assert "holder proof" in refused(
        grpc.StatusCode.UNAUTHENTICATED, thief.stub.RedeemToken, request, metadata=thief.metadata
    )
    # Nor may the thief replay the owner's own proof: its challenge was the owner's.
    owners_challenge, shown = owner.presentation(token)
    replay = age_pb2.RedeemTokenRequest(
        request_id="steal-2",
        band=BAND_13_15,
        challenge=owners_challenge,
        token_message=shown.message,
        randomizer=shown.randomizer,
        signature=shown.signature,
        holder_proof=shown.holder_proof,
    )
    assert "challenge" in refused(
        grpc.StatusCode.INVALID_ARGUMENT, thief.stub.RedeemToken, replay, metadata=thief.metadata
    )
    assert snapshot(platform) == before
    owner.redeem_token(token, BAND_13_15)


def _foreign_proof(token: age_token.Token, challenge: bytes) -> bytes:
    """A holder proof over the right payload, by a key that is not the token's holder key."""
    payload = age_token.HOLDER_PROOF_LABEL + hashlib.sha256(token.message).digest() + challenge
    return SigningKey.generate().sign(payload).signature


def test_a_retried_redemption_gets_its_result_and_records_nothing_more(
    platform: Platform, tmp_path: Path
) -> None:
    client = with_tokens(platform, tmp_path)
    request = presented(client, client.wallet.take(BAND_13_15))
    first = client.stub.RedeemToken(request, metadata=client.metadata)
    before = snapshot(platform)
    again = client.stub.RedeemToken(request, metadata=client.metadata)
    assert again == first
    assert snapshot(platform) == before
