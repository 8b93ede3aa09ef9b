"""Every stored event type of every service, produced by the domain's own commands.

`run(nats_url, environ)` drives each service's aggregates through every command that records
an event and saves them to that service's stream (named as the service's application names
it), then returns each aggregate's state as `state_of` summarises it. `record` ran this with
the code as it was before events had stable names to make the fixture `test_replay` replays;
`test_topics` runs it with today's code.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from google.protobuf.message import Message

from hearth_age import domain as age
from hearth_audit import domain as audit
from hearth_crypto.age_band import AgeBand
from hearth_identity import domain as identity
from hearth_identity import passkeys
from hearth_messaging import domain as messaging
from hearth_messaging import recording
from hearth_proto.hearth.audit.v1 import events_pb2 as audit_events
from hearth_runtime.admin import OPERATOR
from hearth_runtime.application import HearthApplication
from hearth_safety import case as safety_case
from hearth_safety import domain as safety
from hearth_safety import facts as safety_facts
from hearth_safety import packs as safety_packs
from hearth_safety import report as safety_report
from hearth_safety import shift as safety_shift

# Fixed instants, so a recorded state is compared field by field.
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SERVICES = ("identity", "age", "messaging", "audit", "safety")


def identity_aggregates() -> list[Aggregate]:
    account = identity.Account(identity.Role.PRACTITIONER, b"k" * 32, "replay-account")
    account.record_personal_data(b"sealed personal data")
    account.add_device(b"j" * 32)
    account.remove_device(b"j" * 32)
    account.set_age_band(AgeBand.AGE_18_PLUS, T0 + timedelta(days=90))
    account.join("org-1", "admin-1")
    account.vet("org-1", "admin-1")
    account.accept_house_rules(2, in_force=2)
    account.consent("guardian_notices", True)
    account.note_restriction("case-1:action-1", "suspend", "case-1", "", T0)
    account.lift_restriction("case-1:action-1")
    erased = identity.Account(identity.Role.YOUNG_PERSON, b"e" * 32, "replay-erased")
    erased.erase("erased-self")
    organisation = identity.Organisation("Hearth Youth Club", "admin-1", "replay-org")
    link = identity.GuardianLink("guardian-1", "child-1")
    link.consent("guardian")
    link.consent("child")
    link.record_parental_consent(True)
    link.approve_contact("friend-1")
    invitation = identity.Invitation(
        id=identity.Invitation.id_for("replay-code"),
        organisation_id="org-1",
        role=identity.Role.MODERATOR,
        invited_by=OPERATOR,
        expires_at=T0 + timedelta(days=7),
    )
    invitation.accept("moderator-1", identity.Role.MODERATOR, T0)
    # A staff member whose first device is a passkey, signed in twice since.
    staff = identity.Account(identity.Role.MODERATOR, b"", "replay-passkey-account")
    passkey = passkeys.Passkey(
        account_id=str(staff.id),
        credential_id=b"c" * 32,
        credential_public_key=b"cose key",
        sign_count=0,
        rp_id="localhost",
        aaguid=bytes(16),
        multi_device=True,
    )
    staff.add_passkey(str(passkey.id), passkey.credential_id)
    passkey.count_signature(1)
    passkey.count_signature(2)
    return [account, erased, organisation, link, invitation, staff, passkey]


def age_aggregates() -> list[Aggregate]:
    session = age.VerificationSession.open(
        b"capability", age.MethodClass.VOUCHING, subject_tag=b"tag"
    )
    session.decide(
        AgeBand.AGE_13_15,
        age.MethodClass.VOUCHING,
        "vouching/practitioner",
        voucher_account_id="voucher-1",
        voucher_role="practitioner",
    )
    session.issue(b"key-id", "2026-q4", 3, b"digest")
    standing = age.VoucherStanding("voucher-1")
    standing.note_vetting("org-1")
    standing.note_guardian_of("child-1")
    key = age.IssuerKeyRecord(
        band=AgeBand.AGE_18_PLUS,
        epoch="2026-q4",
        key_id=b"key-id",
        public_key_der=b"der",
        not_after=T0 + timedelta(days=120),
        method_class=age.MethodClass.DOCUMENT,
        assurance_level=age.AssuranceLevel.ENHANCED,
    )
    attestation = age.Attestation.record(
        "replay-redeem",
        "account-1",
        AgeBand.AGE_18_PLUS,
        age.MethodClass.DOCUMENT,
        "2026-q4",
        T0 + timedelta(days=90),
    )
    return [session, standing, key, attestation]


def messaging_aggregates() -> list[Aggregate]:
    keys = messaging.DeviceKeys(
        device_id="device-1",
        account_id="account-1",
        identity_key="aa" * 32,
        signed_prekey_id=1,
        signed_prekey="bb" * 32,
        signature="cc" * 64,
    )
    keys.rotate(2, "dd" * 32, "ee" * 64)
    keys.add_one_time({1: "01" * 32, 2: "02" * 32, 3: "03" * 32})
    keys.take_one_time()
    devices = messaging.AccountDevices("account-1")
    devices.add("device-1")
    conversation = messaging.Conversation._create(
        messaging.Conversation.Started,
        id=messaging.Conversation.id_for("account-1", "replay-conversation"),
        kind="group",
        member_account_ids=["account-1", "account-2"],
        started_by="account-1",
    )
    conversation.add_member("account-3", "account-1")
    conversation.leave("account-2")
    decision = messaging.ContactDecision(
        "account-1", ["account-2"], "start_conversation", True, "same_band", 1
    )
    relayed = messaging.RelayedMessage._create(
        messaging.RelayedMessage.Relayed,
        id=messaging.RelayedMessage.id_for("replay-message"),
        conversation_id=str(conversation.id),
        sender_account_id="account-1",
        sender_device_id="device-1",
        recipient_devices=2,
        ciphertext_bytes=512,
    )
    settings = messaging.AccountSettings("account-1")
    settings.block("account-9")
    settings.block("account-8")
    settings.unblock("account-9")
    settings.mute("conversation-1")
    settings.mute("conversation-2")
    settings.unmute("conversation-1")
    facts = messaging.ContactFacts("account-2")
    facts.note("role", "young_person")
    facts.note("band", "13_15")
    facts.note("organisation", "org-1")
    facts.note("organisation", "org-1", present=False)
    facts.note("house_rules", "2")
    relay_key = messaging.RelayKeyRecord._create(
        messaging.RelayKeyRecord.Published,
        id=messaging.RelayKeyRecord.create_id("00112233aabbccdd"),
        key_id="00112233aabbccdd",
        algorithm="ed25519",
        public_key=b"p" * 32,
    )
    keeping = recording.RecordKeeping("org-1", "keeper-1")
    keeping.request(
        access_request_id="request-1",
        young_person_account_id="account-2",
        requester_account_id="account-2",
        purpose="subject_access",
        reply_key=b"r" * 32,
        due_at=datetime(2026, 12, 31, tzinfo=UTC),
    )
    keeping.answer(access_request_id="request-1", records=1)
    book = recording.CaseRecordBook("org-1", "account-2")
    book.keep(
        record_id="record-1",
        conversation_id="conversation-1",
        message_id="replay-message",
        digest=b"d" * 32,
        relayed_at_ms=1_780_000_000_000,
        member_account_ids=["account-1", "account-2"],
    )
    book.read(purpose="subject_access", reader="account-2", record_ids=["record-1"])
    book.destroy(reason="retention", records=1)
    return [
        keys,
        devices,
        conversation,
        decision,
        relayed,
        settings,
        facts,
        relay_key,
        keeping,
        book,
    ]


def _leaf_hash(index: int) -> bytes:
    return hashlib.sha256(b"\x00" + index.to_bytes(8, "big")).digest()


def audit_aggregates() -> list[Aggregate]:
    log = audit.AuditLog()
    # The single-leaf event of logs recorded before batching: no command makes it any more.
    log.trigger_event(
        audit.AuditLog.Witnessed,
        stream="identity",
        sequence=1,
        subject="hearth.identity.events.a",
        payload_hash=b"p" * 32,
        index=0,
        leaf_hash=_leaf_hash(0),
        kind="hearth.identity.v1.AccountRegistered",
        pseudonym="pseudonym-a",
        day="2026-11-30",
    )
    log.witness(
        [
            audit_events.WitnessedLeaf(
                stream="identity",
                sequence=sequence,
                subject="hearth.identity.events.a",
                payload_hash=b"q" * 32,
                index=sequence - 1,
                leaf_hash=_leaf_hash(sequence - 1),
                kind="hearth.identity.v1.DeviceAdded",
                pseudonym="pseudonym-a",
                day="2026-11-30",
            )
            for sequence in (2, 3)
        ]
    )
    log.record_access(
        account_id="auditor-1",
        roles="auditor",
        action="GetTrail",
        pseudonym="pseudonym-a",
        disclosure_id="",
        index=3,
        leaf_hash=_leaf_hash(3),
        day="2026-11-30",
    )
    log.record_checkpoint(size=4, root_hash=log.tree.root(4), note="checkpoint note")
    disclosure = audit.Disclosure(
        "keeper-1",
        "replay-disclosure",
        "pseudonym-a",
        "inquest",
        recipient="HM Senior Coroner",
        legal_basis="Coroners and Justice Act 2009",
        due_at=datetime(2026, 12, 31, tzinfo=UTC),
    )
    disclosure.approve("lead-2", frozenset({"safeguarding_lead"}))
    disclosure.approve("dpo-1", frozenset({"data_protection_officer"}))
    return [log, disclosure]


def safety_aggregates() -> list[Aggregate]:
    moderator = safety.Staff("moderator-1", safety.StaffRole.MODERATOR)
    lead = safety.Staff("lead-1", safety.StaffRole.SAFEGUARDING_LEAD)
    report = safety_report.Report.of_messages(
        organisation_id="org-1",
        reporter_account_id="child-1",
        subject_account_id="adult-1",
        conversation_id="conversation-1",
        message_ids=["m1", "m2"],
        sent_at_ms=[1000, 2000],
        category=safety.Category.GROOMING,
        sealed_content=b"sealed report",
        received_at=T0,
        scanner_assessment={"grooming": 0.9},
    )
    report.triage("high", ["grooming", "an adult and a child"])
    concern = safety_report.Report.concern(
        organisation_id="org-1",
        reporter_account_id="child-2",
        request_id="replay-concern",
        note="I'm worried about my friend",
        sealed_content=b"sealed concern",
        received_at=T0,
    )
    case = safety_case.SafeguardingCase.open(
        organisation_id="org-1",
        subject_account_id="adult-1",
        report_id=str(report.id),
        involved=["child-1"],
        severity=safety.Severity.HIGH,
        deadline=T0 + timedelta(hours=1),
        at=T0,
        category="grooming",
        triage_reasons=["grooming"],
    )
    report.join_case(str(case.id))
    concern.join_case(str(case.id))
    case.join(str(concern.id), ["child-2"], safety.Severity.MEDIUM, T0 + timedelta(days=1))
    case.assign("moderator-1", T0)
    case.add_note(moderator, b"sealed note", T0)
    case.read_content(moderator, str(report.id), T0)
    case.read_notes(moderator, T0)
    case.escalate("lead-1", "lead", "an adult, secrecy", T0, by=moderator)
    suspension = case.take_action(
        lead, safety.ActionKind.SUSPEND, "grooming", T0, accounts=["adult-1"]
    )
    case.lift_action(lead, suspension, "held for the police", T0)
    case.record_outcome(lead, safety.Outcome.REFERRED, "police", T0)
    case.close(lead, "referred", T0)
    case.reopen(lead, "a new report", T0 + timedelta(hours=1), T0)
    subject = safety.SubjectFile("org-1", "adult-1")
    subject.note_report(str(report.id), str(case.id), "grooming", "high", "child-1", T0)
    subject.note_closed(str(case.id), "referred")
    subject.note_reopened(str(case.id))
    subject.note_guardian_notices(2)
    shift = safety_shift.Shift("org-1", "moderator-1", T0)
    shift.hold_concern("c1", str(case.id), T0)
    shift.report_concern("c1", "lead-1", T0)
    shift.end(safety_shift.Handover(("21:40",), ("secret",), "secrecy", "cumulative"), T0)
    settings = safety.OrganisationSettings("org-1")
    settings.set_hours("Europe/London", {"mon": [["09:00", "17:00"]], "sat": [["10:00", "12:00"]]})
    settings.set_deadlines({safety.Severity.HIGH: 45})
    settings.name_lead("lead-1")
    settings.name_cover("cover-1")
    settings.set_guardian_notices({"under_13": True}, ["grooming"])
    settings.set_signposting("Our team reads reports 9 to 5.")
    account = safety_facts.KnownAccount("moderator-1", "moderator")
    account.note_band("18_plus")
    account.note_organisation("org-1")
    account.note_relationship("child-3", "guardian_link")
    device = safety_facts.KnownDevice("device-1", "child-1")
    relay_key = safety_facts.KnownRelayKey("00112233aabbccdd", b"p" * 32)
    signer = safety_packs.PackSigner(b"s" * 32)
    pack_key = safety_packs.PackKeyRecord(signer.key_id, "ed25519", signer.public_key)
    shelf = safety_packs.PackShelf("org-1")
    shelf.publish(signer, {}, {"hash_lists": {}}, timedelta(days=30), T0, "admin-1", "replay-pack")
    return [
        report,
        concern,
        case,
        subject,
        shift,
        settings,
        account,
        device,
        relay_key,
        pack_key,
        shelf,
    ]


AGGREGATES = {
    "identity": identity_aggregates,
    "age": age_aggregates,
    "messaging": messaging_aggregates,
    "audit": audit_aggregates,
    "safety": safety_aggregates,
}


def application(service: str, environ: Mapping[str, str]) -> HearthApplication:
    """An application on the service's own stream, named as the service's application is."""
    cls: type[HearthApplication] = type(
        f"{service.capitalize()}Log", (HearthApplication,), {"name": service}
    )
    return cls(env=dict(environ))


def run(
    environ: Mapping[str, str], services: tuple[str, ...] = SERVICES
) -> dict[str, dict[str, Any]]:
    """Save the services' aggregates; their states by service and aggregate id."""
    states: dict[str, dict[str, Any]] = {}
    for service in services:
        build = AGGREGATES[service]
        app = application(service, environ)
        try:
            aggregates = build()
            app.save(*aggregates)
            states[service] = {str(a.id): state_of(a) for a in aggregates}
        finally:
            app.close()
    return states


def state_of(value: Any) -> Any:
    """A JSON form of an aggregate's state, equal for equal states."""
    if isinstance(value, Aggregate):
        attributes = {k: v for k, v in vars(value).items() if k != "_pending_events"}
        return {"type": type(value).__name__, **state_of(attributes)}
    if isinstance(value, Message):
        return {type(value).__name__: value.SerializeToString(deterministic=True).hex()}
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, bytes | bytearray):
        return {"hex": bytes(value).hex()}
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return {"seconds": value.total_seconds()}
    if isinstance(value, Mapping):
        items = [(json.dumps(state_of(k), sort_keys=True), state_of(v)) for k, v in value.items()]
        return dict(sorted(items))
    if isinstance(value, set | frozenset):
        return {"set": sorted(json.dumps(state_of(v), sort_keys=True) for v in value)}
    if isinstance(value, list | tuple):
        return [state_of(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {type(value).__name__: state_of(vars(value))}
    if hasattr(value, "__dict__"):
        return {type(value).__name__: state_of(vars(value))}
    if hasattr(value, "__slots__"):
        return {type(value).__name__: state_of({k: getattr(value, k) for k in value.__slots__})}
    raise TypeError(f"no JSON form for {type(value).__qualname__}")
