"""Personal data is sealed under a per-subject key; erasure destroys the key; subject access
returns everything held. Checked against what actually lands in JetStream."""

from __future__ import annotations

import base64

import grpc
from nacl.secret import SecretBox

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.platform import Platform
from tests.identity.support import WRAPPING, Devices, stored, topics_of
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
    # The session still verifies until it expires, and shows nothing personal.
    account = identity.GetAccount(
        identity_pb2.GetAccountRequest(), metadata=(("authorization", f"Bearer {token}"),)
    )
    assert account.erased and account.display_name == ""
    # Erasing again is harmless; renewing or logging in is refused.
    identity.EraseAccount(
        identity_pb2.EraseAccountRequest(), metadata=(("authorization", f"Bearer {token}"),)
    )
    code, _ = code_of(client.renew)
    assert code == grpc.StatusCode.UNAUTHENTICATED
    code, _ = code_of(client.login)
    assert code == grpc.StatusCode.UNAUTHENTICATED


def test_the_export_after_erasure_has_no_personal_data(
    identity: identity_pb2_grpc.IdentityServiceStub, devices: Devices
) -> None:
    client = devices.account("guardian", display_name=NAME)
    metadata = client.metadata()
    identity.EraseAccount(identity_pb2.EraseAccountRequest(), metadata=metadata)
    response = identity.ExportMyData(identity_pb2.ExportMyDataRequest(), metadata=metadata)
    assert NAME not in response.document
    assert "(key destroyed)" in response.document
