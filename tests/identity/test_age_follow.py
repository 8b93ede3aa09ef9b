"""Identity follows the age service's AgeBandAttested events to set each account's band."""

from __future__ import annotations

from datetime import timedelta

from hearth_proto.hearth.age.v1 import types_pb2
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import SessionVerifier
from tests.identity.support import Devices, attest, topics_of, wait_for_follower


def test_an_attested_band_sets_the_account_band_and_reaches_the_session(
    platform: Platform, devices: Devices
) -> None:
    teen = devices.account("young_person")
    assert teen.account().effective_band == types_pb2.AGE_BAND_UNDER_13
    assert teen.account().attested_band == types_pb2.AGE_BAND_UNSPECIFIED
    wait_for_follower(platform, attest(platform, teen.account_id, types_pb2.AGE_BAND_13_15))
    account = teen.account()
    assert account.attested_band == types_pb2.AGE_BAND_13_15
    assert account.effective_band == types_pb2.AGE_BAND_13_15
    assert "hearth.identity.v1.AccountAgeBandSet" in topics_of(platform)
    session = SessionVerifier({platform.signer.key_id: platform.signer.public_key}).verify(
        teen.renew()
    )
    assert session.age_band == "13_15"


def test_moving_up_a_band_is_a_new_attestation(platform: Platform, devices: Devices) -> None:
    teen = devices.account("young_person")
    wait_for_follower(platform, attest(platform, teen.account_id, types_pb2.AGE_BAND_13_15))
    wait_for_follower(platform, attest(platform, teen.account_id, types_pb2.AGE_BAND_16_17))
    assert teen.account().effective_band == types_pb2.AGE_BAND_16_17


def test_an_expired_band_counts_as_the_youngest(platform: Platform, devices: Devices) -> None:
    adult = devices.account("guardian")
    expired = attest(
        platform, adult.account_id, types_pb2.AGE_BAND_18_PLUS, expires_in=timedelta(seconds=-1)
    )
    wait_for_follower(platform, expired)
    assert adult.account().effective_band == types_pb2.AGE_BAND_UNDER_13


def test_attestations_for_unknown_accounts_are_passed_over(
    platform: Platform, devices: Devices
) -> None:
    wait_for_follower(
        platform,
        attest(platform, "00000000-0000-4000-8000-00000000beef", types_pb2.AGE_BAND_18_PLUS),
    )
    wait_for_follower(platform, attest(platform, "not-a-uuid", types_pb2.AGE_BAND_18_PLUS))
    # The follower moved on: a later attestation still lands.
    child = devices.account("child")
    wait_for_follower(platform, attest(platform, child.account_id, types_pb2.AGE_BAND_UNDER_13))
    assert child.account().attested_band == types_pb2.AGE_BAND_UNDER_13
