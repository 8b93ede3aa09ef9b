"""Staff roles join by invitation only: from an org admin into their organisation, or from the
platform operator (who holds the session signing key: `hearth admin`), who may also invite a
new organisation's first admin. A code is used once; only its hash is
recorded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from hearth_identity.domain import Invitation, Role
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime import admin
from hearth_runtime.admin import operator_metadata
from hearth_runtime.errors import Conflict
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import SessionVerifier
from hearth_sdk.channel import connect
from tests.identity.support import Devices, invite, stored
from tests.identity.test_organisations import create_organisation
from tests.support.status import code_of


def register(
    devices: Devices, role: identity_pb2.Role.ValueType, code: str, name: str | None = None
) -> str:
    return devices.client(name or uuid.uuid4().hex).register(role, invitation_code=code)


def test_a_staff_role_without_an_invitation_is_refused(devices: Devices) -> None:
    for role in (identity_pb2.ROLE_AUDITOR, identity_pb2.ROLE_ORG_ADMIN):
        code, details = code_of(lambda role=role: register(devices, role, ""))  # type: ignore[misc]
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert "needs an invitation" in details


def test_a_forged_or_mismatched_invitation_is_refused(platform: Platform, devices: Devices) -> None:
    code, details = code_of(lambda: register(devices, identity_pb2.ROLE_AUDITOR, "made-up-code"))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "not valid" in details
    for_moderator = invite(platform, "moderator")
    code, details = code_of(lambda: register(devices, identity_pb2.ROLE_ORG_ADMIN, for_moderator))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "for the role moderator" in details


def test_an_invitation_is_used_once_but_a_retry_finds_the_same_account(
    platform: Platform, devices: Devices
) -> None:
    code = invite(platform, "auditor")
    first = register(devices, identity_pb2.ROLE_AUDITOR, code, name="auditor-1")
    assert register(devices, identity_pb2.ROLE_AUDITOR, code, name="auditor-1") == first
    status, details = code_of(lambda: register(devices, identity_pb2.ROLE_AUDITOR, code))
    assert status == grpc.StatusCode.FAILED_PRECONDITION
    assert "already been used" in details
    assert all(code.encode() not in payload for _subject, payload in stored(platform))


def test_an_org_admin_invites_into_their_own_organisation_only(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    admin, stranger = devices.account("org_admin"), devices.account("org_admin")
    organisation = create_organisation(identity, admin, "Brookside Youth Club")
    request = identity_pb2.InviteStaffRequest(
        organisation_id=organisation, role=identity_pb2.ROLE_PRACTITIONER
    )
    status, details = code_of(lambda: identity.InviteStaff(request, metadata=stranger.metadata()))
    assert status == grpc.StatusCode.PERMISSION_DENIED
    assert "not an admin" in details
    code = identity.InviteStaff(request, metadata=admin.metadata()).invitation_code
    practitioner = devices.client("invited-practitioner")
    practitioner.register(identity_pb2.ROLE_PRACTITIONER, invitation_code=code)
    session = SessionVerifier({platform.signer.key_id: platform.signer.public_key}).verify(
        practitioner.login()
    )
    assert session.organisations == {organisation}


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (identity_pb2.InviteStaffRequest(role=identity_pb2.ROLE_CHILD), "staff role"),
        (
            identity_pb2.InviteStaffRequest(role=identity_pb2.ROLE_PRACTITIONER),
            "organisation_id",
        ),
    ],
)
def test_malformed_invitations_are_invalid(
    identity: identity_pb2_grpc.IdentityServiceStub,
    devices: Devices,
    request_: identity_pb2.InviteStaffRequest,
    message: str,
) -> None:
    admin = devices.account("org_admin")
    status, details = code_of(lambda: identity.InviteStaff(request_, metadata=admin.metadata()))
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert message in details


def test_an_invitation_code_on_a_child_registration_is_invalid(devices: Devices) -> None:
    status, details = code_of(lambda: register(devices, identity_pb2.ROLE_CHILD, "some-code"))
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert "for staff roles" in details


def test_an_expired_invitation_is_refused() -> None:
    invitation = Invitation(
        id=Invitation.id_for("code"),
        organisation_id="",
        role=Role.AUDITOR,
        invited_by="operator",
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    with pytest.raises(Conflict, match="expired"):
        invitation.accept("someone", Role.AUDITOR, datetime.now(UTC))


def test_the_operator_invites_a_new_organisations_first_admin(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    channel = connect(platform.endpoint("identity"))
    invitation = admin.invite_org_admin(channel, platform.signer, "Riverside Youth Trust")
    assert invitation.expires_at > datetime.now(UTC) + timedelta(days=6)
    first_admin = devices.client("first-admin")
    first_admin.register(identity_pb2.ROLE_ORG_ADMIN, invitation_code=invitation.code)
    first_admin.login()
    (organisation,) = first_admin.account().organisations
    # The organisation exists with them as its admin: they invite its staff into it.
    request = identity_pb2.InviteStaffRequest(
        organisation_id=organisation, role=identity_pb2.ROLE_DATA_PROTECTION_OFFICER
    )
    code = identity.InviteStaff(request, metadata=first_admin.metadata()).invitation_code
    dpo = devices.client("dpo")
    dpo.register(identity_pb2.ROLE_DATA_PROTECTION_OFFICER, invitation_code=code)
    session = SessionVerifier({platform.signer.key_id: platform.signer.public_key}).verify(
        dpo.login()
    )
    assert session.roles == {"data_protection_officer"}
    assert session.organisations == {organisation}
    assert dpo.account().role == identity_pb2.ROLE_DATA_PROTECTION_OFFICER


def test_only_the_operator_names_a_new_organisation_and_only_for_an_org_admin(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    org_admin = devices.account("org_admin")
    named = identity_pb2.InviteStaffRequest(
        role=identity_pb2.ROLE_ORG_ADMIN, organisation_name="Another Trust"
    )
    status, details = code_of(lambda: identity.InviteStaff(named, metadata=org_admin.metadata()))
    assert status == grpc.StatusCode.PERMISSION_DENIED
    assert "CreateOrganisation" in details
    operator = operator_metadata(platform.signer)
    for request in (
        identity_pb2.InviteStaffRequest(
            role=identity_pb2.ROLE_AUDITOR, organisation_name="Another Trust"
        ),
        identity_pb2.InviteStaffRequest(
            role=identity_pb2.ROLE_ORG_ADMIN,
            organisation_name="Another Trust",
            organisation_id=str(uuid.uuid4()),
        ),
    ):
        status, details = code_of(
            lambda request=request: identity.InviteStaff(request, metadata=operator)  # type: ignore[misc]
        )
        assert status in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND)
    for bad in ("x" * 201, "   "):
        named = identity_pb2.InviteStaffRequest(
            role=identity_pb2.ROLE_ORG_ADMIN, organisation_name=bad
        )
        status, details = code_of(
            lambda named=named: identity.InviteStaff(named, metadata=operator)  # type: ignore[misc]
        )
        assert (status, "organisation_name" in details) == (grpc.StatusCode.INVALID_ARGUMENT, True)
