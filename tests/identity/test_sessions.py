"""Devices, login by signing a challenge, session tokens and their renewal, through the SDK."""

from __future__ import annotations

import time

import grpc
from nacl.signing import SigningKey

from hearth_identity.service import build
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.config import RuntimeConfig
from hearth_runtime.platform import Platform, session_verifier
from hearth_runtime.server import ServiceHost
from hearth_runtime.sessions import SessionSigner, SessionVerifier
from hearth_sdk.channel import bearer, connect
from hearth_sdk.identity import IdentityClient, login_text
from tests.identity.support import Devices
from tests.support.clock import Clock
from tests.support.status import code_of


def verifier(platform: Platform) -> SessionVerifier:
    return SessionVerifier({platform.signer.key_id: platform.signer.public_key})


def test_a_device_registers_logs_in_and_its_token_says_who_it_is(
    platform: Platform, devices: Devices
) -> None:
    client = devices.account("young_person")
    session = verifier(platform).verify(client.state.session_token)
    assert session.account_id == client.account_id
    assert session.roles == {"young_person"}
    assert session.key_id == platform.signer.key_id
    # No band attested yet: the youngest band it could be.
    assert session.age_band == "under_13"
    assert session.organisations == frozenset()
    assert 0 < session.expires_at - time.time() <= 900
    assert client.account().account_id == client.account_id


def test_client_state_survives_a_restart_and_logs_in_with_the_same_device(
    devices: Devices,
) -> None:
    first = devices.account("guardian", name="kept")
    again = devices.client("kept")
    assert again.account_id == first.account_id
    assert again.device_public_key == first.device_public_key
    again.state.session_token = ""
    assert again.session()
    assert again.account().account_id == first.account_id
    assert (devices.directory / "kept.json").stat().st_mode & 0o077 == 0


def test_session_renewal_gives_a_fresh_token_with_current_claims(
    platform: Platform, devices: Devices, clock: Clock
) -> None:
    client = devices.account("child")
    old = client.state.session_token
    clock.advance(1.1)  # a second later, so the renewed token's expiry is later
    renewed = client.renew()
    assert renewed != old
    later, earlier = verifier(platform).verify(renewed), verifier(platform).verify(old)
    assert later.expires_at > earlier.expires_at
    assert later.account_id == earlier.account_id


