"""Verification sessions: a band by document, by estimation with a buffer, or by vouching."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from nacl.signing import SigningKey

from hearth_proto.hearth.age.v1 import age_pb2, age_pb2_grpc, events_pb2, types_pb2
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.admin import operator_metadata
from hearth_runtime.platform import Platform
from hearth_sdk.age import TestIssuingAuthority, synthetic_face
from hearth_sdk.channel import bearer, connect
from hearth_sdk.identity import IdentityClient
from tests.age.support import age_client, authority, events_of, raw_stream
from tests.support.status import refused

DOCUMENT = types_pb2.METHOD_CLASS_DOCUMENT
ESTIMATION = types_pb2.METHOD_CLASS_ESTIMATION
VOUCHING = types_pb2.METHOD_CLASS_VOUCHING


def years_ago(years: int, days: int = 0) -> date:
    today = date.today()
    return today.replace(year=today.year - years) - timedelta(days=days)


def test_a_document_decides_the_band_and_nothing_of_it_is_kept(
    platform: Platform, tmp_path: Path
) -> None:
    client = age_client(platform, tmp_path)
    birth_date = years_ago(14, days=40)
    document, signature = authority(platform).issue(birth_date, document_number="DOC-4471-XQ")
    vid = client.start_verification(DOCUMENT)
    decision = client.submit_document(vid, document, signature)
    assert decision.band == types_pb2.AGE_BAND_13_15
    assert decision.method_class == DOCUMENT
    assert decision.assurance_level == types_pb2.ASSURANCE_LEVEL_ENHANCED

    decided = events_of(platform, events_pb2.VerificationDecided)
    assert any(m.verifier == "document/dev-ed25519" and m.band == decision.band for m in decided)
    stored = b"".join(payload for _, _, payload in raw_stream(platform))
    for secret in (birth_date.isoformat().encode(), b"DOC-4471-XQ", signature, document):
        assert secret not in stored


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (12, types_pb2.AGE_BAND_UNDER_13),
        (13, types_pb2.AGE_BAND_13_15),
        (16, types_pb2.AGE_BAND_16_17),
        (18, types_pb2.AGE_BAND_18_PLUS),
    ],
)
def test_each_band_by_document(platform: Platform, tmp_path: Path, age: int, band: int) -> None:
    client = age_client(platform, tmp_path)
    document, signature = authority(platform).issue(years_ago(age))
    vid = client.start_verification(DOCUMENT)
    assert client.submit_document(vid, document, signature).band == band


def test_a_forged_document_is_refused(platform: Platform, tmp_path: Path) -> None:
    client = age_client(platform, tmp_path)
    forger = TestIssuingAuthority(SigningKey.generate())  # same name, another key
    document, signature = forger.issue(years_ago(19))
    vid = client.start_verification(DOCUMENT)
    message = refused(
        grpc.StatusCode.INVALID_ARGUMENT, client.submit_document, vid, document, signature
    )
    assert "signature" in message
    # The session is still open: the real document decides it.
    document, signature = authority(platform).issue(years_ago(15))
    assert client.submit_document(vid, document, signature).band == types_pb2.AGE_BAND_13_15


def test_unknown_authority_expired_document_and_garbage_are_refused(
    platform: Platform, tmp_path: Path
) -> None:
    client = age_client(platform, tmp_path)
    vid = client.start_verification(DOCUMENT)
    stranger = TestIssuingAuthority(SigningKey.generate(), name="elsewhere")
    document, signature = stranger.issue(years_ago(20))
    assert "not trusted" in refused(
        grpc.StatusCode.INVALID_ARGUMENT, client.submit_document, vid, document, signature
    )
    document, signature = authority(platform).issue(
        years_ago(20), expires_on=date.today() - timedelta(days=1)
    )
    assert "expired" in refused(
        grpc.StatusCode.INVALID_ARGUMENT, client.submit_document, vid, document, signature
    )
    refused(grpc.StatusCode.INVALID_ARGUMENT, client.submit_document, vid, b"\xff\x00", b"x")


@pytest.mark.parametrize(
    ("estimate", "band"),
    [
        (14.0, types_pb2.AGE_BAND_UNDER_13),  # 13 + 2 buffer not reached
        (15.5, types_pb2.AGE_BAND_13_15),
        (19.0, types_pb2.AGE_BAND_16_17),  # 18 + 2 not reached
        (21.0, types_pb2.AGE_BAND_18_PLUS),
    ],
)
def test_estimation_needs_the_buffer_above_each_band(
    platform: Platform, tmp_path: Path, estimate: float, band: int
) -> None:
    client = age_client(platform, tmp_path)
    vid = client.start_verification(ESTIMATION)
    decision = client.submit_face_image(vid, synthetic_face(estimate, size=64))
    assert decision.band == band
    assert decision.method_class == ESTIMATION
    assert decision.assurance_level == types_pb2.ASSURANCE_LEVEL_STANDARD


def test_an_image_that_is_no_face_is_refused(platform: Platform, tmp_path: Path) -> None:
    client = age_client(platform, tmp_path)
    vid = client.start_verification(ESTIMATION)
    refused(grpc.StatusCode.INVALID_ARGUMENT, client.submit_face_image, vid, b"GIF89a...")


def identity_device(platform: Platform, tmp_path: Path, name: str) -> IdentityClient:
    return IdentityClient(connect(platform.endpoint("identity")), tmp_path / f"{name}.json")


def vetted_practitioner(platform: Platform, tmp_path: Path) -> IdentityClient:
    """An org admin (invited by the operator) vets a practitioner of their organisation."""
    stub = identity_pb2_grpc.IdentityServiceStub(connect(platform.endpoint("identity")))
    operator = operator_metadata(platform.signer)  # `hearth admin`'s token
    code = stub.InviteStaff(
        identity_pb2.InviteStaffRequest(role=identity_pb2.ROLE_ORG_ADMIN), metadata=operator
    ).invitation_code
    admin = identity_device(platform, tmp_path, "admin")
    admin.register(identity_pb2.ROLE_ORG_ADMIN, display_name="Admin", invitation_code=code)
    organisation = stub.CreateOrganisation(
        identity_pb2.CreateOrganisationRequest(request_id=str(uuid.uuid4()), name="Org"),
        metadata=admin.metadata(),
    ).organisation_id
    invitation = stub.InviteStaff(
        identity_pb2.InviteStaffRequest(
            organisation_id=organisation, role=identity_pb2.ROLE_PRACTITIONER
        ),
        metadata=admin.metadata(),
    ).invitation_code
    practitioner = identity_device(platform, tmp_path, "practitioner")
    practitioner.register(
        identity_pb2.ROLE_PRACTITIONER, display_name="Practitioner", invitation_code=invitation
    )
    stub.VetPractitioner(
        identity_pb2.VetPractitionerRequest(
            organisation_id=organisation, account_id=practitioner.account_id
        ),
        metadata=admin.metadata(),
    )
    return practitioner


def vouch_when_followed(
    stub: age_pb2_grpc.AgeServiceStub, request: age_pb2.VouchRequest, metadata: Any
) -> age_pb2.VouchResponse:
    """Vouch once age's follower has taken in identity's events (it runs behind by a moment)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            response: age_pb2.VouchResponse = stub.Vouch(request, metadata=metadata)
            return response
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.PERMISSION_DENIED or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_vetted_practitioner_vouches_and_is_recorded_as_the_voucher(
    platform: Platform, tmp_path: Path
) -> None:
    child = age_client(platform, tmp_path, "child")
    practitioner = vetted_practitioner(platform, tmp_path)
    vid = child.start_verification(VOUCHING)
    request = age_pb2.VouchRequest(
        verification_id=vid, band=types_pb2.AGE_BAND_UNDER_13, subject_account_id=child.account_id
    )
    response = vouch_when_followed(child.stub, request, practitioner.metadata())
    assert response.decision.method_class == VOUCHING
    assert response.decision.assurance_level == types_pb2.ASSURANCE_LEVEL_BASIC
    decided = events_of(platform, events_pb2.VerificationDecided)
    assert any(
        m.voucher_role == "practitioner" and m.voucher_account_id == practitioner.account_id
        for m in decided
    )


