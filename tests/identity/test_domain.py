"""The domain alone: aggregates rebuilt from their stored (protobuf) events are what was saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder

from hearth_crypto.age_band import AgeBand
from hearth_eventlog.published import ProtobufMapper
from hearth_identity.domain import Account, GuardianLink, Role


def rebuilt(aggregate: Aggregate) -> Aggregate | None:
    mapper = ProtobufMapper(transcoder=JSONTranscoder())
    stored = [mapper.to_stored_event(e) for e in aggregate.collect_events()]
    copy = None
    for record in stored:
        domain_event = mapper.to_domain_event(record)
        assert isinstance(domain_event, Aggregate.Event)
        copy = domain_event.mutate(copy)
    return copy


def test_an_account_rebuilt_from_its_stored_events_is_the_one_saved() -> None:
    account = Account(Role.PRACTITIONER, b"k" * 32, "r-domain")
    account.record_personal_data(b"sealed bytes")
    account.add_device(b"j" * 32)
    expires = datetime.now(UTC) + timedelta(days=90)
    account.set_age_band(AgeBand.AGE_18_PLUS, expires)
    account.join("org-1", "admin-1")
    account.vet("org-1", "admin-1")
    account.accept_house_rules(2, in_force=2)
    account.consent("guardian_notices", True)
    copy = rebuilt(account)
    assert isinstance(copy, Account)
    assert copy.device_keys == [b"k" * 32, b"j" * 32]
    assert copy.sealed_personal_data == b"sealed bytes"
    assert copy.effective_band(datetime.now(UTC)) == AgeBand.AGE_18_PLUS
    assert copy.organisations == ["org-1"]
    assert copy.vetted_by["org-1"][0] == "admin-1"
    assert copy.house_rules_version == 2
    assert copy.consents == {"guardian_notices": True}


def test_no_band_or_an_expired_band_is_the_youngest_band() -> None:
    account = Account(Role.YOUNG_PERSON, b"k" * 32, "r-band")
    now = datetime.now(UTC)
    assert account.effective_band(now) == AgeBand.UNDER_13
    account.set_age_band(AgeBand.AGE_16_17, now - timedelta(seconds=1))
    assert account.effective_band(now) == AgeBand.UNDER_13
    assert account.attested_band(now) == AgeBand.UNSPECIFIED


def test_a_guardian_link_rebuilt_keeps_consents_and_contacts() -> None:
    link = GuardianLink("guardian-1", "child-1")
    link.consent("guardian")
    assert not link.linked
    link.consent("child")
    assert link.linked
    link.record_parental_consent(True)
    link.approve_contact("friend-1")
    copy = rebuilt(link)
    assert isinstance(copy, GuardianLink)
    assert copy.linked and copy.parental_consent is True
    assert copy.approved_contacts == ["friend-1"]
