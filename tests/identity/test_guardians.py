"""Guardian links (both sides consent, or an org admin confirms), parental consent for
under-13s, and guardian-approved contacts."""

from __future__ import annotations

import grpc

from hearth_proto.hearth.age.v1 import types_pb2
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.platform import Platform
from hearth_sdk.identity import IdentityClient
from tests.identity.support import Devices, attest, topics_of, wait_for_follower
from tests.identity.test_organisations import add_member, create_organisation
from tests.support.status import code_of


def consent(
    identity: identity_pb2_grpc.IdentityServiceStub, who: IdentityClient, other: IdentityClient
) -> bool:
    response = identity.ConsentToGuardianLink(
        identity_pb2.ConsentToGuardianLinkRequest(other_account_id=other.account_id),
        metadata=who.metadata(),
    )
    return bool(response.linked)


def parental_consent(
    identity: identity_pb2_grpc.IdentityServiceStub,
    guardian: IdentityClient,
    child: IdentityClient,
) -> None:
    identity.RecordGuardianConsent(
        identity_pb2.RecordGuardianConsentRequest(child_account_id=child.account_id, granted=True),
        metadata=guardian.metadata(),
    )


def test_a_link_is_in_force_once_both_sides_consent(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    guardian, child = devices.account("guardian"), devices.account("child")
    assert consent(identity, guardian, child) is False
    assert consent(identity, child, guardian) is True
    parental_consent(identity, guardian, child)
    friend = devices.account("child")
    identity.ApproveContact(
        identity_pb2.ApproveContactRequest(
            child_account_id=child.account_id, contact_account_id=friend.account_id
        ),
        metadata=guardian.metadata(),
    )
    topics = topics_of(platform)
    for topic in ("GuardianLinked", "GuardianConsentRecorded", "ContactApproved"):
        assert f"hearth.identity.v1.{topic}" in topics
    events = child.export()["events"]
    assert isinstance(events, list)
    linked = [e for e in events if e["topic"] == "hearth.identity.v1.GuardianLinked"]
    assert linked[0]["fields"]["confirmed_by"] == "both_parties"


def test_parental_consent_needs_a_link_in_force(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    guardian, child = devices.account("guardian"), devices.account("child")
    code, _ = code_of(lambda: parental_consent(identity, guardian, child))
    assert code == grpc.StatusCode.NOT_FOUND
    consent(identity, guardian, child)  # one side only
    code, details = code_of(lambda: parental_consent(identity, guardian, child))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "not in force" in details


def test_an_org_admin_confirms_a_link_for_a_child_of_their_organisation(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    admin, guardian, child = (
        devices.account("org_admin"),
        devices.account("guardian"),
        devices.account("child"),
    )
    request = identity_pb2.ConfirmGuardianLinkRequest(
        guardian_account_id=guardian.account_id, child_account_id=child.account_id
    )
    code, _ = code_of(lambda: identity.ConfirmGuardianLink(request, metadata=admin.metadata()))
    assert code == grpc.StatusCode.PERMISSION_DENIED  # the child is not of their organisation
    organisation = create_organisation(identity, admin, "St Anne's Primary")
    add_member(identity, admin, organisation, child)
    identity.ConfirmGuardianLink(request, metadata=admin.metadata())
    parental_consent(identity, guardian, child)


def test_the_wrong_kinds_of_account_are_not_linked(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    guardian, other_guardian = devices.account("guardian"), devices.account("guardian")
    code, details = code_of(lambda: consent(identity, guardian, other_guardian))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "not a child" in details


def test_parental_consent_is_for_under_13s_only(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    guardian, teen = devices.account("guardian"), devices.account("young_person")
    consent(identity, guardian, teen)
    consent(identity, teen, guardian)
    wait_for_follower(platform, attest(platform, teen.account_id, types_pb2.AGE_BAND_16_17))
    code, details = code_of(lambda: parental_consent(identity, guardian, teen))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "under-13s" in details
