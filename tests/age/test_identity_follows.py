"""The published contract at work: identity follows AgeBandAttested and shows the band."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from hearth_proto.hearth.age.v1 import types_pb2
from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_runtime.platform import Platform
from hearth_sdk.age import AgeClient, TokenWallet
from hearth_sdk.channel import connect
from hearth_sdk.identity import IdentityClient
from tests.age.support import authority


def test_a_redemption_sets_the_band_of_the_account_in_identity(
    platform: Platform, tmp_path: Path
) -> None:
    person = IdentityClient(connect(platform.endpoint("identity")), tmp_path / "device.json")
    person.register(identity_pb2.ROLE_YOUNG_PERSON, display_name="Robin")
    assert person.account().attested_band == types_pb2.AGE_BAND_UNSPECIFIED
    client = AgeClient(
        connect(platform.endpoint("age")),
        person.login(),
        TokenWallet(tmp_path / "wallet.json"),
        account_id=person.account_id,
    )
    today = date.today()
    document, signature = authority(platform).issue(today.replace(year=today.year - 16, day=1))
    vid = client.start_verification(types_pb2.METHOD_CLASS_DOCUMENT)
    decision = client.submit_document(vid, document, signature)
    client.obtain_tokens(vid, decision, 2)
    client.redeem(types_pb2.AGE_BAND_16_17)
    deadline = time.monotonic() + 15
    while person.account().attested_band != types_pb2.AGE_BAND_16_17:
        assert time.monotonic() < deadline, "identity did not take in the attestation"
        time.sleep(0.1)
