"""Identity follows the safety team's actions: staff of an account's organisation see the
restrictions in force on it with the account; nobody else does, and lifting drops them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import grpc
import pytest

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_proto.hearth.safety.v1 import events_pb2 as safety_events
from hearth_runtime.platform import Platform
from hearth_sdk.errors import error_info
from hearth_sdk.identity import IdentityClient
from tests.identity.support import Devices, record
from tests.identity.test_organisations import add_member, create_organisation

CASE = uuid.uuid4()


def action(kind: str, accounts: list[str]) -> tuple[str, safety_events.CaseActionTaken]:
    action_id = f"{CASE}:{uuid.uuid4()}"
    at = datetime.now(UTC)
    taken = safety_events.CaseActionTaken(
        action_id=action_id, kind=kind, accounts=accounts, by="lead", reason="grooming"
    )
    taken.at.FromDatetime(at)
    return action_id, taken


def follows(platform: Platform, notification_id: int) -> None:
    platform.hosts["identity"].parts.followers[1].wait_until(notification_id, timeout=15)


def read(
    identity: identity_pb2_grpc.IdentityServiceStub, reader: IdentityClient, account_id: str
) -> identity_pb2.GetAccountResponse:
    answer: identity_pb2.GetAccountResponse = identity.GetAccount(
        identity_pb2.GetAccountRequest(account_id=account_id), metadata=reader.metadata()
    )
    return answer


def test_staff_of_the_organisation_see_restrictions_in_force_and_nobody_else(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    admin = devices.account("org_admin")
    organisation = create_organisation(identity, admin, "Eastfield Youth Club")
    teen, friend, other_teen = (devices.account("young_person") for _ in range(3))
    moderator, outsider = devices.account("moderator"), devices.account("moderator")
    for member in (teen, friend, other_teen, moderator):
        add_member(identity, admin, organisation, member)
    for client in (admin, teen, friend, other_teen, moderator):
        client.login()  # sessions name the organisations joined

    suspension, taken = action("suspend", [teen.account_id])
    record(platform, "safety", taken, CASE, version=2)
    _, blocked = action("block", [teen.account_id, friend.account_id])
    record(platform, "safety", blocked, CASE, version=3)
    _, warned = action("warn", [teen.account_id])  # a warning binds nothing
    follows(platform, record(platform, "safety", warned, CASE, version=4))

    seen = read(identity, moderator, teen.account_id)
    assert {(r.kind, r.case_id, r.other_account_id) for r in seen.restrictions} == {
        ("suspend", str(CASE), ""),
        ("block", str(CASE), friend.account_id),
    }
    assert seen.display_name == ""  # no personal data to staff
    assert [r.kind for r in read(identity, admin, friend.account_id).restrictions] == ["block"]
    # The account itself reads its own account without them; others are refused.
    assert not read(identity, teen, "").restrictions
    for reader in (other_teen, outsider):
        with pytest.raises(grpc.RpcError) as refused:
            read(identity, reader, teen.account_id)
        info = error_info(refused.value)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert info is not None and info.reason == "NOT_IN_ORGANISATION"
    with pytest.raises(grpc.RpcError) as unknown:
        read(identity, moderator, str(uuid.uuid4()))
    assert unknown.value.code() == grpc.StatusCode.PERMISSION_DENIED  # no existence oracle

    lifted = safety_events.CaseActionLifted(
        action_id=suspension, kind="suspend", accounts=[teen.account_id], by="lead", reason="ok"
    )
    follows(platform, record(platform, "safety", lifted, CASE, version=5))
    assert [r.kind for r in read(identity, moderator, teen.account_id).restrictions] == ["block"]
