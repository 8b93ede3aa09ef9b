"""Safety on the device with real messaging: reports whose every message verifies under the
relay's key, content-free guardian notices end to end encrypted, outcomes by age band."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from hearth_crypto.franking import CommitmentMismatch, verify_report
from hearth_scanner.packs import PackExpired, PackRollback, build_pack
from hearth_scanner.taxonomy import Participant
from hearth_sdk.safety import (
    CHILDLINE,
    EMERGENCY,
    NOTICE_TYPE,
    SafetyGuard,
    SafetySettings,
    send_guardian_notice,
)
from hearth_sdk.safety_report import NothingToReport, gather_report, send_recorded
from tests.messaging.support import People
from tests.messaging.test_franking import published_relay_keys

TEEN = ("young_person", "13_15")


def relay_key(people: People) -> dict[str, bytes]:
    """The relay's public keys as messaging's stream records them."""
    return published_relay_keys(people.platform.environ, people.platform.nats_url)


def test_a_report_carries_the_message_and_20_of_context_each_verifiable(people: People) -> None:
    a, b = people.account(*TEEN), people.account(*TEEN)
    people.settle()
    ava, kai = people.device(a, *TEEN), people.device(b, *TEEN)
    talk = kai.start_conversation([a]).conversation_id
    sent = []
    for i in range(14):
        kai.send(talk, f"kai {i}".encode())
        if i % 2:
            sent.append(send_recorded(ava, talk, f"ava {i}".encode()))
    received = ava.receive(14)
    assert len(received) == 14
    reported = received[10]
    evidence = gather_report(a, reported.message_id, received, sent, category="grooming")

    assert evidence.reported.body == b"kai 10"
    assert len(evidence.context) == 20
    assert {m.sent_by_reporter for m in evidence.context} == {True, False}
    assert reported.message_id not in {m.message_id for m in evidence.context}
    key = relay_key(people)
    for message in (evidence.reported, *evidence.context):
        verify_report(key, message.franking_report())  # raises if any part is off
    altered = replace(evidence.reported.franking_report(), body=b"kai said nothing")
    with pytest.raises(CommitmentMismatch):
        verify_report(key, altered)
    with pytest.raises(NothingToReport):
        gather_report(a, "no-such-message", received, sent)
    # The device's own history (what it received and sent) gathers the same evidence.
    from_history = gather_report(a, reported.message_id, ava.franked, category="grooming")
    assert from_history.reported == evidence.reported
    assert [m.message_id for m in from_history.context] == [m.message_id for m in evidence.context]
    assert sent[0] in ava.franked.messages(talk)  # send_recorded answers the kept record
    for d in (ava, kai):
        d.disconnect()


def test_a_guardian_notice_is_a_category_only_end_to_end_encrypted(people: People) -> None:
    guardian = people.account("guardian", "18_plus")
    child = people.account("child", "under_13")
    people.guardian_of(guardian, child)
    people.settle()
    parent, kid = people.device(guardian, "guardian", "18_plus"), people.device(child, "child")
    home = kid.start_conversation([guardian]).conversation_id
    assert send_guardian_notice(kid, home, "grooming", "under_13")
    (notice,) = parent.receive(1)
    body = json.loads(notice.body)
    assert body.keys() == {"type", "category", "notice_id"}
    assert body["type"] == NOTICE_TYPE and body["category"] == "grooming"
    # Never where the family may be the harm, and off by default above 13.
    assert not send_guardian_notice(kid, home, "self_harm", "under_13")
    assert not send_guardian_notice(kid, home, "grooming", "13_15")
    assert parent.receive(1, timeout=0.5) == []
    for d in (parent, kid):
        d.disconnect()


PEOPLE_U13 = {"Mia": Participant("child", "under_13"), "Dean": Participant("adult", "18_plus")}
PEOPLE_TEEN = {"Jo": Participant("young_person", "13_15"), "Dean": Participant("adult", "18_plus")}


def test_a_young_child_is_warned_in_simple_words_with_help_and_a_notice_is_allowed() -> None:
    guard = SafetyGuard(PEOPLE_U13["Mia"])
    guard.incoming("c", "Dean", "ur so mature for ur age", PEOPLE_U13)
    outcome = guard.incoming("c", "Dean", "dont tell ur mum about me", PEOPLE_U13)
    assert outcome.warning is not None and "grooming" in outcome.warning.categories
    assert "Safe grown-ups" in outcome.warning.text
    assert outcome.warning.signposting == (CHILDLINE, EMERGENCY)
    assert "0800 1111" in CHILDLINE and "childline.org.uk" in CHILDLINE and "999" in EMERGENCY
    assert outcome.guardian_notice == "grooming"


def test_a_teenager_gets_teen_words_and_no_guardian_notice_by_default() -> None:
    guard = SafetyGuard(PEOPLE_TEEN["Jo"])
    outcome = guard.incoming("c", "Dean", "send me a pic of you in ur pyjamas", PEOPLE_TEEN)
    assert outcome.warning is not None and outcome.warning.text.startswith("Heads up")
    assert outcome.guardian_notice is None
    opted_in = SafetySettings(guardian_notices={"under_13": True, "13_15": True})
    guard = SafetyGuard(PEOPLE_TEEN["Jo"], settings=opted_in)
    outcome = guard.incoming("c", "Dean", "send me a pic of you in ur pyjamas", PEOPLE_TEEN)
    assert outcome.guardian_notice == "grooming"


def test_a_child_disclosing_harm_can_always_send_and_no_notice_goes_to_the_family() -> None:
    guard = SafetyGuard(PEOPLE_U13["Mia"])
    outcome = guard.outgoing("c", "Mia", "i want to die, i keep hurting myself", PEOPLE_U13)
    assert outcome.may_send
    assert outcome.warning is not None and outcome.warning.categories == ("self_harm",)
    assert outcome.guardian_notice is None
    received = guard.incoming("c", "Dean", "i want to kill myself", PEOPLE_U13)
    assert received.guardian_notice is None  # self-harm never notifies the family


def test_a_flattering_message_alone_does_not_alarm() -> None:
    guard = SafetyGuard(PEOPLE_TEEN["Jo"])
    outcome = guard.incoming("c", "Dean", "youre so talented", PEOPLE_TEEN)
    assert outcome.warning is None


def test_the_device_keeps_its_last_good_pack_across_a_restart(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "safety-pack.json"

    def pack(version: int, expires_at: float) -> bytes:
        return build_pack(
            key,
            {"version": version, "issued_at": 0, "expires_at": expires_at, "previous_digest": ""},
        )

    guard = SafetyGuard(PEOPLE_TEEN["Jo"], trusted_pack_key=key.verify_key, pack_path=path)
    guard.install_pack(pack(3, 2000.0), now=1000.0)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = SafetyGuard(PEOPLE_TEEN["Jo"], trusted_pack_key=key.verify_key, pack_path=path)
    assert again.pack_status(now=1500.0) == "pack v3 fresh"
    assert "STALE" in again.pack_status(now=3000.0)  # expired, still used, said so
    with pytest.raises(PackRollback):
        again.install_pack(pack(2, 9000.0), now=3000.0)  # a restart forgets no version
    with pytest.raises(PackExpired):
        again.install_pack(pack(4, 2500.0), now=3000.0)
    assert "v3" in again.pack_status(now=3000.0)
