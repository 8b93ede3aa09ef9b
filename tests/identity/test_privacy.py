"""Personal data is sealed under a per-subject key; erasure destroys the key; subject access
returns everything held. Checked against what actually lands in JetStream."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import grpc
import pytest
from nacl.secret import SecretBox

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.platform import Platform
from hearth_sdk.errors import error_info
from tests.identity.support import WRAPPING, Devices, export_of, stored, topics_of
from tests.support.status import code_of

NAME = "Priya Kowalczyk-Unique"
CONTACT = "priya.k@example.org"


def test_personal_data_is_stored_only_sealed_and_is_readable_by_its_owner(
    platform: Platform, devices: Devices
) -> None:
    client = devices.account("young_person", display_name=NAME, contact_detail=CONTACT)
    for subject, payload in stored(platform):
        assert NAME.encode() not in payload, subject
        assert CONTACT.encode() not in payload, subject
    assert "hearth.identity.v1.PersonalDataRecorded" in topics_of(platform)
    assert client.account().display_name == NAME
    export = client.export()
    account = export["account"]
    assert isinstance(account, dict)
    assert account["personal_data"] == {"display_name": NAME, "contact_detail": CONTACT}
    assert account["subject_key_held"] is True
    # The stored key is itself sealed under the configured wrapping key.
    stored_key = next(p for s, p in stored(platform) if s.endswith(client.account_id))
    assert len(stored_key) == 32 + 24 + 16  # key + nonce + tag
    SecretBox(base64.b64decode(WRAPPING)).decrypt(stored_key)


def test_subject_access_returns_every_event_about_the_caller_readably(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("young_person", display_name=NAME)
    identity.AcceptHouseRules(
        identity_pb2.AcceptHouseRulesRequest(version=3), metadata=client.metadata()
    )
    guardian = devices.account("guardian")
    identity.ConsentToGuardianLink(
        identity_pb2.ConsentToGuardianLinkRequest(other_account_id=client.account_id),
        metadata=guardian.metadata(),
    )
    events = client.export()["events"]
    assert isinstance(events, list)
    topics = [e["topic"] for e in events]
    assert topics[:2] == [
        "hearth.identity.v1.AccountRegistered",
        "hearth.identity.v1.PersonalDataRecorded",
    ]
    assert "hearth.identity.v1.HouseRulesAccepted" in topics
    # The guardian's consent names this child, so it is held about them too.
    assert "hearth.identity.v1.GuardianLinkOpened" in topics
    sealed = next(e for e in events if e["topic"].endswith("PersonalDataRecorded"))
    assert sealed["fields"]["opened"] == {"display_name": NAME}


def test_erasure_destroys_the_key_and_records_that_it_did(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("young_person", display_name=NAME)
    token = client.state.session_token
    identity.EraseAccount(identity_pb2.EraseAccountRequest(), metadata=client.metadata())
    assert "hearth.identity.v1.AccountErased" in topics_of(platform)
    keys = [(s, p) for s, p in stored(platform) if s.endswith(client.account_id)]
    assert keys and all(payload == b"" for _s, payload in keys), "only a purge marker remains"
    # The unexpired session is no longer honoured (reason SESSION_REVOKED), not even to erase
    # again; renewing or logging in is refused.
    session = (("authorization", f"Bearer {token}"),)
    calls: list[Callable[[], object]] = [
        lambda: identity.GetAccount(identity_pb2.GetAccountRequest(), metadata=session),
        lambda: identity.EraseAccount(identity_pb2.EraseAccountRequest(), metadata=session),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as caught:
            call()
        info = error_info(caught.value)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert info is not None and info.reason == "SESSION_REVOKED"
    account = export_of(platform, client.account_id)["account"]
    assert account["erased"] is True and account["personal_data"] == {}
    code, _ = code_of(client.renew)
    assert code == grpc.StatusCode.UNAUTHENTICATED
    code, _ = code_of(client.login)
    assert code == grpc.StatusCode.UNAUTHENTICATED


def test_the_export_after_erasure_has_no_personal_data(
    platform: Platform, identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("guardian", display_name=NAME)
    metadata = client.metadata()
    identity.EraseAccount(identity_pb2.EraseAccountRequest(), metadata=metadata)
    document = json.dumps(export_of(platform, client.account_id))
    assert NAME not in document
    assert "(key destroyed)" in document
