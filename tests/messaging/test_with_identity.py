"""End to end with the real identity and age services: accounts registered and logged in
through identity's RPCs, adults' bands attested through age (an account with no attested band
counts as the youngest it could be), and messaging's contact policy deciding on identity's own
published events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import grpc
import pytest

from hearth_proto.hearth.age.v1 import types_pb2
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.admin import operator_metadata
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_sdk.age import AgeClient, TestIssuingAuthority, TokenWallet
from hearth_sdk.channel import connect
from hearth_sdk.errors import error_info
from hearth_sdk.identity import IdentityClient
from hearth_sdk.messaging import MessagingDevice
from tests.conftest import unique_name
from tests.messaging.conftest import messaging_environ


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    prefix = unique_name("mi")
    environ = {
        **messaging_environ(prefix),
        "HEARTH_AGE_STREAM": f"{prefix}_AGE".upper(),
        "HEARTH_AGE_SUBJECT_PREFIX": f"{prefix}.age",
        "HEARTH_IDENTITY_HOUSE_RULES_VERSION": "2",  # messaging takes identity's version
    }
    platform = Platform(
        tmp_path_factory.mktemp("with-identity"),
        services=["identity", "age", "messaging"],
        environ=environ,
        nats_url=nats_server.url,
    ).start()
    yield platform
    platform.stop()


class World:
    """People on the platform, each an identity client with its own state file."""

    def __init__(self, platform: Platform, directory: Path) -> None:
        self.platform = platform
        self.directory = directory
        self.identity_channel = connect(platform.endpoint("identity"))
        self.messaging_channel = connect(platform.endpoint("messaging"))
        self.stub = identity_pb2_grpc.IdentityServiceStub(self.identity_channel)

    def person(
        self, name: str, role: identity_pb2.Role.ValueType, invitation: str = ""
    ) -> IdentityClient:
        client = IdentityClient(self.identity_channel, self.directory / f"{name}.json")
        client.register(role, display_name=name, invitation_code=invitation)
        client.login()
        return client

    def invite(
        self, by: tuple[tuple[str, str]], role: identity_pb2.Role.ValueType, org: str = ""
    ) -> str:
        request = identity_pb2.InviteStaffRequest(organisation_id=org, role=role)
        return str(self.stub.InviteStaff(request, metadata=by).invitation_code)

    def accept_house_rules(self, client: IdentityClient) -> None:
        rules = self.stub.GetHouseRules(
            identity_pb2.GetHouseRulesRequest(), metadata=client.metadata()
        )
        self.stub.AcceptHouseRules(
            identity_pb2.AcceptHouseRulesRequest(version=rules.version), metadata=client.metadata()
        )

    def attest_adult(self, client: IdentityClient) -> None:
        """Prove 18+ with a (test authority's) document through the age service."""
        age = AgeClient(
            connect(self.platform.endpoint("age")),
            client.login(),
            TokenWallet(self.directory / f"{client.account_id}-tokens.json"),
            account_id=client.account_id,
        )
        key_dir = Path(self.platform.hosts["age"].config.data_dir) / "keys" / "age"
        authority = TestIssuingAuthority.from_seed_file(key_dir / "document-authority.seed")
        today = date.today()
        document, signature = authority.issue(today.replace(year=today.year - 40, day=1))
        verification = age.start_verification(types_pb2.METHOD_CLASS_DOCUMENT)
        decision = age.obtain_tokens(
            verification, age.submit_document(verification, document, signature), 1
        )
        assert decision == 1
        age.redeem(types_pb2.AGE_BAND_18_PLUS)

    def settle(self) -> None:
        """Wait until identity has taken in age's events and messaging identity's."""
        for upstream, follower in (("age", "identity"), ("identity", "messaging")):
            recorder = self.platform.hosts[upstream].parts.applications[0].recorder
            last = recorder.max_notification_id() or 0
            if last:
                self.platform.hosts[follower].parts.followers[0].wait_until(last, timeout=20)

    def device(self, client: IdentityClient) -> MessagingDevice:
        """A messaging device on a fresh session (so the token names current organisations)."""
        device = MessagingDevice(
            self.messaging_channel,
            client.login(),
            client.account_id,
            address=self.platform.endpoint("messaging"),
        )
        device.publish(5)
        return device

    def close(self) -> None:
        self.identity_channel.close()
        self.messaging_channel.close()


def refused(call: object) -> tuple[grpc.StatusCode, str, str]:
    """(status, reason code, details) of a refused call."""
    assert callable(call)
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error = caught.value
    info = error_info(error)
    return error.code(), info.reason if info else "", str(error.details())


def test_contact_policy_on_identitys_real_events(platform: Platform, tmp_path: Path) -> None:
    world = World(platform, tmp_path)
    operator = operator_metadata(platform.signer)  # `hearth admin`'s token

    # An organisation: its admin joins by the operator's invitation, the practitioner by the
    # admin's, and the admin vets the practitioner and adds a young person as a member.
    admin = world.person(
        "admin", identity_pb2.ROLE_ORG_ADMIN, world.invite(operator, identity_pb2.ROLE_ORG_ADMIN)
    )
    org = world.stub.CreateOrganisation(
        identity_pb2.CreateOrganisationRequest(request_id="org-riverside", name="Riverside"),
        metadata=admin.metadata(),
    ).organisation_id
    sam = world.person(
        "sam",
        identity_pb2.ROLE_PRACTITIONER,
        world.invite(admin.metadata(), identity_pb2.ROLE_PRACTITIONER, org),
    )
    world.stub.VetPractitioner(
        identity_pb2.VetPractitionerRequest(organisation_id=org, account_id=sam.account_id),
        metadata=admin.metadata(),
    )
    jo = world.person("jo", identity_pb2.ROLE_YOUNG_PERSON)
    world.stub.AddOrganisationMember(
        identity_pb2.AddOrganisationMemberRequest(organisation_id=org, account_id=jo.account_id),
        metadata=admin.metadata(),
    )
    # A guardian and their under-13 child, linked by both consenting; a stranger adult.
    dana = world.person("dana", identity_pb2.ROLE_GUARDIAN)
    mia = world.person("mia", identity_pb2.ROLE_CHILD)
    for who, other in ((dana, mia), (mia, dana)):
        world.stub.ConsentToGuardianLink(
            identity_pb2.ConsentToGuardianLinkRequest(other_account_id=other.account_id),
            metadata=who.metadata(),
        )
    rex = world.person("rex", identity_pb2.ROLE_GUARDIAN)
    for adult in (dana, rex):
        world.attest_adult(adult)
    world.settle()

    # Nobody has accepted the house rules yet: messaging refuses to let them talk.
    sam_phone, jo_phone = world.device(sam), world.device(jo)
    status, _, details = refused(lambda: sam_phone.start_conversation([jo.account_id]))
    assert status == grpc.StatusCode.FAILED_PRECONDITION
    assert "house rules in force (version 2)" in details
    for client in (sam, jo, dana, mia, rex):
        world.accept_house_rules(client)
    world.settle()

    # A vetted practitioner and a young person of the same organisation: a round trip.
    talk = sam_phone.start_conversation([jo.account_id]).conversation_id
    sam_phone.send(talk, b"Hi Jo, how did the interview go?")
    [received] = jo_phone.receive(1)
    assert received.body == b"Hi Jo, how did the interview go?"
    assert received.sender_account_id == sam.account_id
    jo_phone.send(talk, b"Really well, thanks!")
    assert [m.body for m in sam_phone.receive(1)] == [b"Really well, thanks!"]

    # The stranger adult is refused the child, with the reason.
    rex_phone = world.device(rex)
    status, reason, _ = refused(lambda: rex_phone.start_conversation([mia.account_id]))
    assert (status, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NO_PARENTAL_CONSENT")

    # The guardian is linked, but an under-13 needs parental consent before any contact.
    dana_phone, mia_tablet = world.device(dana), world.device(mia)
    status, reason, _ = refused(lambda: dana_phone.start_conversation([mia.account_id]))
    assert (status, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NO_PARENTAL_CONSENT")
    world.stub.RecordGuardianConsent(
        identity_pb2.RecordGuardianConsentRequest(child_account_id=mia.account_id, granted=True),
        metadata=dana.metadata(),
    )
    world.settle()
    status, reason, _ = refused(lambda: rex_phone.start_conversation([mia.account_id]))
    assert (status, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_ALLOWED")
    home = dana_phone.start_conversation([mia.account_id]).conversation_id
    dana_phone.send(home, b"Dinner at six")
    assert [m.body for m in mia_tablet.receive(1)] == [b"Dinner at six"]
    mia_tablet.send(home, b"ok!")
    assert [m.body for m in dana_phone.receive(1)] == [b"ok!"]

    # The stranger may not reach the young person either; the practitioner may not reach the
    # child, who is not a member of the organisation.
    status, reason, _ = refused(lambda: rex_phone.start_conversation([jo.account_id]))
    assert (status, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_ALLOWED")
    status, reason, _ = refused(lambda: sam_phone.start_conversation([mia.account_id]))
    assert (status, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_ALLOWED")
    for device in (sam_phone, jo_phone, rex_phone, dana_phone, mia_tablet):
        device.disconnect()
    world.close()
