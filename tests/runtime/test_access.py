"""Every RPC's access rule, for every role, and every way a session token can be bad."""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
import pytest
from nacl.signing import SigningKey

from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import SessionSigner
from hearth_sdk.channel import bearer
from tests.runtime.support import ALL_ROLES, YOUNG_PERSON, register, token
from tests.support.status import code_of

AUDIT_ROLES = {"auditor", "safeguarding_lead"}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_get_log_state_is_for_auditors_and_safeguarding_leads(
    platform: Platform, audit: audit_pb2_grpc.AuditServiceStub, role: str
) -> None:
    code, details = code_of(
        lambda: audit.GetLogState(
            audit_pb2.GetLogStateRequest(), metadata=bearer(token(platform, role))
        )
    )
    if role in AUDIT_ROLES:
        assert code == grpc.StatusCode.OK
    else:
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert "GetLogState is for auditor, safeguarding_lead" in details


@pytest.mark.parametrize("role", ALL_ROLES)
def test_get_account_is_for_any_session(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, role: str
) -> None:
    account = register(identity, f"role-{role}-{time.monotonic_ns()}")
    response = identity.GetAccount(
        identity_pb2.GetAccountRequest(), metadata=bearer(token(platform, role, account=account))
    )
    assert response.account_id == account


def test_registration_needs_no_session(identity: identity_pb2_grpc.IdentityServiceStub) -> None:
    assert register(identity, f"open-{time.monotonic_ns()}")


def forged(platform: Platform) -> str:
    return SessionSigner(platform.signer.key_id, SigningKey.generate()).issue("x", {"auditor"})


def tampered(platform: Platform) -> str:
    head, _claims, signature = token(platform, "child").split(".")
    other = token(platform, "auditor").split(".")[1]
    return ".".join([head, other, signature])


def expired(platform: Platform) -> str:
    old = SessionSigner(
        platform.signer.key_id, platform.signer.signing_key, clock=lambda: time.time() - 7200
    )
    return old.issue("x", {"auditor"}, lifetime=900)


@pytest.mark.parametrize(
    ("make_metadata", "message"),
    [
        (lambda p: (), "missing bearer session token"),
        (lambda p: (("authorization", "Basic abc"),), "missing bearer session token"),
        (lambda p: bearer("not-a-token"), "malformed session token"),
        (lambda p: bearer("v1.!!!.???"), "malformed session token"),
        (lambda p: bearer(forged(p)), "signature is invalid"),
        (lambda p: bearer(tampered(p)), "signature is invalid"),
        (lambda p: bearer(expired(p)), "has expired"),
        (
            lambda p: bearer(
                SessionSigner("rotated-away", SigningKey.generate()).issue("x", {"auditor"})
            ),
            "unknown key",
        ),
        (lambda p: bearer("v1." + "a" * 5000 + ".b"), "too long"),
    ],
)
def test_bad_session_tokens_are_unauthenticated(
    platform: Platform,
    audit: audit_pb2_grpc.AuditServiceStub,
    make_metadata: Callable[[Platform], tuple[tuple[str, str], ...]],
    message: str,
) -> None:
    code, details = code_of(
        lambda: audit.GetLogState(audit_pb2.GetLogStateRequest(), metadata=make_metadata(platform))
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert message in details


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (
            identity_pb2.RegisterAccountRequest(role=YOUNG_PERSON, device_public_key=b"k" * 32),
            "INVALID_ARGUMENT",
            "request_id",
        ),
        (
            identity_pb2.RegisterAccountRequest(
                request_id="r" * 129, role=YOUNG_PERSON, device_public_key=b"k" * 32
            ),
            "INVALID_ARGUMENT",
            "request_id",
        ),
        (
            identity_pb2.RegisterAccountRequest(
                request_id="r1", role=identity_pb2.ROLE_UNSPECIFIED, device_public_key=b"k" * 32
            ),
            "INVALID_ARGUMENT",
            "role",
        ),
        (
            identity_pb2.RegisterAccountRequest(
                request_id="r1",
                role=99,  # type: ignore[arg-type]
                device_public_key=b"k" * 32,
            ),
            "INVALID_ARGUMENT",
            "role",
        ),
        (
            identity_pb2.RegisterAccountRequest(
                request_id="r1", role=YOUNG_PERSON, device_public_key=b"short"
            ),
            "INVALID_ARGUMENT",
            "32-byte",
        ),
    ],
)
def test_malformed_registration_is_invalid_argument(
    identity: identity_pb2_grpc.IdentityServiceStub,
    request_: identity_pb2.RegisterAccountRequest,
    code: str,
    message: str,
) -> None:
    got, details = code_of(lambda: identity.RegisterAccount(request_))
    assert got.name == code
    assert message in details


def test_reused_request_id_for_another_registration_is_refused(
    identity: identity_pb2_grpc.IdentityServiceStub,
) -> None:
    request_id = f"reuse-{time.monotonic_ns()}"
    first = register(identity, request_id, device_key=b"a" * 32)
    got, details = code_of(lambda: register(identity, request_id, device_key=b"b" * 32))
    assert got == grpc.StatusCode.ALREADY_EXISTS
    assert request_id in details
    assert register(identity, request_id, device_key=b"a" * 32) == first


def test_oversized_request_is_resource_exhausted(
    identity: identity_pb2_grpc.IdentityServiceStub,
) -> None:
    big = identity_pb2.RegisterAccountRequest(
        request_id="big", role=YOUNG_PERSON, device_public_key=b"k" * (2 * 1024 * 1024)
    )
    got, _ = code_of(lambda: identity.RegisterAccount(big))
    assert got == grpc.StatusCode.RESOURCE_EXHAUSTED
