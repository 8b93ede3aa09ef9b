"""Malformed requests get INVALID_ARGUMENT with a message naming the field; nothing recorded."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from google.protobuf.message import Message

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.platform import Platform
from hearth_sdk.errors import error_info
from tests.identity.support import Devices, topics_of
from tests.support.status import code_of

KEY = b"k" * 32
CASES: list[tuple[str, Message, str]] = [
    ("BeginLogin", identity_pb2.BeginLoginRequest(account_id="x", device_public_key=KEY), "UUID"),
    (
        "BeginLogin",
        identity_pb2.BeginLoginRequest(
            account_id="00000000-0000-4000-8000-000000000001", device_public_key=b"short"
        ),
        "32-byte",
    ),
    ("CompleteLogin", identity_pb2.CompleteLoginRequest(challenge_id="c"), "64-byte"),
    (
        "RegisterAccount",
        identity_pb2.RegisterAccountRequest(
            request_id="r",
            role=identity_pb2.ROLE_CHILD,
            device_public_key=KEY,
            display_name="x" * 201,
        ),
        "display_name",
    ),
]
SIGNED_IN: list[tuple[str, Message, str]] = [
    ("AddDevice", identity_pb2.AddDeviceRequest(request_id="d", device_public_key=KEY), "proof"),
    ("CreateOrganisation", identity_pb2.CreateOrganisationRequest(request_id="o"), "name"),
    (
        "VetPractitioner",
        identity_pb2.VetPractitionerRequest(organisation_id="nope", account_id="nope"),
        "organisation_id",
    ),
    ("AcceptHouseRules", identity_pb2.AcceptHouseRulesRequest(version=-1), "version"),
    ("ApproveContact", identity_pb2.ApproveContactRequest(child_account_id="c"), "UUID"),
]


@pytest.mark.parametrize(("method", "request_", "message"), CASES)
def test_malformed_open_requests_are_invalid(
    platform: Platform,
    identity: identity_pb2_grpc.IdentityServiceStub,
    method: str,
    request_: Message,
    message: str,
) -> None:
    before = len(topics_of(platform))
    code, details = code_of(lambda: getattr(identity, method)(request_))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message in details
    assert len(topics_of(platform)) == before


@pytest.mark.parametrize(("method", "request_", "message"), SIGNED_IN)
def test_malformed_requests_with_a_session_are_invalid(
    identity: identity_pb2_grpc.IdentityServiceStub,
    devices: Devices,
    method: str,
    request_: Message,
    message: str,
) -> None:
    caller = devices.account("org_admin" if method != "ApproveContact" else "guardian")
    call: Callable[[], object] = lambda: getattr(identity, method)(  # noqa: E731
        request_, metadata=caller.metadata()
    )
    code, details = code_of(call)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message in details


def test_a_bad_field_is_named_in_the_reason_and_long_input_is_not_echoed(
    identity: identity_pb2_grpc.IdentityServiceStub,
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        identity.BeginLogin(
            identity_pb2.BeginLoginRequest(account_id="x" * 300, device_public_key=KEY)
        )
    info = error_info(caught.value)
    assert info is not None
    assert (info.reason, info.domain) == ("INVALID_ARGUMENT", "identity.hearth")
    assert [v.field for v in info.violations] == ["account_id"]
    assert "must be an account id" in str(caught.value.details())
    assert "x" * 17 not in str(caught.value.details())
