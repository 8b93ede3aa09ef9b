"""Demo chapter: end-to-end encrypted messaging, with the contact policy deciding who may talk.

A practitioner and a young person of the same organisation talk; a stranger adult is refused
contact with a child, with the reason; a guardian and their child talk. Then the chapter reads
what the server stored, raw: metadata events, no content, no keys.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping

import grpc
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import Environment
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from hearth_eventlog import StreamSettings
from hearth_eventlog.published import decode_published
from hearth_eventlog.records import decode_record
from hearth_proto.hearth.age.v1 import types_pb2
from hearth_proto.hearth.identity.v1 import events_pb2 as identity_events
from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_proto.hearth.messaging.v1 import events_pb2 as messaging_events
from hearth_runtime.application import HearthApplication

from .channel import connect
from .demo import DemoContext, stream_messages
from .messaging import MessagingDevice


class _IdentityEvents(HearthApplication):
    """Writes identity's published events (organisation membership, vetting, guardian links)
    to identity's stream, for the facts identity's own RPCs do not publish yet."""

    name = "identity"

    def publish(self, message: Message, originator: uuid.UUID | None = None) -> int:
        stamp = Timestamp()
        stamp.GetCurrentTime()
        message.timestamp.CopyFrom(stamp)  # type: ignore[attr-defined]
        stored = StoredEvent(
            originator_id=originator or uuid.uuid4(),
            originator_version=1,
            topic=message.DESCRIPTOR.full_name,
            state=message.SerializeToString(),
        )
        return max(self.recorder.insert_events([stored]) or [0])


def chapter(ctx: DemoContext) -> None:
    platform = ctx.platform
    host = platform.hosts.get("messaging")
    if host is None:
        return
    environ: Mapping[str, str] = {**host.config.environ, "NATS_URL": platform.nats_url}
    identity = _IdentityEvents(env=dict(environ))
    address = platform.endpoint("messaging")
    channel = connect(address)
    follower = host.parts.followers[0]
    last = 0

    def account(
        role: identity_pb2.Role.ValueType,
        band: types_pb2.AgeBand.ValueType = types_pb2.AGE_BAND_UNSPECIFIED,
    ) -> str:
        nonlocal last
        account_id = uuid.uuid4()
        last = identity.publish(
            identity_events.AccountRegistered(originator_topic="identity", role=role), account_id
        )
        if band:
            last = identity.publish(
                identity_events.AccountAgeBandSet(account_id=str(account_id), band=band)
            )
        last = identity.publish(  # messaging lets only accounts that accepted them talk
            identity_events.HouseRulesAccepted(account_id=str(account_id), version=1)
        )
        return str(account_id)

    def fact(message: Message) -> None:
        nonlocal last
        last = identity.publish(message)

    def device(account_id: str, role: str) -> MessagingDevice:
        token = platform.signer.issue(account_id, {role})
        d = MessagingDevice(channel, token, account_id, address=address)
        d.publish(10)
        return d

    ctx.say(
        "People, as identity knows them",
        "Messaging decides contact from identity's published events only (roles, age bands, "
        "organisations, vetting, guardian links, consent). Identity's RPCs for organisations and "
        "guardian links are being built alongside this chapter, so their events are written to "
        "identity's stream here directly, in identity's own schema.",
    )
    org = str(uuid.uuid4())
    sam = account(identity_pb2.ROLE_PRACTITIONER, types_pb2.AGE_BAND_18_PLUS)
    jo = account(identity_pb2.ROLE_YOUNG_PERSON, types_pb2.AGE_BAND_16_17)
    mia = account(identity_pb2.ROLE_CHILD)  # no band attested: the youngest band
    dana = account(identity_pb2.ROLE_GUARDIAN, types_pb2.AGE_BAND_18_PLUS)
    rex = account(identity_pb2.ROLE_GUARDIAN, types_pb2.AGE_BAND_18_PLUS)
    for member in (sam, jo, mia):
        fact(identity_events.OrganisationMemberAdded(organisation_id=org, account_id=member))
    fact(identity_events.PractitionerVetted(organisation_id=org, account_id=sam))
    fact(identity_events.GuardianLinked(guardian_account_id=dana, child_account_id=mia))
    fact(
        identity_events.GuardianConsentRecorded(
            guardian_account_id=dana, child_account_id=mia, granted=True
        )
    )
    follower.wait_until(last, timeout=20)
    ctx.show("Sam: practitioner, vetted by the Riverside Youth Project")
    ctx.show("Jo: young person, 16-17, member of the same project")
    ctx.show("Mia: child, no age band attested (counts as under 13), guardian Dana (consented)")
    ctx.show("Rex: an adult stranger")

    ctx.say(
        "A practitioner and a young person of the same organisation talk",
        "Each device publishes an identity key, a signed prekey and one-time prekeys. Sam's "
        "device fetches Jo's bundle (consuming one one-time prekey), runs X3DH, and encrypts "
        "with the Double Ratchet once per recipient device. A franking key rides inside the "
        "ciphertext; the relay stamps the commitment outside it.",
    )
    sam_phone, jo_phone = device(sam, "practitioner"), device(jo, "young_person")
    talk = sam_phone.start_conversation([jo]).conversation_id
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
    rex_phone = device(rex, "guardian")
    try:
        rex_phone.start_conversation([mia])
        raise AssertionError("the stranger was allowed to contact the child")
    except grpc.RpcError as e:
        reason = dict(e.trailing_metadata() or ()).get("hearth-reason-code", "")
        ctx.show(f"refused: {e.code().name}, reason code {reason!r}: {e.details()}")

    ctx.say("A guardian and their child talk", "Dana is Mia's linked guardian, with consent.")
    dana_phone, mia_tablet = device(dana, "guardian"), device(mia, "child")
    home = dana_phone.start_conversation([mia]).conversation_id
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
    stream = StreamSettings.from_env(Environment("messaging", dict(environ))).stream
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
    identity.close()
