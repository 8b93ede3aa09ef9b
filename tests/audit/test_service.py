"""The audit service over real gRPC and NATS: leaves, checkpoints, proofs, trails, disclosure."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from hearth_audit.evidence import verify_bundle
from hearth_audit.service import RULES, SERVICE
from hearth_audit.witness import Witness
from hearth_crypto.checkpoint import Checkpoint, Cosigner, NoteSigner, open_note
from hearth_crypto.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2_grpc
from hearth_runtime.platform import Platform
from tests.audit.conftest import ORIGIN, as_role
from tests.conftest import unique_name
from tests.runtime.support import ALL_ROLES, register
from tests.support import status
from tests.support.polling import wait_for

ROLES = sorted(ALL_ROLES)
HEARTH_AUDIT = str(Path(sys.executable).parent / "hearth-audit")


def state(audit: audit_pb2_grpc.AuditServiceStub, platform: Platform) -> Any:
    return audit.GetLogState(audit_pb2.GetLogStateRequest(), metadata=as_role(platform, "auditor"))


def checkpoint_at_least(
    audit: audit_pb2_grpc.AuditServiceStub, platform: Platform, size: int
) -> audit_pb2.GetCheckpointResponse:
    found: list[audit_pb2.GetCheckpointResponse] = []

    def signed() -> bool:
        cp = audit.GetCheckpoint(
            audit_pb2.GetCheckpointRequest(), metadata=as_role(platform, "auditor")
        )
        found[:] = [cp]
        return bool(cp.size >= size)

    wait_for(signed)
    return found[0]


def witnessed(
    identity: identity_pb2_grpc.IdentityServiceStub,
    audit: audit_pb2_grpc.AuditServiceStub,
    platform: Platform,
    count: int,
) -> list[str]:
    before = state(audit, platform).events_by_stream.get("identity", 0)
    accounts = [register(identity, unique_name("reg")) for _ in range(count)]
    wait_for(lambda: state(audit, platform).events_by_stream.get("identity", 0) >= before + count)
    # Other accounts' events may have been counted too: wait for these accounts' own.
    reader = as_role(platform, "auditor")

    def has_trail(account: str) -> bool:
        try:
            request = audit_pb2.GetTrailRequest(subject_id=account)
            return bool(audit.GetTrail(request, metadata=reader).entries)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:  # not witnessed yet
                raise
            return False

    for account in accounts:
        wait_for(lambda account=account: has_trail(account))  # type: ignore[misc]
    return accounts


def test_every_event_is_a_leaf_under_a_signed_checkpoint(
    platform: Platform,
    identity: identity_pb2_grpc.IdentityServiceStub,
    audit: audit_pb2_grpc.AuditServiceStub,
    log_signer: NoteSigner,
) -> None:
    witnessed(identity, audit, platform, 4)
    size = state(audit, platform).size
    cp = checkpoint_at_least(audit, platform, size)
    assert cp.verifier_key == log_signer.vkey
    checkpoint = Checkpoint.parse(open_note(cp.checkpoint, [log_signer.verifier]).body)
    assert (checkpoint.origin, checkpoint.size, checkpoint.root_hash) == (
        ORIGIN,
        cp.size,
        cp.root_hash,
    )
    reader = as_role(platform, "auditor")
    for index in range(cp.size):
        proof = audit.GetInclusionProof(
            audit_pb2.GetInclusionProofRequest(index=index), metadata=reader
        )
        verify_inclusion(proof.leaf_hash, index, cp.size, list(proof.proof), cp.root_hash)


def test_checkpoints_are_consistent_and_witnessed(
    platform: Platform,
    identity: identity_pb2_grpc.IdentityServiceStub,
    audit: audit_pb2_grpc.AuditServiceStub,
    log_signer: NoteSigner,
) -> None:
    witnessed(identity, audit, platform, 1)
    first = checkpoint_at_least(audit, platform, state(audit, platform).size)
    witness = Witness(log_signer.verifier, Cosigner.generate("regulator"))
    reader = as_role(platform, "auditor")
    answer = audit.WitnessCheckpoint(audit_pb2.WitnessCheckpointRequest(), metadata=reader)
    witness.cosign(answer.checkpoint, list(answer.proof))

    witnessed(identity, audit, platform, 4)
    second = checkpoint_at_least(audit, platform, state(audit, platform).size)
    assert second.size > first.size
    proof = audit.GetConsistencyProof(
        audit_pb2.GetConsistencyProofRequest(old_size=first.size, new_size=second.size),
        metadata=reader,
    )
    verify_consistency(first.size, second.size, first.root_hash, second.root_hash, proof.proof)
    answer = audit.WitnessCheckpoint(
        audit_pb2.WitnessCheckpointRequest(last_seen=witness.last or ""), metadata=reader
    )
    assert "— regulator " in witness.cosign(answer.checkpoint, list(answer.proof))

    # A checkpoint of another history, under the log's own key: a fork the log refuses.
    fork = MerkleTree.from_leaf_hashes(leaf_hash(b"%d" % i) for i in range(first.size))
    forked = log_signer.sign(Checkpoint(ORIGIN, first.size, fork.root()).body())
    with pytest.raises(grpc.RpcError) as caught:
        audit.WitnessCheckpoint(
            audit_pb2.WitnessCheckpointRequest(last_seen=forked), metadata=reader
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    strange = NoteSigner.generate(ORIGIN).sign(Checkpoint(ORIGIN, 1, fork.root(1)).body())
    with pytest.raises(grpc.RpcError) as caught:
        audit.WitnessCheckpoint(
            audit_pb2.WitnessCheckpointRequest(last_seen=strange), metadata=reader
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_trails_show_pseudonyms_and_every_read_is_a_leaf(
    platform: Platform,
    identity: identity_pb2_grpc.IdentityServiceStub,
    audit: audit_pb2_grpc.AuditServiceStub,
) -> None:
    (account,) = witnessed(identity, audit, platform, 1)
    before = state(audit, platform).size
    trail = audit.GetTrail(
        audit_pb2.GetTrailRequest(subject_id=account), metadata=as_role(platform, "auditor")
    )
    assert trail.pseudonym.startswith("ps-")
    assert account not in str(trail)
    assert [e.stream for e in trail.entries] == ["identity"]
    assert trail.entries[0].kind.endswith("AccountRegistered")
    again = audit.GetTrail(
        audit_pb2.GetTrailRequest(pseudonym=trail.pseudonym),
        metadata=as_role(platform, "safeguarding_lead"),
    )
    assert again.entries == trail.entries
    # Each of the two reads became a leaf of the log.
    wait_for(lambda: state(audit, platform).size >= before + 2)
    figures = audit.GetTransparencyFigures(
        audit_pb2.GetTransparencyFiguresRequest(period=audit_pb2.PERIOD_DAY),
        metadata=as_role(platform, "auditor"),
    )
    counts = {(c.stream, c.kind): c.count for c in figures.counts}
    assert counts[("audit", "GetTrail")] >= 2
    assert any(s == "identity" and k.endswith("AccountRegistered") for s, k in counts)


def test_disclosure_needs_two_distinct_roles_and_the_bundle_verifies(
    platform: Platform,
    identity: identity_pb2_grpc.IdentityServiceStub,
    audit: audit_pb2_grpc.AuditServiceStub,
    log_signer: NoteSigner,
    tmp_path: Path,
) -> None:
    (account,) = witnessed(identity, audit, platform, 1)
    regulator = as_role(platform, "auditor", account="regulator-1")
    pseudonym = audit.GetTrail(
        audit_pb2.GetTrailRequest(subject_id=account), metadata=regulator
    ).pseudonym
    request_id = unique_name("disclose")
    asked = audit_pb2.RequestDisclosureRequest(
        request_id=request_id, pseudonym=pseudonym, reason="coroner's inquest 2026/17"
    )
    disclosure_id = audit.RequestDisclosure(asked, metadata=regulator).disclosure_id
    assert audit.RequestDisclosure(asked, metadata=regulator).disclosure_id == disclosure_id
    export = audit_pb2.ExportBundleRequest(disclosure_id=disclosure_id)
    assert code_of(lambda: audit.ExportBundle(export, metadata=regulator)) == "FAILED_PRECONDITION"

    approve = audit_pb2.ApproveDisclosureRequest(request_id="a", disclosure_id=disclosure_id)
    lead = as_role(platform, "safeguarding_lead", account="lead-1")
    first = audit.ApproveDisclosure(approve, metadata=lead)
    assert (list(first.approved_by_roles), first.approved) == (["safeguarding_lead"], False)
    assert audit.ApproveDisclosure(approve, metadata=lead).approved is False  # a retry
    other_lead = as_role(platform, "safeguarding_lead", account="lead-2")
    assert code_of(lambda: audit.ApproveDisclosure(approve, metadata=other_lead)) == (
        "PERMISSION_DENIED"
    )
    assert code_of(lambda: audit.ExportBundle(export, metadata=regulator)) == "FAILED_PRECONDITION"
    dpo = as_role(platform, "data_protection_officer", account="dpo-1")
    assert audit.ApproveDisclosure(approve, metadata=dpo).approved

    someone_else = as_role(platform, "auditor")
    assert code_of(lambda: audit.ExportBundle(export, metadata=someone_else)) == (
        "PERMISSION_DENIED"
    )
    bundle = json.loads(audit.ExportBundle(export, metadata=regulator).bundle)
    result = verify_bundle(bundle, trusted_key=log_signer.vkey)
    assert result.pseudonym == pseudonym
    assert result.trails == [("identity", account, 1)]

    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    ok = subprocess.run(
        [HEARTH_AUDIT, "verify", str(path), "--key", log_signer.vkey],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stdout
    leaf = bytearray(base64.b64decode(bundle["events"][0]["leaf"]))
    leaf[-1] ^= 1
    bundle["events"][0]["leaf"] = base64.b64encode(bytes(leaf)).decode()
    path.write_text(json.dumps(bundle))
    failed = subprocess.run(
        [HEARTH_AUDIT, "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    assert failed.returncode == 1 and failed.stdout.startswith("FAILED: inclusion")


def test_the_requester_cannot_approve_their_own_disclosure(
    platform: Platform,
    identity: identity_pb2_grpc.IdentityServiceStub,
    audit: audit_pb2_grpc.AuditServiceStub,
) -> None:
    (account,) = witnessed(identity, audit, platform, 1)
    lead = as_role(platform, "safeguarding_lead", account="lead-requester")
    pseudonym = audit.GetTrail(audit_pb2.GetTrailRequest(subject_id=account), metadata=lead)
    disclosure_id = audit.RequestDisclosure(
        audit_pb2.RequestDisclosureRequest(
            request_id="r1", pseudonym=pseudonym.pseudonym, reason="case review"
        ),
        metadata=lead,
    ).disclosure_id
    approve = audit_pb2.ApproveDisclosureRequest(request_id="a", disclosure_id=disclosure_id)
    assert code_of(lambda: audit.ApproveDisclosure(approve, metadata=lead)) == "PERMISSION_DENIED"
    reused = audit_pb2.RequestDisclosureRequest(
        request_id="r1", pseudonym=pseudonym.pseudonym, reason="another reason"
    )
    assert code_of(lambda: audit.RequestDisclosure(reused, metadata=lead)) == "ALREADY_EXISTS"


def code_of(call: Callable[[], object]) -> str:
    return str(status.code_of(call)[0].name)


BAD_INPUT = [
    ("GetInclusionProof", audit_pb2.GetInclusionProofRequest(index=10**9), "NOT_FOUND"),
    ("GetConsistencyProof", audit_pb2.GetConsistencyProofRequest(old_size=10**9), "NOT_FOUND"),
    ("GetTrail", audit_pb2.GetTrailRequest(), "INVALID_ARGUMENT"),
    ("GetTrail", audit_pb2.GetTrailRequest(pseudonym="ps-nobody"), "NOT_FOUND"),
    ("GetTrail", audit_pb2.GetTrailRequest(pseudonym="x" * 2000), "INVALID_ARGUMENT"),
    (
        "GetTransparencyFigures",
        audit_pb2.GetTransparencyFiguresRequest(period=99),  # type: ignore[arg-type]
        "INVALID_ARGUMENT",
    ),
    ("RequestDisclosure", audit_pb2.RequestDisclosureRequest(), "INVALID_ARGUMENT"),
    (
        "RequestDisclosure",
        audit_pb2.RequestDisclosureRequest(request_id="r", pseudonym="ps-nobody", reason="x"),
        "NOT_FOUND",
    ),
    (
        "ApproveDisclosure",
        audit_pb2.ApproveDisclosureRequest(request_id="r", disclosure_id="nope"),
        "INVALID_ARGUMENT",
    ),
    (
        "ApproveDisclosure",
        audit_pb2.ApproveDisclosureRequest(
            request_id="r", disclosure_id="00000000-0000-4000-8000-000000000000"
        ),
        "NOT_FOUND",
    ),
    ("ExportBundle", audit_pb2.ExportBundleRequest(disclosure_id=""), "INVALID_ARGUMENT"),
    ("WitnessCheckpoint", audit_pb2.WitnessCheckpointRequest(last_seen="junk"), "INVALID_ARGUMENT"),
]


@pytest.mark.parametrize(("method", "request_", "expected"), BAD_INPUT)
def test_bad_input_gets_the_right_status(
    platform: Platform,
    audit: audit_pb2_grpc.AuditServiceStub,
    method: str,
    request_: Any,
    expected: str,
) -> None:
    roles = RULES[f"/{SERVICE}/{method}"].roles or frozenset()
    metadata = as_role(platform, sorted(roles)[0])
    assert code_of(lambda: getattr(audit, method)(request_, metadata=metadata)) == expected


EMPTY = {
    name: getattr(audit_pb2, f"{name}Request")()
    for name in (path.rsplit("/", 1)[-1] for path in RULES)
}


@pytest.mark.parametrize("method", sorted(EMPTY))
@pytest.mark.parametrize("role", ROLES)
def test_every_rpc_is_for_its_declared_roles(
    platform: Platform, audit: audit_pb2_grpc.AuditServiceStub, method: str, role: str
) -> None:
    rule = RULES[f"/{SERVICE}/{method}"]
    code = code_of(lambda: getattr(audit, method)(EMPTY[method], metadata=as_role(platform, role)))
    if rule.roles is not None and role not in rule.roles:
        assert code == "PERMISSION_DENIED"
    else:
        assert code not in ("PERMISSION_DENIED", "UNAUTHENTICATED", "INTERNAL", "UNKNOWN")


@pytest.mark.parametrize("method", sorted(EMPTY))
def test_every_rpc_needs_a_session(audit: audit_pb2_grpc.AuditServiceStub, method: str) -> None:
    assert code_of(lambda: getattr(audit, method)(EMPTY[method])) == "UNAUTHENTICATED"