def test_an_unvetted_practitioner_may_not_vouch(platform: Platform, tmp_path: Path) -> None:
    child = age_client(platform, tmp_path, "child")
    unvetted = age_client(platform, tmp_path, "practitioner")
    vid = child.start_verification(VOUCHING)
    request = age_pb2.VouchRequest(
        verification_id=vid, band=types_pb2.AGE_BAND_UNDER_13, subject_account_id=child.account_id
    )
    assert "vetted" in refused(
        grpc.StatusCode.PERMISSION_DENIED, unvetted.stub.Vouch, request, metadata=unvetted.metadata
    )


def test_a_linked_guardian_vouches_for_their_child_only(platform: Platform, tmp_path: Path) -> None:
    guardian = identity_device(platform, tmp_path, "guardian")
    child = identity_device(platform, tmp_path, "child")
    guardian.register(identity_pb2.ROLE_GUARDIAN, display_name="Guardian")
    child.register(identity_pb2.ROLE_CHILD, display_name="Child")
    for who, other in ((guardian, child), (child, guardian)):
        who.stub.ConsentToGuardianLink(
            identity_pb2.ConsentToGuardianLinkRequest(other_account_id=other.account_id),
            metadata=who.metadata(),
        )
    stub = age_pb2_grpc.AgeServiceStub(connect(platform.endpoint("age")))
    child_session = bearer(platform.signer.issue(child.account_id, {"child"}))
    vid = stub.StartVerification(
        age_pb2.StartVerificationRequest(request_id="v-1", method_class=VOUCHING),
        metadata=child_session,
    ).verification_id
    other_child = age_client(platform, tmp_path, "child")
    other_vid = other_child.start_verification(VOUCHING)
    # Not this guardian's child; nor may the session be claimed for another account.
    for verification_id, subject in (
        (other_vid, other_child.account_id),
        (vid, other_child.account_id),
    ):
        refused(
            grpc.StatusCode.PERMISSION_DENIED,
            stub.Vouch,
            age_pb2.VouchRequest(
                verification_id=verification_id,
                band=types_pb2.AGE_BAND_UNDER_13,
                subject_account_id=subject,
            ),
            metadata=guardian.metadata(),
        )
    request = age_pb2.VouchRequest(
        verification_id=vid, band=types_pb2.AGE_BAND_UNDER_13, subject_account_id=child.account_id
    )
    decision = vouch_when_followed(stub, request, guardian.metadata()).decision
    assert decision.band == types_pb2.AGE_BAND_UNDER_13
    decided = events_of(platform, events_pb2.VerificationDecided)
    assert any(m.voucher_account_id == guardian.account_id for m in decided)


