"""Identity and the real age service together: a registered young person proves a band by
document, redeems a token, and identity's account and next session show the band."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from hearth_proto.hearth.age.v1 import types_pb2
from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import SessionVerifier
from hearth_sdk.age import AgeClient, TestIssuingAuthority, TokenWallet
from hearth_sdk.channel import connect
from hearth_sdk.identity import IdentityClient
from tests.conftest import stream_environ, unique_name
from tests.identity.support import stored
from tests.support.polling import wait_for

KEY_PUBLISHED = "hearth.age.v1.IssuerKeyPublished"


def identity_tracking_records(platform: Platform) -> int:
    return sum(1 for subject, _ in stored(platform) if ".tracking." in subject)


@pytest.fixture(scope="module")
def both(nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    prefix = unique_name("ida")
    environ = {
        **stream_environ(prefix, "identity", "age"),
    }
    platform = Platform(
        tmp_path_factory.mktemp("identity-age"),
        services=["identity", "age"],
        environ=environ,
        nats_url=nats_server.url,
    ).start()
    yield platform
    platform.stop()


def test_age_s_start_up_events_put_no_tracking_record_in_identity_s_stream(
    both: Platform,
) -> None:
    """Age publishes its issuer keys at start-up; identity acts on attestations only."""
    age = both.hosts["age"].parts.applications[0]
    published = [
        n
        for n in age.recorder.select_notifications(start=None, limit=1000)
        if n.topic == KEY_PUBLISHED
    ]
    assert len(published) == 12  # 4 bands x 3 method classes
    last = age.recorder.max_notification_id()
    assert last is not None
    both.hosts["identity"].parts.followers[0].wait_until(last, timeout=20)
    assert identity_tracking_records(both) == 0


def test_a_band_proved_to_the_age_service_reaches_the_account_and_its_session(
    both: Platform, tmp_path: Path
) -> None:
    person = IdentityClient(connect(both.endpoint("identity")), tmp_path / "device.json")
    person.register(identity_pb2.ROLE_YOUNG_PERSON)
    token = person.login()
    assert person.account().effective_band == types_pb2.AGE_BAND_UNDER_13

    age = AgeClient(connect(both.endpoint("age")), token, TokenWallet(tmp_path / "tokens.json"))
    key_dir = Path(
        both.hosts["age"].config.environ.get("HEARTH_AGE_KEY_DIR") or both.data_dir / "keys" / "age"
    )
    authority = TestIssuingAuthority.from_seed_file(key_dir / "document-authority.seed")
    today = date.today()
    document, signature = authority.issue(today.replace(year=today.year - 14, day=1))
    verification = age.start_verification(types_pb2.METHOD_CLASS_DOCUMENT)
    decision = age.submit_document(verification, document, signature)
    age.obtain_tokens(verification, decision)
    age.redeem(decision.band)

    wait_for(lambda: person.account().attested_band == types_pb2.AGE_BAND_13_15, timeout=20)
    session = SessionVerifier({both.signer.key_id: both.signer.public_key}).verify(person.renew())
    assert session.age_band == "13_15"
    # Of all the age service's events, only the attestation was an effect: one tracking record.
    assert identity_tracking_records(both) == 1
