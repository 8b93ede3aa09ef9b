"""Organisations, their admins, and vetting of practitioners (who vetted, and when)."""

from __future__ import annotations

from functools import partial

import grpc
import pytest

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import SessionVerifier
from hearth_sdk.errors import error_info
from hearth_sdk.identity import IdentityClient
from tests.conftest import unique_name
from tests.identity.support import Devices, topics_of
from tests.support.status import code_of


def create_organisation(
    identity: identity_pb2_grpc.IdentityServiceStub, admin: IdentityClient, name: str
) -> str:
    response = identity.CreateOrganisation(
        identity_pb2.CreateOrganisationRequest(request_id=unique_name("org"), name=name),
        metadata=admin.metadata(),
    )
    return str(response.organisation_id)


def add_member(
    identity: identity_pb2_grpc.IdentityServiceStub,
    admin: IdentityClient,
    organisation_id: str,
    member: IdentityClient,
) -> None:
    identity.AddOrganisationMember(
        identity_pb2.AddOrganisationMemberRequest(
            organisation_id=organisation_id, account_id=member.account_id
        ),
        metadata=admin.metadata(),
    )


def test_an_org_admin_vets_a_practitioner_of_their_organisation(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    admin, practitioner = devices.account("org_admin"), devices.account("practitioner")
    organisation = create_organisation(identity, admin, "Riverside Youth Trust")
    add_member(identity, admin, organisation, practitioner)
    vetted = identity.VetPractitioner(
        identity_pb2.VetPractitionerRequest(
            organisation_id=organisation, account_id=practitioner.account_id
        ),
        metadata=admin.metadata(),
    )
    assert vetted.vetted_at.seconds > 0
    record = practitioner.export()["account"]
    assert isinstance(record, dict)
    assert record["vetted"][organisation]["by"] == admin.account_id
    assert "hearth.identity.v1.PractitionerVetted" in topics_of(platform)
    # A fresh session carries the practitioner's organisation.
    session = SessionVerifier({platform.signer.key_id: platform.signer.public_key}).verify(
        practitioner.login()
    )
    assert session.organisations == {organisation}


def test_an_admin_of_another_organisation_cannot_vet(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    admin, stranger = devices.account("org_admin"), devices.account("org_admin")
    practitioner = devices.account("practitioner")
    organisation = create_organisation(identity, admin, "Northside School")
    create_organisation(identity, stranger, "Elsewhere")
    add_member(identity, admin, organisation, practitioner)
    code, details = code_of(
        lambda: identity.VetPractitioner(
            identity_pb2.VetPractitionerRequest(
                organisation_id=organisation, account_id=practitioner.account_id
            ),
            metadata=stranger.metadata(),
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "not an admin of organisation" in details


def test_only_a_practitioner_who_is_a_member_is_vetted(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    admin = devices.account("org_admin")
    outsider, moderator = devices.account("practitioner"), devices.account("moderator")
    organisation = create_organisation(identity, admin, "Hillside Care")
    add_member(identity, admin, organisation, moderator)
    for account, message in [(outsider, "not a member"), (moderator, "only a practitioner")]:
        request = identity_pb2.VetPractitionerRequest(
            organisation_id=organisation, account_id=account.account_id
        )
        code, details = code_of(
            partial(identity.VetPractitioner, request, metadata=admin.metadata())
        )
        assert code == grpc.StatusCode.FAILED_PRECONDITION
        assert message in details


def test_organisation_creation_is_idempotent_on_request_id(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    admin = devices.account("org_admin")
    request = identity_pb2.CreateOrganisationRequest(request_id=unique_name("o"), name="Once")
    first = identity.CreateOrganisation(request, metadata=admin.metadata()).organisation_id
    again = identity.CreateOrganisation(request, metadata=admin.metadata()).organisation_id
    assert first == again
    request.name = "Another"
    code, _ = code_of(lambda: identity.CreateOrganisation(request, metadata=admin.metadata()))
    assert code == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.RpcError) as caught:
        identity.CreateOrganisation(request, metadata=admin.metadata())
    info = error_info(caught.value)
    assert info is not None
    assert (info.reason, info.domain) == ("REQUEST_ID_REUSED", "identity.hearth")


def test_unknown_organisation_is_not_found(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    admin, member = devices.account("org_admin"), devices.account("young_person")
    code, _ = code_of(
        lambda: identity.AddOrganisationMember(
            identity_pb2.AddOrganisationMemberRequest(
                organisation_id="00000000-0000-4000-8000-000000000000",
                account_id=member.account_id,
            ),
            metadata=admin.metadata(),
        )
    )
    assert code == grpc.StatusCode.NOT_FOUND
