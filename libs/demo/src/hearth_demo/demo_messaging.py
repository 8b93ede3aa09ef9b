"""Demo chapter: end-to-end encrypted messaging, with the contact policy deciding who may talk.

Everyone is a real identity account, registered and logged in by a device key; adults prove
they are 18+ through the age service. A practitioner and a young person of the same
organisation talk; a stranger adult is refused contact with a child, with the reason; a
guardian and their child talk. Then the chapter reads what the server stored, raw: metadata
events, no content, no keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import grpc

from hearth_eventlog import StreamSettings
from hearth_eventlog.published import decode_published
from hearth_eventlog.records import decode_record
from hearth_proto.hearth.age.v1 import types_pb2
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_proto.hearth.messaging.v1 import events_pb2 as messaging_events
from hearth_runtime.admin import invite_org_admin
from hearth_sdk.age import AgeClient, TestIssuingAuthority, TokenWallet
from hearth_sdk.channel import connect
from hearth_sdk.errors import error_info
from hearth_sdk.identity import IdentityClient
from hearth_sdk.messaging import MessagingDevice

from .demo import DemoContext, stream_messages


def chapter(ctx: DemoContext) -> None:
    platform = ctx.platform
    host = platform.hosts.get("messaging")
    if host is None or "identity" not in platform.hosts or "age" not in platform.hosts:
        return
    environ: Mapping[str, str] = {**host.config.environ, "NATS_URL": platform.nats_url}
    address = platform.endpoint("messaging")
    channel = connect(address)
    identity_channel = connect(platform.endpoint("identity"))
    identity = identity_pb2_grpc.IdentityServiceStub(identity_channel)
    devices = platform.data_dir / "devices" / "messaging"
    age_host = platform.hosts["age"]
    key_dir = Path(
        age_host.config.environ.get("HEARTH_AGE_KEY_DIR") or platform.data_dir / "keys" / "age"
    )
    authority = TestIssuingAuthority.from_seed_file(key_dir / "document-authority.seed")

    def person(
        name: str, role: identity_pb2.Role.ValueType, invitation: str = ""
    ) -> IdentityClient:
        client = IdentityClient(identity_channel, devices / f"{name.lower()}.json")
        client.register(role, display_name=name, invitation_code=invitation)
        client.login()
        return client

    def invite(by: tuple[tuple[str, str]], role: identity_pb2.Role.ValueType, org: str = "") -> str:
        request = identity_pb2.InviteStaffRequest(organisation_id=org, role=role)
        return str(identity.InviteStaff(request, metadata=by).invitation_code)

    def attest_adult(client: IdentityClient) -> None:
        """18+ proved with a (test authority's) document; age keeps no birth date."""
        age = AgeClient(
            connect(platform.endpoint("age")),
            client.login(),
            TokenWallet(devices / f"{client.account_id}-age-tokens.json"),
            account_id=client.account_id,
        )
        today = date.today()
        document, signature = authority.issue(today.replace(year=today.year - 38, day=1))
        verification = age.start_verification(types_pb2.METHOD_CLASS_DOCUMENT)
        age.obtain_tokens(verification, age.submit_document(verification, document, signature), 1)
        age.redeem(types_pb2.AGE_BAND_18_PLUS)

    def accept_house_rules(client: IdentityClient) -> None:
        rules = identity.GetHouseRules(
            identity_pb2.GetHouseRulesRequest(), metadata=client.metadata()
        )
        identity.AcceptHouseRules(
            identity_pb2.AcceptHouseRulesRequest(version=rules.version), metadata=client.metadata()
        )

    def settle() -> None:
        """Messaging learns only from events: wait until age -> identity -> messaging caught up."""
        for upstream, follower in (("age", "identity"), ("identity", "messaging")):
            recorder = platform.hosts[upstream].parts.applications[0].recorder
            last = recorder.max_notification_id() or 0
            if last:
                platform.hosts[follower].parts.followers[0].wait_until(last, timeout=20)

    def device(client: IdentityClient) -> MessagingDevice:
        d = MessagingDevice(channel, client.login(), client.account_id, address=address)
        d.publish(10)
        return d

    ctx.say(
        "People, as identity knows them",
        "Messaging decides contact from identity's published events only (roles, age bands, "
        "organisations, vetting, guardian links, consent, house rules). Here everyone registers "
        "and logs in through identity: the first org admin of the Riverside Youth Project "
        "(invited by the operator's `hearth admin invite-org-admin`) invites and vets a "
        "practitioner and adds a young person; a guardian and her child link by both "
        "consenting; the adults prove 18+ with the age service (without a band, an account "
        "counts as the youngest it could be).",
    )
    bootstrap = invite_org_admin(identity_channel, platform.signer, "Riverside Youth Project")
    admin = person("Priya", identity_pb2.ROLE_ORG_ADMIN, bootstrap.code)
    (org,) = admin.account().organisations
    sam = person(
        "Sam",
        identity_pb2.ROLE_PRACTITIONER,
        invite(admin.metadata(), identity_pb2.ROLE_PRACTITIONER, org),
    )
    identity.VetPractitioner(
        identity_pb2.VetPractitionerRequest(organisation_id=org, account_id=sam.account_id),
        metadata=admin.metadata(),
    )
    jo = person("Jo", identity_pb2.ROLE_YOUNG_PERSON)
    identity.AddOrganisationMember(
        identity_pb2.AddOrganisationMemberRequest(organisation_id=org, account_id=jo.account_id),
        metadata=admin.metadata(),
    )
    dana, mia = person("Dana", identity_pb2.ROLE_GUARDIAN), person("Mia", identity_pb2.ROLE_CHILD)
    for who, other in ((dana, mia), (mia, dana)):
        identity.ConsentToGuardianLink(
            identity_pb2.ConsentToGuardianLinkRequest(other_account_id=other.account_id),
            metadata=who.metadata(),
        )
    identity.RecordGuardianConsent(
        identity_pb2.RecordGuardianConsentRequest(child_account_id=mia.account_id, granted=True),
        metadata=dana.metadata(),
    )
    rex = person("Rex", identity_pb2.ROLE_GUARDIAN)
    for adult in (dana, rex):
        attest_adult(adult)
    settle()
    ctx.show("Sam: practitioner, vetted by the Riverside Youth Project's admin")
    ctx.show("Jo: young person, member of the same project (no band attested: counts as 13-15)")
    ctx.show("Mia: child, no band attested (counts as under 13), guardian Dana (linked, consented)")
    ctx.show("Dana and Rex: adults, 18+ attested by the age service; Rex is a stranger")

    sam_phone = device(sam)
    try:
        sam_phone.start_conversation([jo.account_id])
        raise AssertionError("messaging let an account talk before it accepted the house rules")
    except grpc.RpcError as e:
        ctx.show(f"before accepting the house rules: {e.code().name}: {e.details()}")
    for client in (sam, jo, dana, mia, rex):
        accept_house_rules(client)
    settle()
    ctx.show("everyone accepts the house rules in identity (HouseRulesAccepted)")

    ctx.say(
        "A practitioner and a young person of the same organisation talk",
        "Each device publishes an identity key, a signed prekey and one-time prekeys. Sam's "
        "device fetches Jo's bundle (consuming one one-time prekey), runs X3DH, and encrypts "
        "with the Double Ratchet once per recipient device. A franking key rides inside the "
        "ciphertext; the relay stamps the commitment outside it.",
    )
    jo_phone = device(jo)
    talk = sam_phone.start_conversation([jo.account_id]).conversation_id
    ctx.show("contact policy: allowed (vetted_practitioner_same_org)")
    said = [b"Hi Jo, it's Sam from Riverside. How did the interview go?"]
    sam_phone.send(talk, said[0])
    for m in jo_phone.receive(1):
        ctx.show(f"Jo's phone decrypts: {m.body.decode()!r} (frank verified)")
    said.append(b"It went well! They said they'd call on Friday.")
    jo_phone.send(talk, said[1])
    for m in sam_phone.receive(1):
        ctx.show(f"Sam's phone decrypts: {m.body.decode()!r}")

    ctx.say(
        "A stranger adult tries to contact the child",
        "The policy's table: an adult reaches an under-13 only as their own guardian or as a "
        "vetted practitioner of their organisation. The refusal is PERMISSION_DENIED with a "
        "reason code the app can show, and the decision itself is recorded as an event.",
    )
    rex_phone = device(rex)
    try:
        rex_phone.start_conversation([mia.account_id])
        raise AssertionError("the stranger was allowed to contact the child")
    except grpc.RpcError as e:
        info = error_info(e)
        reason = info.reason if info else ""
        ctx.show(f"refused: {e.code().name}, reason code {reason!r}: {e.details()}")

    ctx.say("A guardian and their child talk", "Dana is Mia's linked guardian, with consent.")
    dana_phone, mia_tablet = device(dana), device(mia)
    home = dana_phone.start_conversation([mia.account_id]).conversation_id
    ctx.show("contact policy: allowed (own_guardian)")
    said.append(b"Dinner at six, love you")
    dana_phone.send(home, said[-1])
    said.append(b"ok! can we have pasta")
    for m in mia_tablet.receive(1):
        ctx.show(f"Mia's tablet decrypts: {m.body.decode()!r}")
    mia_tablet.send(home, said[-1])
    for m in dana_phone.receive(1):
        ctx.show(f"Dana's phone decrypts: {m.body.decode()!r}")
    for d in (sam_phone, jo_phone, rex_phone, dana_phone, mia_tablet):
        d.disconnect()

    ctx.say(
        "What the server stored",
        "Read raw from JetStream: messaging's event stream holds metadata only; the mailbox "
        "stream held per-device ciphertext until each device acknowledged it, and is now empty.",
    )
    stream = StreamSettings.from_env(environ, "messaging").stream
    blob = b""
    for _, _, payload in asyncio.run(stream_messages(platform.nats_url, stream)):
        blob += payload
        record = decode_record(payload)
        event = decode_published(record.topic, record.state)
        if isinstance(event, messaging_events.MessageRelayed):
            ctx.show(
                f"MessageRelayed: conversation {event.conversation_id[:8]}, sender device "
                f"{event.sender_device_id[:8]}, {event.recipient_devices} device(s), "
                f"{event.ciphertext_bytes} bytes of ciphertext"
            )
        elif isinstance(event, messaging_events.ContactDecisionRecorded):
            verdict = "allowed" if event.allowed else "refused"
            ctx.show(f"ContactDecisionRecorded: {verdict}, reason {event.reason_code}")
    mailbox = host.config.environ.get("HEARTH_MESSAGING_MAILBOX_STREAM", "HEARTH_MESSAGING_MAILBOX")
    left = asyncio.run(stream_messages(platform.nats_url, mailbox))
    ctx.show(f"mailbox stream {mailbox}: {len(left)} ciphertext(s) waiting (all acknowledged)")
    assert not any(text in blob for text in said)
    ctx.show(
        "The platform learned who talked to whom, when, and how much; it did not learn a word "
        "of what was said, nor any message or franking key."
    )
    channel.close()
    identity_channel.close()
