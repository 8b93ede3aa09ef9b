"""The contact policy: the default table, as data, fed by identity's published events."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from eventsourcing.utils import Environment

from hearth_eventlog import NatsFactory
from hearth_eventlog.published import decode_published
from hearth_messaging.policy import DEFAULT_POLICY, AccountFacts, ContactPolicy, PolicyError
from hearth_proto.hearth.messaging.v1 import events_pb2
from hearth_sdk.errors import error_info
from hearth_sdk.messaging import GROUP
from tests.messaging.support import People

POLICY = ContactPolicy.default()
ORG = "org-1"


def facts(
    role: str, band: str = "", orgs: tuple[str, ...] = (), **more: frozenset[str]
) -> AccountFacts:
    return AccountFacts(
        str(uuid.uuid4()),
        frozenset({role}),
        band,
        frozenset(orgs),
        **more,  # type: ignore[arg-type]
    )


def child(**more: frozenset[str]) -> AccountFacts:
    guardian = more.pop("guardians", frozenset({"g"}))
    return facts("child", "under_13", (ORG,), guardians=guardian, consent_from=guardian, **more)


def test_the_default_table() -> None:
    adult = facts("guardian", "18_plus")
    practitioner = facts("practitioner", "", (ORG,), vetted_in=frozenset({ORG}))
    outsider_practitioner = facts("practitioner", "", ("org-2",), vetted_in=frozenset({"org-2"}))
    teen_13 = facts("young_person", "13_15", (ORG,))
    teen_16 = facts("young_person", "16_17")
    kid = child()
    own_guardian = AccountFacts("g", frozenset({"guardian"}), "18_plus")

    def code(a: AccountFacts, b: AccountFacts) -> str:
        d = POLICY.decide(a, b)
        return ("" if d.allowed else "refused:") + d.reason_code

    assert code(adult, facts("moderator", "18_plus")) == "always"
    assert code(adult, kid) == "refused:not_allowed"  # a stranger adult
    assert code(kid, adult) == "refused:not_allowed"
    assert code(own_guardian, kid) == "own_guardian"
    assert code(kid, own_guardian) == "own_guardian"
    assert code(practitioner, kid) == "vetted_practitioner_same_org"
    assert code(teen_13, practitioner) == "vetted_practitioner_same_org"
    assert code(outsider_practitioner, teen_13) == "refused:not_allowed"
    assert code(teen_13, teen_16) == "same_or_adjacent_band"
    assert code(teen_13, kid) == "refused:no_rule"
    assert code(kid, teen_13) == "refused:no_rule"
    assert code(adult, teen_16) == "refused:not_allowed"


def test_no_band_counts_as_the_youngest_and_under_13s_need_consent_and_approval() -> None:
    unattested_teen = facts("young_person")
    assert POLICY.band(unattested_teen) == "13_15"
    assert POLICY.band(facts("guardian")) == "under_13"  # an adult role proves no age
    kid_a = child()
    kid_b = child()
    assert POLICY.decide(kid_a, kid_b).reason_code == "not_allowed"
    kid_a = replace(kid_a, approved_contacts=frozenset({kid_b.account_id}))
    assert POLICY.decide(kid_a, kid_b).reason_code == "not_allowed"  # b's guardian has not
    kid_b = replace(kid_b, approved_contacts=frozenset({kid_a.account_id}))
    assert POLICY.decide(kid_a, kid_b).reason_code == "guardian_approved"
    no_consent = replace(child(), consent_from=frozenset())
    own_guardian = AccountFacts("g", frozenset({"guardian"}), "18_plus")
    assert POLICY.decide(no_consent, own_guardian).reason_code == "no_parental_consent"
    blocked = facts("guardian", "18_plus", blocked=frozenset({"x"}))
    assert POLICY.decide(blocked, AccountFacts("x", band="18_plus")).reason_code == "blocked"


def test_an_operator_changes_the_policy_with_a_file(tmp_path: Path) -> None:
    data = json.loads(json.dumps(DEFAULT_POLICY))
    data["version"] = 2
    data["contact"]["13_17"]["13_17"] = []  # this operator keeps teenagers apart
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data))
    policy = ContactPolicy.load(path)
    decision = policy.decide(facts("young_person", "13_15"), facts("young_person", "13_15"))
    assert (decision.allowed, decision.reason_code, decision.version) == (False, "no_rule", 2)
    data["contact"]["adult"]["adult"] = ["anyone_at_all"]
    path.write_text(json.dumps(data))
    with pytest.raises(PolicyError, match="unknown rules"):
        ContactPolicy.load(path)


def refusal(call: object) -> tuple[grpc.StatusCode, str, str]:
    try:
        call()  # type: ignore[operator]
    except grpc.RpcError as e:
        info = error_info(e)
        assert info is not None and info.domain == "messaging.hearth"
        return e.code(), info.reason, str(e.details())
    raise AssertionError("allowed")


def test_contact_through_identitys_events(people: People, environ: dict[str, str]) -> None:
    org = str(uuid.uuid4())
    practitioner = people.account("practitioner", "18_plus", (org,), vetted=True)
    young = people.account("young_person", "16_17", (org,))
    kid = people.account("child", "", (org,))  # no band attested: the youngest
    guardian = people.account("guardian", "18_plus")
    stranger = people.account("guardian", "18_plus")
    people.guardian_of(guardian, kid)
    people.settle()

    p = people.device(practitioner, "practitioner")
    assert p.start_conversation([young]).member_account_ids == [practitioner, young]
    assert p.start_conversation([kid]).member_account_ids == [practitioner, kid]
    g = people.device(guardian, "guardian")
    g.start_conversation([kid])
    k = people.device(kid, "child")
    k.start_conversation([guardian])

    s = people.device(stranger, "guardian", "18_plus")
    code, reason, details = refusal(lambda: s.start_conversation([kid]))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_ALLOWED")
    assert "does not allow" in details
    code, reason, _ = refusal(lambda: s.start_conversation([young]))
    assert reason == "NOT_ALLOWED"
    # A group: every pair of members must be allowed contact, not just the creator's.
    _, reason, _ = refusal(lambda: p.start_conversation([young, kid], GROUP))
    assert reason == "NO_RULE"  # a 16-17 and an under-13
    group = p.start_conversation([young], GROUP)
    code, reason, _ = refusal(lambda: p.add_member(group.conversation_id, stranger))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_ALLOWED")
    # A block ends contact: the child blocks the practitioner.
    k.block(practitioner)
    _, reason, _ = refusal(lambda: p.start_conversation([kid]))
    assert reason == "BLOCKED"

    # Each decision is recorded, with its reason code, as a published event.
    factory = NatsFactory(
        Environment("messaging", {**environ, "NATS_URL": people.platform.nats_url})
    )
    recorder = factory.application_recorder()
    decisions = [
        decode_published(n.topic, n.state)
        for n in recorder.select_notifications(start=None, limit=10_000)
        if n.topic == events_pb2.ContactDecisionRecorded.DESCRIPTOR.full_name
    ]
    factory.close()
    mine = [d for d in decisions if d.requested_by in (practitioner, stranger)]  # type: ignore[union-attr]
    assert [(d.allowed, d.reason_code) for d in mine] == [  # type: ignore[union-attr]
        (True, "vetted_practitioner_same_org"),
        (True, "vetted_practitioner_same_org"),
        (False, "not_allowed"),
        (False, "not_allowed"),
        (False, "no_rule"),
        (True, "vetted_practitioner_same_org"),
        (False, "not_allowed"),
        (False, "blocked"),
    ]