def test_a_login_signature_by_another_device_is_unauthenticated(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("young_person")
    challenge = identity.BeginLogin(
        identity_pb2.BeginLoginRequest(
            account_id=client.account_id, device_public_key=client.device_public_key
        )
    )
    other_device = SigningKey.generate()
    text = login_text(challenge.challenge_id, challenge.challenge, client.account_id)
    code, details = code_of(
        lambda: identity.CompleteLogin(
            identity_pb2.CompleteLoginRequest(
                challenge_id=challenge.challenge_id, signature=other_device.sign(text).signature
            )
        )
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "not by this account's device" in details


def test_a_device_of_another_account_cannot_begin_a_login(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    victim, intruder = devices.account("child"), devices.account("young_person")
    code, details = code_of(
        lambda: identity.BeginLogin(
            identity_pb2.BeginLoginRequest(
                account_id=victim.account_id, device_public_key=intruder.device_public_key
            )
        )
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "unknown account or device" in details


def _signed_challenge(
    identity: identity_pb2_grpc.IdentityServiceStub, client: IdentityClient
) -> identity_pb2.CompleteLoginRequest:
    challenge = identity.BeginLogin(
        identity_pb2.BeginLoginRequest(
            account_id=client.account_id, device_public_key=client.device_public_key
        )
    )
    text = login_text(challenge.challenge_id, challenge.challenge, client.account_id)
    return identity_pb2.CompleteLoginRequest(
        challenge_id=challenge.challenge_id,
        signature=client.state.device_key.sign(text).signature,
    )


def test_a_login_challenge_is_single_use(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("guardian")
    request = _signed_challenge(identity, client)
    assert identity.CompleteLogin(request).session_token
    code, details = code_of(lambda: identity.CompleteLogin(request))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "already used" in details


def test_a_login_challenge_expires(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices, clock: Clock
) -> None:
    client = devices.account("guardian")
    request = _signed_challenge(identity, client)
    clock.advance(61)  # challenges live 60 s
    code, details = code_of(lambda: identity.CompleteLogin(request))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "expired" in details


def test_an_expired_session_token_is_unauthenticated(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("young_person")
    old = SessionSigner(
        platform.signer.key_id, platform.signer.signing_key, clock=lambda: time.time() - 3600
    )
    token = old.issue(client.account_id, {"young_person"}, lifetime=900)
    code, details = code_of(
        lambda: identity.RenewSession(identity_pb2.RenewSessionRequest(), metadata=bearer(token))
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "has expired" in details


def test_a_tampered_session_token_is_unauthenticated(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    child = devices.account("child")
    head, _claims, signature = child.state.session_token.split(".")
    # Claims of an org admin's token under the child's signature.
    admin_claims = devices.account("org_admin").state.session_token.split(".")[1]
    tampered = ".".join([head, admin_claims, signature])
    code, details = code_of(
        lambda: identity.CreateOrganisation(
            identity_pb2.CreateOrganisationRequest(request_id="t", name="Sneaky"),
            metadata=bearer(tampered),
        )
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "signature is invalid" in details


def test_rotated_keys_verify_old_and_new_tokens_by_their_kid(
    platform: Platform, devices: Devices
) -> None:
    current = devices.account("moderator").state.session_token
    retired = SessionSigner("retired-2025", SigningKey.generate())
    old_token = retired.issue("someone", {"moderator"})
    both = SessionVerifier(
        {
            platform.signer.key_id: platform.signer.public_key,
            retired.key_id: retired.public_key,
        }
    )
    assert both.verify(current).key_id == platform.signer.key_id
    assert both.verify(old_token).key_id == "retired-2025"


def test_a_second_device_proves_its_key_and_then_logs_in(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("young_person")
    tablet = SigningKey.generate()
    assert client.add_device(tablet) == 2
    assert client.add_device(tablet) == 2  # the same device again changes nothing
    challenge = identity.BeginLogin(
        identity_pb2.BeginLoginRequest(
            account_id=client.account_id, device_public_key=bytes(tablet.verify_key)
        )
    )
    text = login_text(challenge.challenge_id, challenge.challenge, client.account_id)
    response = identity.CompleteLogin(
        identity_pb2.CompleteLoginRequest(
            challenge_id=challenge.challenge_id, signature=tablet.sign(text).signature
        )
    )
    assert response.session_token


def test_a_device_without_proof_of_its_key_is_refused(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("young_person")
    tablet, thief = SigningKey.generate(), SigningKey.generate()
    code, details = code_of(
        lambda: identity.AddDevice(
            identity_pb2.AddDeviceRequest(
                request_id="d1",
                device_public_key=bytes(tablet.verify_key),
                proof=client.prove_new_device(thief),
            ),
            metadata=client.metadata(),
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "proof" in details
    assert client.account().devices == 1


def test_a_forged_challenge_id_is_unauthenticated(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("child")
    request = _signed_challenge(identity, client)
    body, _mac = request.challenge_id.split(".")
    request.challenge_id = f"{body}.AAAAAAAAAAAAAAAAAAAAAA"
    code, details = code_of(lambda: identity.CompleteLogin(request))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "unknown login challenge" in details


def test_a_login_begun_on_one_replica_completes_on_another_once(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    config = RuntimeConfig.from_env(
        "identity", platform.hosts["identity"].config.environ, default_port=0
    )
    replica = ServiceHost(config, build(config), session_verifier(config)).start()
    try:
        other = identity_pb2_grpc.IdentityServiceStub(connect(replica.address))
        client = devices.account("young_person")
        request = _signed_challenge(identity, client)
        assert other.CompleteLogin(request).session_token
        code, details = code_of(lambda: identity.CompleteLogin(request))
        assert code == grpc.StatusCode.UNAUTHENTICATED
        assert "already used" in details
    finally:
        replica.stop(grace=1)


def test_a_removed_device_no_longer_logs_in_and_the_last_one_stays(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("guardian")
    lost_phone = SigningKey.generate()
    client.add_device(lost_phone)
    removed = identity.RemoveDevice(
        identity_pb2.RemoveDeviceRequest(device_public_key=bytes(lost_phone.verify_key)),
        metadata=client.metadata(),
    )
    assert removed.devices == 1
    code, _ = code_of(
        lambda: identity.BeginLogin(
            identity_pb2.BeginLoginRequest(
                account_id=client.account_id, device_public_key=bytes(lost_phone.verify_key)
            )
        )
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
    code, details = code_of(
        lambda: identity.RemoveDevice(
            identity_pb2.RemoveDeviceRequest(device_public_key=client.device_public_key),
            metadata=client.metadata(),
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "last device" in details


def test_the_sdk_renews_near_expiry_and_logs_in_again_after_it(
    devices: Devices, clock: Clock
) -> None:
    client = devices.account("young_person")
    kept = client.state.session_token
    assert client.session() == kept  # far from expiry: the kept token
    client.state.session_expires_at = int(time.time()) + 30  # inside the renewal margin
    clock.advance(1.1)
    renewed = client.session()
    assert renewed != kept
    client.state.session_expires_at = int(time.time()) - 1  # past expiry: a fresh login
    clock.advance(1.1)
    assert client.session() not in (kept, renewed)
    assert devices.client(client.state_path.stem).state.session_token == client.state.session_token
