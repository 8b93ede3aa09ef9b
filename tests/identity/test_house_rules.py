"""Versioned house rules that an account must accept, and an account's own consents."""

from __future__ import annotations

import grpc

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from tests.identity.support import Devices
from tests.support.status import code_of


def test_house_rules_of_the_version_in_force_are_accepted(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("child")
    rules = identity.GetHouseRules(identity_pb2.GetHouseRulesRequest(), metadata=client.metadata())
    assert rules.version == 3 and "Childline" in rules.text
    assert client.account().house_rules_version == 0
    code, details = code_of(
        lambda: identity.AcceptHouseRules(
            identity_pb2.AcceptHouseRulesRequest(version=2), metadata=client.metadata()
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "version 3" in details
    identity.AcceptHouseRules(
        identity_pb2.AcceptHouseRulesRequest(version=3), metadata=client.metadata()
    )
    assert client.account().house_rules_version == 3


def test_consent_to_a_purpose_is_recorded_and_can_be_withdrawn(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("young_person")
    for granted in (True, False):
        identity.RecordConsent(
            identity_pb2.RecordConsentRequest(purpose="guardian_notices", granted=granted),
            metadata=client.metadata(),
        )
    account = client.export()["account"]
    assert isinstance(account, dict)
    assert account["consents"] == {"guardian_notices": False}


def test_a_malformed_purpose_is_invalid(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("young_person")
    code, details = code_of(
        lambda: identity.RecordConsent(
            identity_pb2.RecordConsentRequest(purpose="Not A Purpose!", granted=True),
            metadata=client.metadata(),
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "purpose" in details
