"""Demo chapter: a recorded practitioner conversation, and a coroner's request for it.

A youth worker and a young person talk in a conversation their organisation records (both
are told before the first message); the organisation's record keeper keeps each message,
sealed under a key only it holds, with its digest in the log. Later a coroner asks; the
safeguarding lead and the data protection officer approve; the keeper builds the evidence
package, which `hearth-audit verify` checks offline, and a tampered copy fails.
"""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path

import grpc

from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_proto.hearth.messaging.v1 import messaging_pb2
from hearth_runtime.admin import invite_org_admin
from hearth_sdk.channel import connect
from hearth_sdk.errors import error_info
from hearth_sdk.identity import IdentityClient
from hearth_sdk.keeper import RecordKeeper, RecordsRequest
from hearth_sdk.messaging import MessagingDevice

from .demo import DemoContext
from .demo_audit import hearth_audit


def chapter(ctx: DemoContext) -> None:
    platform = ctx.platform
    channel = connect(platform.endpoint("identity"))
    identity = identity_pb2_grpc.IdentityServiceStub(channel)
    here = platform.data_dir / "devices" / "records"

    def person(name: str, role: identity_pb2.Role.ValueType, code: str = "") -> IdentityClient:
        client = IdentityClient(channel, here / f"{name.lower()}.json")
        client.register(role, display_name=name, invitation_code=code)
        client.login()
        if role != identity_pb2.ROLE_RECORD_KEEPER:
            rules = identity.GetHouseRules(
                identity_pb2.GetHouseRulesRequest(), metadata=client.metadata()
            )
            identity.AcceptHouseRules(
                identity_pb2.AcceptHouseRulesRequest(version=rules.version),
                metadata=client.metadata(),
            )
        return client

    ctx.say(
        "An organisation registers its record keeper",
        "Riverside Youth Service's admin invites a record keeper like any staff member. The "
        "keeper is a client the organisation runs on its own machine (hearth_sdk.keeper), with "
        "its own device keys the operator never holds; messaging learns from identity's events "
        "that the organisation has one.",
    )
    admin = person(
        "Priya",
        identity_pb2.ROLE_ORG_ADMIN,
        invite_org_admin(channel, platform.signer, "Riverside Youth Service").code,
    )
    (org,) = admin.account().organisations

    def staff(name: str, role: identity_pb2.Role.ValueType) -> IdentityClient:
        code = identity.InviteStaff(
            identity_pb2.InviteStaffRequest(organisation_id=org, role=role),
            metadata=admin.metadata(),
        ).invitation_code
        return person(name, role, code)

    keeper_account = staff("Keeper", identity_pb2.ROLE_RECORD_KEEPER)
    sam = staff("Sam", identity_pb2.ROLE_PRACTITIONER)
    lead = staff("Asha", identity_pb2.ROLE_SAFEGUARDING_LEAD)
    dpo = staff("Tom", identity_pb2.ROLE_DATA_PROTECTION_OFFICER)
    jo = person("Jo", identity_pb2.ROLE_YOUNG_PERSON)
    identity.VetPractitioner(
        identity_pb2.VetPractitionerRequest(organisation_id=org, account_id=sam.account_id),
        metadata=admin.metadata(),
    )
    identity.AddOrganisationMember(
        identity_pb2.AddOrganisationMemberRequest(organisation_id=org, account_id=jo.account_id),
        metadata=admin.metadata(),
    )
    keeper = RecordKeeper(
        connect(platform.endpoint("messaging")),
        keeper_account.session,
        keeper_account.account_id,
        org,
        audit_channel=connect(platform.endpoint("audit")),
        state_dir=Path(tempfile.mkdtemp(prefix="riverside-keeper-")),  # the organisation's machine
        address=platform.endpoint("messaging"),
    )
    keeper.publish()

    def device(client: IdentityClient) -> MessagingDevice:
        d = MessagingDevice(
            connect(platform.endpoint("messaging")),
            client.login(),
            client.account_id,
            address=platform.endpoint("messaging"),
        )
        d.publish(5)
        return d

    worker, young = device(sam), device(jo)
    settle(ctx, ("identity", "messaging"))

    ctx.say(
        "A practitioner-young person conversation without the keeper is refused",
        "The contact policy allows a vetted practitioner to talk to a young person of their "
        "organisation; because the organisation records such conversations, messaging refuses "
        "one that leaves the keeper out, and says who to add.",
    )
    try:
        worker.start_conversation([jo.account_id])
    except grpc.RpcError as e:
        info = error_info(e)
        keeper_id = info.metadata["keeper_account_id"] if info else ""
        ctx.show(f"{e.code().name} {info.reason if info else ''}: add keeper {keeper_id}")
    conversation = worker.start_conversation([jo.account_id, keeper_account.account_id])

    ctx.say("Both people are told, before the first message, that it is recorded and by whom")
    for who, d in (("Sam", worker), ("Jo", young)):
        seen = d.stub.GetConversation(
            messaging_pb2.GetConversationRequest(conversation_id=conversation.conversation_id),
            metadata=d.metadata,
        ).conversation
        ctx.show(f"{who} sees: {seen.recording.notice}")
    for reader in seen.recording.readers:
        ctx.show(f"  readable by {reader}")

    ctx.say(
        "They talk; the keeper receives each message end to end and keeps it",
        "Every message goes to the keeper's device too (the relay refuses one that does not). "
        "The keeper seals each, with its franking proof, under Jo's own record key, and sends "
        "messaging only the sealed bytes and the record's digest: the log keeps the digest, "
        "audit witnesses it.",
    )
    worker.send(conversation.conversation_id, b"Hi Jo, it's Sam. How was this week?")
    young.receive(1)
    young.send(conversation.conversation_id, b"Not good. I don't want to go home.")
    worker.receive(1)
    kept = keeper.keep_new(2, timeout=10)
    ctx.show(f"records kept: {len(kept)}")
    settle(ctx, ("messaging", "audit"))

    ctx.say(
        "Jo asks for her own records (subject access)",
        "Messaging checks Jo may ask (her own book) and records the request, due in 30 days; "
        "the keeper answers it sealed to a key Jo's app made for it. The read is an event.",
    )
    mine = RecordsRequest(connect(platform.endpoint("messaging")), jo.login())
    mine.ask(org, jo.account_id)
    keeper.answer_requests()
    answered = mine.answer() or []
    ctx.show(f"Jo receives {len(answered)} record(s): {answered[-1].body.decode()!r}")

    ctx.say(
        "Later, a coroner asks",
        "The keeper records the request in audit: who asks, the legal basis, the reason. It is "
        "due in 30 days, as a subject access request is; the lead and the data protection "
        "officer must both approve before anything is decrypted.",
    )
    coroner = "HM Senior Coroner for the Riverside area"
    basis = "Coroners and Justice Act 2009, Schedule 5, paragraph 1"
    disclosure = keeper.request_disclosure(
        jo.account_id, recipient=coroner, legal_basis=basis, reason="inquest touching a death"
    )
    ctx.show(f"request {disclosure.disclosure_id}, due {disclosure.due_at:%Y-%m-%d}")
    try:
        keeper.disclosure_package(disclosure, jo.account_id)
    except grpc.RpcError as e:
        ctx.show(f"before approval: {e.code().name}: {e.details()}")
    audit = audit_pb2_grpc.AuditServiceStub(connect(platform.endpoint("audit")))
    approve = audit_pb2.ApproveDisclosureRequest(
        request_id="coroner", disclosure_id=disclosure.disclosure_id
    )
    for name, client in (("lead", lead), ("DPO", dpo)):
        answer = audit.ApproveDisclosure(approve, metadata=client.metadata())
        ctx.show(
            f"{name} approves: {list(answer.approved_by_roles)}, approved={answer.approved}, "
            f"{answer.days_left} days left"
        )
    package = keeper.disclosure_package(
        disclosure, jo.account_id, recipient=coroner, legal_basis=basis
    )
    path = Path(platform.data_dir) / "records-package.json"
    path.write_text(json.dumps(package, indent=1))
    ctx.show(f"package: {path.name}, {len(package['records'])} record(s)")

    ctx.say(
        "The coroner verifies the package offline with hearth-audit",
        "The audit bundle proves every event of Jo's record book is in the signed log and that "
        "there are no more; each record's digest must be one the log holds, none added, "
        "altered or left out; each franking proves what its sender sent.",
    )
    ok = hearth_audit("verify", str(path))
    for line in ok.stdout.splitlines():
        ctx.show(f"  {line}")
    if ok.returncode != 0:
        raise RuntimeError("the genuine package did not verify")
    package["records"][1]["body"] = base64.b64encode(b"Everything is fine.").decode()
    tampered = path.with_name("records-package-tampered.json")
    tampered.write_text(json.dumps(package))
    failed = hearth_audit("verify", str(tampered))
    ctx.show(f"tampered: {failed.stdout.strip()}  (exit {failed.returncode})")
    if failed.returncode == 0:
        raise RuntimeError("the tampered package verified")

    ctx.show("Who can read what:")
    for line in WHO_READS:
        ctx.show(f"  {line}")
    for d in (worker, young):
        d.disconnect()
    keeper.close()


WHO_READS = (
    "operator: ciphertext of the records and their digests, never a message or a record key",
    "organisation (its keeper): every message of its recorded conversations, under its keys",
    "practitioner: the records of conversations they were in, through the keeper",
    "young person: their own records, by a subject access request the keeper answers",
    "lead and DPO: approve a disclosure; neither alone can release anything",
    "coroner: only the records in the approved scope, with proof nothing is missing",
)


def settle(ctx: DemoContext, pair: tuple[str, str]) -> None:
    """Wait until `pair[1]` has taken in `pair[0]`'s events so far."""
    upstream, follower = pair
    hosts = ctx.platform.hosts
    last = hosts[upstream].parts.applications[0].recorder.max_notification_id() or 0
    for f in hosts[follower].parts.followers:
        if f.upstream == upstream and last:
            f.wait_until(last, timeout=30)
