"""Erasure stays verifiable: with the real identity service, an erased account's trail is still
exported and verified, while its personal data no longer opens anywhere."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

from nacl.secret import SecretBox

from hearth_audit.evidence import AuditedEvent
from hearth_crypto.checkpoint import NoteSigner
from hearth_eventlog.published import decode_published
from hearth_eventlog.records import decode_record
from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import events_pb2, identity_pb2, identity_pb2_grpc
from hearth_runtime.platform import Platform
from tests.audit.conftest import as_role
from tests.audit.test_service import HEARTH_AUDIT
from tests.conftest import unique_name
from tests.identity.support import Devices, export_of, stored
from tests.support.polling import wait_for

NAME = "Ottoline Brackenbury-Quist"


def subject_keys(platform: Platform, account_id: str) -> list[bytes]:
    """What identity's subject-key bucket holds for the account, raw (purge markers are b"")."""
    return [
        p for s, p in stored(platform) if "_SUBJECT_KEYS" in s.upper() and s.endswith(account_id)
    ]


def test_an_erased_accounts_trail_verifies_and_its_personal_data_no_longer_opens(
    platform: Platform,
    identity: identity_pb2_grpc.IdentityServiceStub,
    audit: audit_pb2_grpc.AuditServiceStub,
    log_signer: NoteSigner,
    tmp_path: Path,
) -> None:
    client = Devices(platform, tmp_path).account("young_person", display_name=NAME)
    account = client.account_id
    identity.AcceptHouseRules(
        identity_pb2.AcceptHouseRulesRequest(version=1), metadata=client.metadata()
    )
    identity.RecordConsent(
        identity_pb2.RecordConsentRequest(purpose="guardian_notices", granted=True),
        metadata=client.metadata(),
    )
    (key_before,) = [k for k in subject_keys(platform, account) if k]
    metadata = client.metadata()
    identity.EraseAccount(identity_pb2.EraseAccountRequest(), metadata=metadata)

    regulator = as_role(platform, "auditor", account=unique_name("regulator"))

    def erasure_witnessed() -> bool:
        trail = audit.GetTrail(audit_pb2.GetTrailRequest(subject_id=account), metadata=regulator)
        return any(e.kind.endswith("AccountErased") for e in trail.entries)

    wait_for(erasure_witnessed)
    pseudonym = audit.GetTrail(
        audit_pb2.GetTrailRequest(subject_id=account), metadata=regulator
    ).pseudonym
    disclosure_id = audit.RequestDisclosure(
        audit_pb2.RequestDisclosureRequest(
            request_id=unique_name("r"), pseudonym=pseudonym, reason="erasure review"
        ),
        metadata=regulator,
    ).disclosure_id
    approve = audit_pb2.ApproveDisclosureRequest(request_id="a", disclosure_id=disclosure_id)
    audit.ApproveDisclosure(approve, metadata=as_role(platform, "safeguarding_lead"))
    audit.ApproveDisclosure(approve, metadata=as_role(platform, "data_protection_officer"))
    text = audit.ExportBundle(
        audit_pb2.ExportBundleRequest(disclosure_id=disclosure_id), metadata=regulator
    ).bundle.decode()
    path = tmp_path / "erased.json"
    path.write_text(text)
    verified = subprocess.run(
        [HEARTH_AUDIT, "verify", str(path), "--key", log_signer.vkey, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    result = json.loads(verified.stdout)
    assert result["trails"] == [{"stream": "identity", "subject": account, "events": 5}]
    assert result["kinds"] == {
        "hearth.identity.v1.AccountRegistered": 1,
        "hearth.identity.v1.PersonalDataRecorded": 1,
        "hearth.identity.v1.HouseRulesAccepted": 1,
        "hearth.identity.v1.ConsentRecorded": 1,
        "hearth.identity.v1.AccountErased": 1,
    }

    # Cut short after its last event (the erasure), the bundle no longer verifies.
    cut = json.loads(text)
    del cut["events"][-1]
    path.write_text(json.dumps(cut))
    refused = subprocess.run(
        [HEARTH_AUDIT, "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 1 and refused.stdout.startswith("FAILED: trail statement")

    # The personal data is in the bundle only sealed, and its key is gone from identity's bucket.
    assert NAME not in text
    sealed = []
    for entry in json.loads(text)["events"]:
        record = decode_record(AuditedEvent.decode(base64.b64decode(entry["leaf"])).payload)
        assert NAME.encode() not in record.state
        message = decode_published(record.topic, record.state)
        if isinstance(message, events_pb2.PersonalDataRecorded):
            sealed.append(message.sealed)
    assert len(sealed) == 1
    assert not any(subject_keys(platform, account)), "only a purge marker remains"
    # Only the destroyed key opened it: what the bundle carries is the real personal data.
    assert json.loads(SecretBox(key_before).decrypt(sealed[0])) == {"display_name": NAME}

    # Identity's own export no longer returns it either.
    exported = export_of(platform, account)
    assert NAME not in json.dumps(exported)
    assert exported["account"]["erased"] is True
    assert exported["account"]["personal_data"] == {}
    assert exported["account"]["subject_key_held"] is False
    assert "(key destroyed)" in json.dumps(exported)