def test_a_young_person_may_not_vouch(platform: Platform, tmp_path: Path) -> None:
    child = age_client(platform, tmp_path, "child")
    peer = age_client(platform, tmp_path, "young_person")
    vid = child.start_verification(VOUCHING)
    request = age_pb2.VouchRequest(
        verification_id=vid, band=types_pb2.AGE_BAND_UNDER_13, subject_account_id=child.account_id
    )
    refused(grpc.StatusCode.PERMISSION_DENIED, peer.stub.Vouch, request, metadata=peer.metadata)


def test_a_session_takes_one_method_and_decides_once(platform: Platform, tmp_path: Path) -> None:
    client = age_client(platform, tmp_path)
    vid = client.start_verification(DOCUMENT)
    assert "document" in refused(
        grpc.StatusCode.FAILED_PRECONDITION,
        client.submit_face_image,
        vid,
        synthetic_face(30),
    )
    document, signature = authority(platform).issue(years_ago(17))
    client.submit_document(vid, document, signature)
    refused(grpc.StatusCode.FAILED_PRECONDITION, client.submit_document, vid, document, signature)


def test_start_is_idempotent_and_an_unknown_session_is_not_found(
    platform: Platform, tmp_path: Path
) -> None:
    client = age_client(platform, tmp_path)
    request = age_pb2.StartVerificationRequest(request_id="r-1", method_class=DOCUMENT)
    first = client.stub.StartVerification(request, metadata=client.metadata).verification_id
    again = client.stub.StartVerification(request, metadata=client.metadata).verification_id
    assert first == again
    refused(grpc.StatusCode.NOT_FOUND, client.submit_face_image, "A" * 43, synthetic_face(20))
    refused(
        grpc.StatusCode.INVALID_ARGUMENT,
        client.stub.StartVerification,
        age_pb2.StartVerificationRequest(request_id="r-2"),
        metadata=client.metadata,
    )
    refused(
        grpc.StatusCode.INVALID_ARGUMENT,
        client.stub.StartVerification,
        age_pb2.StartVerificationRequest(method_class=DOCUMENT),
        metadata=client.metadata,
    )


def test_a_verification_session_records_no_account(platform: Platform, tmp_path: Path) -> None:
    client = age_client(platform, tmp_path)
    account = client.metadata[0][1]
    vid = client.start_verification(ESTIMATION)
    client.submit_face_image(vid, synthetic_face(25))
    from hearth_runtime.sessions import SessionVerifier

    verifier = SessionVerifier({platform.signer.key_id: platform.signer.public_key})
    account_id = verifier.verify(account.removeprefix("Bearer ")).account_id
    stored = b"".join(payload for _, _, payload in raw_stream(platform))
    assert account_id.encode() not in stored
    assert vid.encode() not in stored
