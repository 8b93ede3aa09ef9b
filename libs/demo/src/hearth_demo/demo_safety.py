"""Demo chapter: a child reports an adult with franked context, and the report changes things.

Ava (a young person) is added to the Northfield Youth Club by its admin; Rob, a vetted
practitioner of the club, writes to her. Her device gathers the message she reports with the
franked messages before it and sends them to the safety service, which verifies every one
against the relay keys in messaging's stream. A case opens at high severity and goes to the
moderator on shift; the moderator escalates to the safeguarding lead, who suspends Rob and
refers to the police, and messaging refuses Rob's next message. Outside the club's moderation
hours Ava's app shows Childline and 999. The regulator's figures come from audit, and so
does the case's evidence bundle: every step of its handling, verified offline with
`hearth-audit verify`; a tampered copy fails.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import grpc

from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_proto.hearth.safety.v1 import safety_pb2 as pb
from hearth_proto.hearth.safety.v1 import safety_pb2_grpc
from hearth_runtime.admin import invite, invite_org_admin
from hearth_sdk.channel import connect
from hearth_sdk.errors import error_info
from hearth_sdk.identity import IdentityClient
from hearth_sdk.messaging import MessagingDevice
from hearth_sdk.safety_report import gather_report, send_report

from .demo import DemoContext
from .demo_audit import hearth_audit

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def chapter(ctx: DemoContext) -> None:
    platform = ctx.platform
    if not {"identity", "messaging", "safety"} <= set(platform.hosts):
        return
    identity_channel = connect(platform.endpoint("identity"))
    identity = identity_pb2_grpc.IdentityServiceStub(identity_channel)
    safety_channel = connect(platform.endpoint("safety"))
    safety = safety_pb2_grpc.SafetyServiceStub(safety_channel)
    devices = platform.data_dir / "devices" / "safety"

    def person(name: str, role: identity_pb2.Role.ValueType, code: str = "") -> IdentityClient:
        client = IdentityClient(identity_channel, devices / f"{name.lower()}.json")
        client.register(role, display_name=name, invitation_code=code)
        client.login()
        rules = identity.GetHouseRules(
            identity_pb2.GetHouseRulesRequest(), metadata=client.metadata()
        )
        identity.AcceptHouseRules(
            identity_pb2.AcceptHouseRulesRequest(version=rules.version), metadata=client.metadata()
        )
        return client

    def settle() -> None:
        """Messaging and safety learn only from events: wait until they caught up."""
        followers = [("identity", "messaging", 0), ("identity", "safety", 0)]
        followers.append(("messaging", "safety", 1))
        for upstream, follower, i in followers:
            last = platform.hosts[upstream].parts.applications[0].recorder.max_notification_id()
            if last:
                platform.hosts[follower].parts.followers[i].wait_until(last, timeout=20)

    def rid() -> str:
        return str(uuid.uuid4())

    ctx.say(
        "Safety: the club's safety team",
        "The Northfield Youth Club's admin invites a moderator and a safeguarding lead, names "
        "the lead in the safety service, and adds Ava (a young person) to the club; Rob, a "
        "practitioner of the club, is vetted, so the contact policy lets him write to her.",
    )
    admin = person(
        "Morgan",
        identity_pb2.ROLE_ORG_ADMIN,
        invite_org_admin(identity_channel, platform.signer, "Northfield Youth Club").code,
    )
    (org,) = admin.account().organisations

    def invited(role: identity_pb2.Role.ValueType) -> str:
        request = identity_pb2.InviteStaffRequest(organisation_id=org, role=role)
        return str(identity.InviteStaff(request, metadata=admin.metadata()).invitation_code)

    sam = person("Sam", identity_pb2.ROLE_MODERATOR, invited(identity_pb2.ROLE_MODERATOR))
    lee = person(
        "Lee", identity_pb2.ROLE_SAFEGUARDING_LEAD, invited(identity_pb2.ROLE_SAFEGUARDING_LEAD)
    )
    rob = person("Rob", identity_pb2.ROLE_PRACTITIONER, invited(identity_pb2.ROLE_PRACTITIONER))
    identity.VetPractitioner(
        identity_pb2.VetPractitionerRequest(organisation_id=org, account_id=rob.account_id),
        metadata=admin.metadata(),
    )
    ava = person("Ava", identity_pb2.ROLE_YOUNG_PERSON)
    identity.AddOrganisationMember(
        identity_pb2.AddOrganisationMemberRequest(organisation_id=org, account_id=ava.account_id),
        metadata=admin.metadata(),
    )
    safety.NameSafeguardingLead(
        pb.NameSafeguardingLeadRequest(
            request_id=rid(), organisation_id=org, lead_account_id=lee.account_id
        ),
        metadata=admin.metadata(),
    )
    settle()
    shift = safety.StartShift(
        pb.StartShiftRequest(request_id=rid(), organisation_id=org), metadata=sam.metadata()
    )
    ctx.show(f"moderator Sam on shift; safeguarding lead Lee; Ava {ava.account_id[:8]}...")

    ctx.say(
        "Ava reports Rob, with the franked context",
        "Rob's messages reach Ava end to end encrypted; her device keeps each one's franking. "
        "She reports the last: her device sends it with the messages before it, and the safety "
        "service verifies every stamp with the relay keys messaging's stream records.",
    )
    rob_phone = MessagingDevice(
        connect(platform.endpoint("messaging")), rob.login(), rob.account_id
    )
    rob_phone.publish(10)
    ava_phone = MessagingDevice(
        connect(platform.endpoint("messaging")), ava.login(), ava.account_id
    )
    ava_phone.publish(10)
    talk = rob_phone.start_conversation([ava.account_id]).conversation_id
    said = [
        "you're so mature for your age, not like the others at club",
        "this is just between us ok? don't tell the other leaders",
        "delete these messages after you read them",
    ]
    for text in said:
        rob_phone.send(talk, text.encode())
    received = ava_phone.receive(len(said))
    settle()
    evidence = gather_report(ava.account_id, received[-1].message_id, received, category="grooming")
    filed = send_report(safety_channel, ava.login(), evidence, note="he wants me to keep secrets")
    ctx.show(
        f"report verified: {1 + len(evidence.context)} franked messages; case "
        f"{filed.case_id[:8]}... severity {filed.severity}"
    )
    ctx.show(f"Ava is told: {filed.who_will_see_it[:96]}...")
    case = safety.GetCase(pb.GetCaseRequest(case_id=filed.case_id), metadata=sam.metadata())
    ctx.show(f"assigned to: {'Sam' if case.assigned_to == sam.account_id else case.assigned_to}")

    ctx.say(
        "The moderator escalates; the lead suspends and refers",
        "A moderator may warn or restrict; suspending and referring need the safeguarding lead.",
    )
    try:
        safety.TakeAction(
            pb.TakeActionRequest(
                request_id=rid(),
                case_id=filed.case_id,
                kind="suspend",
                account_ids=[rob.account_id],
                reason="grooming",
            ),
            metadata=sam.metadata(),
        )
    except grpc.RpcError as e:
        info = error_info(e)
        ctx.show(f"Sam tries to suspend: {e.code().name} {info.reason if info else ''}")
    escalated = safety.EscalateCase(
        pb.EscalateCaseRequest(request_id=rid(), case_id=filed.case_id, reason="adult grooming"),
        metadata=sam.metadata(),
    )
    ctx.show(f"escalated to the {escalated.as_role}: Lee")
    for kind, referral in (("suspend", ""), ("refer", "police")):
        safety.TakeAction(
            pb.TakeActionRequest(
                request_id=rid(),
                case_id=filed.case_id,
                kind=kind,
                referral=referral,
                account_ids=[rob.account_id],
                reason="grooming a young person of the club",
            ),
            metadata=lee.metadata(),
        )
    ctx.show("Lee: suspend Rob; refer to the police")
    safety.RecordOutcome(
        pb.RecordOutcomeRequest(
            request_id=rid(), case_id=filed.case_id, outcome="referred", reason="police have it"
        ),
        metadata=lee.metadata(),
    )
    safety.CloseCase(
        pb.CloseCaseRequest(
            request_id=rid(), case_id=filed.case_id, reason="referred; Rob stays suspended"
        ),
        metadata=lee.metadata(),
    )
    ctx.show("Lee: outcome referred; case closed")

    refusal: list[str] = []

    def refused() -> bool:
        try:
            rob_phone.send(talk, b"why aren't you answering")
        except grpc.RpcError as e:
            info = error_info(e)
            refusal[:] = [f"{e.code().name} {info.reason if info else ''}"]
            return True
        return False

    ctx.wait_until(refused, timeout=20)
    ctx.show(f"messaging refuses Rob's next message: {refusal[0]}")
    safety.EndShift(
        pb.EndShiftRequest(
            request_id=rid(),
            shift_id=shift.shift_id,
            pattern="isolated",
            risks="adult asking a young person for secrecy",
        ),
        metadata=sam.metadata(),
    )

    ctx.say(
        "Outside moderation hours, Ava's app signposts help",
        "The club moderates one day a week; the rest of the time the app says so, plainly.",
    )
    evening = DAYS[(datetime.now(UTC).weekday() + 3) % 7]
    safety.UpdateOrganisationSettings(
        pb.UpdateOrganisationSettingsRequest(
            request_id=rid(),
            organisation_id=org,
            time_zone="Europe/London",
            schedule={evening: "08:00-22:00"},
        ),
        metadata=admin.metadata(),
    )
    status = safety.GetSupportStatus(pb.GetSupportStatusRequest(), metadata=ava.metadata())
    ctx.show(f"reports read now: {status.open_now}")
    ctx.show(f"Ava's app shows: {status.message}")

    if "audit" not in platform.hosts:
        return
    ctx.say(
        "The regulator's figures",
        "Audit follows safety's stream: reports by category, referrals, time to first action.",
    )
    auditor = person(
        "Regulator",
        identity_pb2.ROLE_AUDITOR,
        invite(identity_channel, platform.signer, identity_pb2.ROLE_AUDITOR).code,
    )
    audit = audit_pb2_grpc.AuditServiceStub(connect(platform.endpoint("audit")))
    answer: list[audit_pb2.GetTransparencyFiguresResponse] = []

    def counted() -> bool:
        figures = audit.GetTransparencyFigures(
            audit_pb2.GetTransparencyFiguresRequest(), metadata=auditor.metadata()
        )
        answer[:] = [figures]
        return any(c.kind.endswith("referral=police") for c in figures.counts)

    ctx.wait_until(counted, timeout=20)
    for c in answer[0].counts:
        if c.stream == "safety" and "/" in c.kind:
            ctx.show(f"{c.kind.removeprefix('hearth.safety.v1.')}: {c.count}")
    for d in answer[0].durations:
        if d.stream == "safety":
            ctx.show(f"time to first action: median {d.median_ms} ms, p90 {d.p90_ms} ms")

    ctx.say(
        "The case's evidence bundle verifies offline",
        "The case is a subject of audit's log: its trail holds every step (the report received "
        "and triaged, assigned, escalated, each action, the outcome, the closure). The "
        "regulator asks for it, Lee and the club's data protection officer approve, and "
        "hearth-audit checks the bundle with no access to the platform.",
    )
    dpo = person(
        "Dana",
        identity_pb2.ROLE_DATA_PROTECTION_OFFICER,
        invited(identity_pb2.ROLE_DATA_PROTECTION_OFFICER),
    )
    path = case_bundle(ctx, audit, filed.case_id, auditor, (lee, dpo))
    ok = hearth_audit("verify", str(path))
    for line in ok.stdout.splitlines():
        if not line.startswith("  kind") or "hearth.safety.v1.Case" in line:
            ctx.show(f"  {line}")
    if ok.returncode != 0:
        raise RuntimeError("the case's bundle did not verify")
    bundle = json.loads(path.read_text())
    bundle["events"] = [
        e for e in bundle["events"] if b"CaseEscalated" not in base64.b64decode(e["leaf"])
    ]
    tampered = path.with_name("case-bundle-tampered.json")
    tampered.write_text(json.dumps(bundle))
    failed = hearth_audit("verify", str(tampered))
    ctx.show(f"without the escalation: {failed.stdout.strip()}  (exit {failed.returncode})")
    if failed.returncode == 0:
        raise RuntimeError("the case's bundle verified with a step taken out")


def case_bundle(
    ctx: DemoContext,
    audit: audit_pb2_grpc.AuditServiceStub,
    case_id: str,
    regulator: IdentityClient,
    approvers: tuple[IdentityClient, IdentityClient],
) -> Path:
    """The case's trail disclosed with two roles' approval, exported once a checkpoint covers
    its closure; written beside the platform's data."""

    def closed() -> bool:
        try:
            trail = audit.GetTrail(
                audit_pb2.GetTrailRequest(subject_id=case_id), metadata=regulator.metadata()
            )
        except grpc.RpcError:
            return False
        return "hearth.safety.v1.CaseClosed" in {e.kind for e in trail.entries}

    ctx.wait_until(closed, timeout=30)
    trail = audit.GetTrail(
        audit_pb2.GetTrailRequest(subject_id=case_id), metadata=regulator.metadata()
    )
    last = max(e.index for e in trail.entries)
    disclosure_id = audit.RequestDisclosure(
        audit_pb2.RequestDisclosureRequest(
            request_id=f"case-{case_id}",
            pseudonym=trail.pseudonym,
            reason="inspection of the club's case handling",
        ),
        metadata=regulator.metadata(),
    ).disclosure_id
    for approver in approvers:
        audit.ApproveDisclosure(
            audit_pb2.ApproveDisclosureRequest(request_id="ok", disclosure_id=disclosure_id),
            metadata=approver.metadata(),
        )

    def covered() -> bool:
        signed = audit.GetCheckpoint(
            audit_pb2.GetCheckpointRequest(), metadata=regulator.metadata()
        )
        return bool(signed.size > last)

    ctx.wait_until(covered, timeout=30)
    bundle = audit.ExportBundle(
        audit_pb2.ExportBundleRequest(disclosure_id=disclosure_id), metadata=regulator.metadata()
    ).bundle
    path = Path(ctx.platform.data_dir) / "case-bundle.json"
    path.write_bytes(bundle)
    ctx.show(
        f"$ hearth-audit verify {path.name}   ({len(trail.entries)} steps of case {case_id[:8]}...)"
    )
    return path
