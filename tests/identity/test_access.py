"""Every identity RPC's access rule, for every role; no RPC answers INTERNAL or UNKNOWN."""

from __future__ import annotations

import grpc
import pytest
from nacl.signing import SigningKey

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.platform import Platform
from hearth_sdk.channel import bearer
from tests.conftest import ROLES, unique_name
from tests.identity.support import STAFF, invite, operator_session
from tests.support.status import code_of

SERVICE = identity_pb2.DESCRIPTOR.services_by_name["IdentityService"]
EVERYONE = "public"
ANY_SESSION = "any session"
# The declared access of every RPC, written out here as the specification.
ACCESS: dict[str, str | set[str]] = {
    "RegisterAccount": EVERYONE,
    "BeginLogin": EVERYONE,
    "CompleteLogin": EVERYONE,
    "BeginPasskeyEnrolment": EVERYONE,
    "CompletePasskeyEnrolment": EVERYONE,
    "BeginPasskeyLogin": EVERYONE,
    "CompletePasskeyLogin": EVERYONE,
    # Staff only: the servicer refuses other roles NOT_STAFF (tests/identity/test_passkeys.py).
    "BeginPasskeyRegistration": ANY_SESSION,
    "CompletePasskeyRegistration": ANY_SESSION,
    "GetAccount": ANY_SESSION,
    "AddDevice": ANY_SESSION,
    "RemoveDevice": ANY_SESSION,
    "RenewSession": ANY_SESSION,
    "GetHouseRules": ANY_SESSION,
    "AcceptHouseRules": ANY_SESSION,
    "RecordConsent": ANY_SESSION,
    "ExportMyData": ANY_SESSION,
    "EraseAccount": ANY_SESSION,
    "InviteStaff": {"org_admin", "operator"},
    "CreateOrganisation": {"org_admin"},
    "AddOrganisationMember": {"org_admin"},
    "VetPractitioner": {"org_admin"},
    "ConfirmGuardianLink": {"org_admin"},
    "ConsentToGuardianLink": {"guardian", "child", "young_person"},
    "RecordGuardianConsent": {"guardian"},
    "ApproveContact": {"guardian"},
}
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
Metadata = tuple[tuple[str, str], ...]


def test_every_declared_rpc_has_its_access_written_down() -> None:
    assert set(SERVICE.methods_by_name) == set(ACCESS)


def call(
    identity: identity_pb2_grpc.IdentityServiceStub, method: str, metadata: Metadata
) -> tuple[grpc.StatusCode, str]:
    request = getattr(identity_pb2, SERVICE.methods_by_name[method].input_type.name)()
    return code_of(lambda: getattr(identity, method)(request, metadata=metadata))


def session_for(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, role: str
) -> Metadata:
    account = identity.RegisterAccount(
        identity_pb2.RegisterAccountRequest(
            request_id=unique_name("access"),
            role=ROLES[role],
            device_public_key=bytes(SigningKey.generate().verify_key),
            invitation_code=invite(platform, role) if ROLES[role] in STAFF else "",
        )
    ).account_id
    return bearer(platform.signer.issue(account, {role}))


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("method", sorted(ACCESS))
def test_each_rpc_admits_exactly_its_roles(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, method: str, role: str
) -> None:
    code, details = call(identity, method, session_for(platform, identity, role))
    access = ACCESS[method]
    allowed = access in (EVERYONE, ANY_SESSION) or role in access
    assert code not in NEVER, details
    if allowed:
        assert "is for" not in details, details
    else:
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert f"{method} is for {', '.join(sorted(access))}" in details


@pytest.mark.parametrize("method", sorted(ACCESS))
def test_without_a_session_only_the_open_rpcs_answer(
    identity: identity_pb2_grpc.IdentityServiceStub, method: str
) -> None:
    code, details = call(identity, method, ())
    assert code not in NEVER, details
    if method == "BeginPasskeyLogin":  # empty: a login by any discoverable passkey
        assert code == grpc.StatusCode.OK
    elif ACCESS[method] == EVERYONE:
        assert code == grpc.StatusCode.INVALID_ARGUMENT  # an empty request is not enough
    else:
        assert code == grpc.StatusCode.UNAUTHENTICATED
        assert "missing bearer session token" in details


@pytest.mark.parametrize("method", sorted(ACCESS))
def test_a_session_for_no_account_of_ours_is_refused_cleanly(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, method: str
) -> None:
    roles = set(ROLES)
    for token_account in ("not-a-uuid", "00000000-0000-4000-8000-00000000dead"):
        metadata = bearer(platform.signer.issue(token_account, roles))
        code, details = call(identity, method, metadata)
        assert code not in NEVER, details


@pytest.mark.parametrize("method", sorted(ACCESS))
def test_the_operator_token_reaches_only_what_it_is_declared_for(
    identity: identity_pb2_grpc.IdentityServiceStub, platform: Platform, method: str
) -> None:
    code, details = call(identity, method, operator_session(platform))
    access = ACCESS[method]
    assert code not in NEVER, details
    if access in (EVERYONE, ANY_SESSION) or "operator" in access:
        assert "is for" not in details, details
    else:
        assert code == grpc.StatusCode.PERMISSION_DENIED
