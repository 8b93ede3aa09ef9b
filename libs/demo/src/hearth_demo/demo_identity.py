"""Demo chapter: devices log in with their keys, a guardian links to an under-13 child and
consents, a practitioner is vetted by their org admin, and personal data is stored sealed."""

from __future__ import annotations

import asyncio
import base64
import json

import grpc

from hearth_eventlog import StreamSettings
from hearth_eventlog.published import decode_published
from hearth_eventlog.records import decode_record
from hearth_proto.hearth.identity.v1 import events_pb2, identity_pb2
from hearth_runtime.admin import invite_org_admin
from hearth_runtime.sessions import SessionVerifier
from hearth_sdk.channel import connect
from hearth_sdk.errors import error_info
from hearth_sdk.identity import IdentityClient

from .demo import DemoContext, stream_messages


def chapter(ctx: DemoContext) -> None:
    platform = ctx.platform
    host = platform.hosts.get("identity")
    if host is None:
        return
    channel = connect(platform.endpoint("identity"))
    devices = platform.data_dir / "devices"
    verifier = SessionVerifier({platform.signer.key_id: platform.signer.public_key})
    stream = StreamSettings.from_env(host.config.environ, "identity").stream

    def device(name: str) -> IdentityClient:
        return IdentityClient(channel, devices / f"{name}.json")

    ctx.say(
        "A guardian and a child each register from their own device and log in",
        "Each app makes an Ed25519 device key and keeps it, with its account id and session, "
        "in a local JSON file. Login: identity sends a single-use challenge that expires in a "
        "minute; the device signs it; identity answers a short-lived session token.",
    )
    guardian, child = device("guardian"), device("child")
    guardian.register(
        identity_pb2.ROLE_GUARDIAN, display_name="Amira Haddad", contact_detail="amira@example.org"
    )
    child.register(identity_pb2.ROLE_CHILD, display_name="Sami Haddad")
    for who, client in (("guardian", guardian), ("child", child)):
        session = verifier.verify(client.login())
        ctx.show(
            f"{who:<8} {client.account_id}  token kid={session.key_id} roles="
            f"{sorted(session.roles)} band={session.age_band} expires in "
            f"{session.expires_at - int(platform.signer.clock())} s"
        )
    ctx.show("the child has no band attested yet, so the token says the youngest: under_13")

    ctx.say(
        "The guardian links to the child, both consent, and the guardian gives parental consent",
        "A guardian link is in force only when both sides consent (or an org admin of the "
        "child's organisation confirms it). Parental consent for an under-13 is a guardian's act.",
    )
    stub = child.stub
    first = stub.ConsentToGuardianLink(
        identity_pb2.ConsentToGuardianLinkRequest(other_account_id=child.account_id),
        metadata=guardian.metadata(),
    )
    ctx.show(f"guardian consents: linked={first.linked}")
    second = stub.ConsentToGuardianLink(
        identity_pb2.ConsentToGuardianLinkRequest(other_account_id=guardian.account_id),
        metadata=child.metadata(),
    )
    ctx.show(f"child consents:    linked={second.linked}")
    stub.RecordGuardianConsent(
        identity_pb2.RecordGuardianConsentRequest(child_account_id=child.account_id, granted=True),
        metadata=guardian.metadata(),
    )
    ctx.show("guardian records parental consent: GuardianConsentRecorded(granted=true)")

    ctx.say(
        "An org admin vets a practitioner of their organisation",
        "The operator, who holds identity's signing key, bootstraps the organisation with "
        "`hearth admin invite-org-admin NAME`: a single-use code for its first admin, who "
        "registers with it and so creates it. The admin invites the practitioner (who joins "
        "with the code) and records the vetting: "
        "who vetted, and when, in a PractitionerVetted event that messaging's contact policy "
        "reads.",
    )
    # Staff join by invitation only. The first org admin is invited by the operator's bootstrap
    # (here signed with the development key), which names the new organisation.
    ctx.show('$ hearth admin invite-org-admin "Riverside Youth Trust"')
    admin_invitation = invite_org_admin(channel, platform.signer, "Riverside Youth Trust")
    ctx.show(f"  (a code, valid until {admin_invitation.expires_at.isoformat()})")
    admin, practitioner = device("org-admin"), device("practitioner")
    admin.register(
        identity_pb2.ROLE_ORG_ADMIN,
        display_name="Jo Whitfield",
        invitation_code=admin_invitation.code,
    )
    (organisation,) = admin.account().organisations
    invitation = stub.InviteStaff(
        identity_pb2.InviteStaffRequest(
            organisation_id=organisation, role=identity_pb2.ROLE_PRACTITIONER
        ),
        metadata=admin.metadata(),
    )
    ctx.show(
        "the operator invites the org admin; the org admin invites the practitioner "
        "(a single-use code: identity records only its hash)"
    )
    practitioner.register(
        identity_pb2.ROLE_PRACTITIONER,
        display_name="Dr Lena Ortiz",
        invitation_code=invitation.invitation_code,
    )
    vetted = stub.VetPractitioner(
        identity_pb2.VetPractitionerRequest(
            organisation_id=organisation, account_id=practitioner.account_id
        ),
        metadata=admin.metadata(),
    )
    ctx.show(f"organisation {organisation} (Riverside Youth Trust)")
    ctx.show(
        f"practitioner {practitioner.account_id} vetted by {admin.account_id} "
        f"at {vetted.vetted_at.ToDatetime().isoformat(timespec='seconds')}Z"
    )
    session = verifier.verify(practitioner.login())
    ctx.show(
        f"the practitioner's next session names the organisation: {set(session.organisations)}"
    )

    ctx.say(
        "What identity stored, read raw from JetStream",
        "Names and contact details are sealed (XSalsa20-Poly1305) under a key per person, kept in "
        "a JetStream key-value bucket; the events hold only ciphertext. Erasing a person destroys "
        "their key, so the append-only log keeps nothing readable about them.",
    )
    messages = asyncio.run(stream_messages(platform.nats_url, stream))
    names = ("Amira Haddad", "amira@example.org", "Sami Haddad", "Dr Lena Ortiz", "Jo Whitfield")
    plain = [n for n in names if any(n.encode() in payload for _, _, payload in messages)]
    counts: dict[str, int] = {}
    sample = b""
    for _seq, subject, payload in messages:
        if ".events." not in subject:
            continue  # the follower's position in the age stream, not an event
        record = decode_record(payload)
        name = record.topic.rsplit(".", 1)[-1]
        counts[name] = counts.get(name, 0) + 1
        message = decode_published(record.topic, record.state)
        if isinstance(message, events_pb2.PersonalDataRecorded) and not sample:
            sample = message.sealed
    shown = base64.b64encode(sample).decode()[:48]
    ctx.show(f"PersonalDataRecorded.sealed = {shown}... ({len(sample)} bytes of ciphertext)")
    ctx.show("events: " + ", ".join(f"{topic} x{n}" for topic, n in sorted(counts.items())))
    ctx.show(f"names or contact details in the clear anywhere in the stream: {plain or 'none'}")
    exported = stub.ExportMyData(identity_pb2.ExportMyDataRequest(), metadata=guardian.metadata())
    document = json.loads(exported.document)
    ctx.show(
        f"the guardian's own subject access export opens theirs: "
        f"{document['account']['personal_data']} ({len(document['events'])} events about them)"
    )
    # The session in hand has not expired, but no service honours it once the account is
    # erased: identity at once, the others as their followers hear of it.
    erased_session = practitioner.metadata()
    stub.EraseAccount(identity_pb2.EraseAccountRequest(), metadata=erased_session)
    try:
        stub.ExportMyData(identity_pb2.ExportMyDataRequest(), metadata=erased_session)
        refused = "not refused"
    except grpc.RpcError as e:
        info = error_info(e)
        refused = f"{e.code().name} ({info.reason if info else 'no reason'})"
    ctx.show(
        f"the practitioner asks to be erased: AccountErased recorded, their key destroyed; "
        f"their unexpired session is refused at once: {refused}"
    )
    ctx.show(
        "identity learned: roles, device public keys, organisation membership, who vetted whom "
        "and when, who is linked to whom and their consents. It did not learn a birth date (the "
        "band comes from the age service), and it cannot read a name once its key is destroyed."
    )
