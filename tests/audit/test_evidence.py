"""Evidence bundles verified offline: a true bundle passes; every kind of tampering fails."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from hearth_audit.evidence import (
    AuditedEvent,
    BundleError,
    BundleEvent,
    MalformedLeaf,
    TrailStatement,
    leaf_of,
    make_bundle,
    verify_bundle,
)
from hearth_audit.witness import Witness, WitnessRefused
from hearth_crypto.checkpoint import Checkpoint, Cosigner, NoteSigner
from hearth_crypto.merkle import MerkleTree, leaf_hash
from hearth_eventlog.records import encode_event, event_hash

ORIGIN = "test.hearth/audit"
HEARTH_AUDIT = str(Path(sys.executable).parent / "hearth-audit")


def test_leaf_hash_is_rfc6962() -> None:
    # RFC 6962 / CT test vector: the leaf hash of the empty leaf.
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


def test_leaf_round_trips_and_rejects_trailing_bytes() -> None:
    event = AuditedEvent("identity", 7, "abc", (("traceparent", "00-x"),), b"\x00payload")
    assert AuditedEvent.decode(event.encode()) == event
    with pytest.raises(MalformedLeaf):
        AuditedEvent.decode(event.encode() + b"!")
    with pytest.raises(MalformedLeaf):
        AuditedEvent.decode(event.encode()[:-1])


class Log:
    """A log of two aggregates' events interleaved with noise, as the audit service keeps it."""

    def __init__(self, signer: NoteSigner) -> None:
        self.signer = signer
        self.tree = MerkleTree()
        self.leaves: list[bytes] = []
        self.subject = uuid.uuid4()
        self.heads: dict[uuid.UUID, bytes] = {}
        self.versions: dict[uuid.UUID, int] = {}
        self.sequence = 0

    def append(self, originator: uuid.UUID) -> None:
        version = self.versions.get(originator, 0) + 1
        stored = StoredEvent(originator, version, "hearth.test.v1.Happened", b"{}")
        payload = encode_event(stored, self.heads.get(originator, b""))
        self.heads[originator], self.versions[originator] = event_hash(payload), version
        self.sequence += 1
        leaf = AuditedEvent("identity", self.sequence, str(originator), (), payload).encode()
        self.leaves.append(leaf)
        self.tree.append(leaf_hash(leaf))

    def note(self, size: int | None = None) -> str:
        size = self.tree.size if size is None else size
        return self.signer.sign(Checkpoint(ORIGIN, size, self.tree.root(size)).body())

    def trail(self, events: int, last_index: int, pseudonym: str = "ps-test") -> str:
        size = self.tree.size
        statement = TrailStatement(
            ORIGIN, pseudonym, size, self.tree.root(size), events, last_index
        )
        return self.signer.sign(statement.body())

    def bundle(self, *, known: tuple[int, ...] = ()) -> dict[str, Any]:
        size = self.tree.size
        mine = [
            i
            for i, leaf in enumerate(self.leaves)
            if AuditedEvent.decode(leaf).subject == str(self.subject)
        ]
        return make_bundle(
            pseudonym="ps-test",
            verifier_key=self.signer.vkey,
            checkpoint=self.note(),
            trail=self.trail(len(mine), mine[-1]),
            events=[
                BundleEvent(i, self.leaves[i], self.tree.inclusion_proof(i, size)) for i in mine
            ],
            consistency=[(k, self.tree.consistency_proof(k, size)) for k in known],
        )


@pytest.fixture
def log() -> Log:
    log = Log(NoteSigner.generate(ORIGIN))
    other = uuid.uuid4()
    for n in range(12):
        log.append(log.subject if n % 3 else other)
    return log


def failed_check(bundle: object, **kwargs: Any) -> str:
    with pytest.raises(BundleError) as caught:
        verify_bundle(bundle, **kwargs)
    return caught.value.check


def test_a_true_bundle_verifies(log: Log) -> None:
    result = verify_bundle(log.bundle())
    assert result.events == 8
    assert result.trails == [("identity", str(log.subject), 8)]
    assert result.tree_size == 12


def test_an_altered_event_is_rejected(log: Log) -> None:
    bundle = log.bundle()
    leaf = AuditedEvent.decode(_leaf(bundle, 2))
    altered = AuditedEvent(leaf.stream, leaf.sequence, leaf.subject, (), leaf.payload + b"\x01")
    _set_leaf(bundle, 2, altered.encode())
    assert failed_check(bundle) == "inclusion"


def test_reordered_events_are_rejected(log: Log) -> None:
    bundle = log.bundle()
    bundle["events"][1], bundle["events"][2] = bundle["events"][2], bundle["events"][1]
    assert failed_check(bundle) == "order"


def test_a_removed_event_is_rejected(log: Log) -> None:
    bundle = log.bundle()
    del bundle["events"][3]
    assert failed_check(bundle) == "hash chain"


def test_a_removed_last_event_is_rejected(log: Log) -> None:
    # The hash chain holds for any prefix of a trail: only the signed statement shows the cut.
    bundle = log.bundle()
    del bundle["events"][-1]
    assert failed_check(bundle) == "trail statement"


def test_a_removed_tail_is_rejected(log: Log) -> None:
    bundle = log.bundle()
    del bundle["events"][-3:]
    assert failed_check(bundle) == "trail statement"


def test_the_trail_statement_must_be_there_and_signed_by_the_log(log: Log) -> None:
    bundle = log.bundle()
    del bundle["trail"]
    assert failed_check(bundle) == "trail statement"
    bundle = log.bundle()
    del bundle["events"][-1]
    stranger = NoteSigner.generate(ORIGIN)
    statement = TrailStatement.parse(bundle["trail"].split("\n\n")[0] + "\n")
    shorter = TrailStatement(
        ORIGIN, "ps-test", statement.tree_size, statement.root_hash, 7, statement.last_index - 1
    )
    bundle["trail"] = stranger.sign(shorter.body())
    assert failed_check(bundle) == "trail statement signature"


def test_a_statement_about_another_trail_or_tree_is_rejected(log: Log) -> None:
    bundle = log.bundle()
    bundle["trail"] = log.trail(8, 11, pseudonym="ps-other")
    assert failed_check(bundle) == "trail statement"
    older = TrailStatement(ORIGIN, "ps-test", 11, log.tree.root(11), 8, 11)
    bundle["trail"] = log.signer.sign(older.body())
    assert failed_check(bundle) == "trail statement"
    bundle["trail"] = log.note()  # a checkpoint is no trail statement
    assert failed_check(bundle) == "trail statement"


def test_a_trail_statement_is_never_read_as_a_checkpoint(log: Log) -> None:
    bundle = log.bundle()
    bundle["checkpoint"] = bundle["trail"]
    assert failed_check(bundle) == "checkpoint signature"


def test_a_v1_bundle_is_refused_with_a_reason(log: Log) -> None:
    bundle = log.bundle()
    bundle["format"] = "hearth-audit-bundle/v1"
    with pytest.raises(BundleError, match="no trail statement"):
        verify_bundle(bundle)


def test_an_inserted_event_is_rejected(log: Log) -> None:
    bundle = log.bundle()
    forged = copy.deepcopy(bundle["events"][2])
    forged["index"] += 1  # a leaf the log never had at that index
    bundle["events"].insert(3, forged)
    assert failed_check(bundle) == "inclusion"


def test_an_inserted_event_of_another_subject_is_rejected(log: Log) -> None:
    # The other aggregate's leaf is in the tree with a valid proof, but not of this trail.
    bundle = log.bundle()
    stray = make_bundle(
        pseudonym="",
        verifier_key="",
        checkpoint="",
        trail="",
        events=[BundleEvent(0, log.leaves[0], log.tree.inclusion_proof(0, log.tree.size))],
    )["events"][0]
    bundle["events"].insert(0, stray)
    assert failed_check(bundle) == "trail"


def test_a_wrong_key_is_rejected(log: Log) -> None:
    bundle = log.bundle()
    bundle["verifier_key"] = NoteSigner.generate(ORIGIN).vkey
    assert failed_check(bundle) == "checkpoint signature"
    assert failed_check(log.bundle(), trusted_key=NoteSigner.generate(ORIGIN).vkey) == "key"


def test_consistency_with_an_earlier_checkpoint(log: Log) -> None:
    earlier = log.note(5)
    bundle = log.bundle(known=(5,))
    assert verify_bundle(bundle, previous_checkpoint=earlier).previous_size == 5
    assert failed_check(log.bundle(), previous_checkpoint=earlier) == "consistency"


def test_an_inconsistent_checkpoint_is_rejected(log: Log) -> None:
    # The same key signed a fork: a checkpoint of size 5 with another history.
    fork = MerkleTree.from_leaf_hashes(leaf_hash(b"fork %d" % i) for i in range(5))
    forked = log.signer.sign(Checkpoint(ORIGIN, 5, fork.root()).body())
    assert failed_check(log.bundle(known=(5,)), previous_checkpoint=forked) == "consistency"


def test_the_witness_cosigns_only_consistent_checkpoints(log: Log) -> None:
    witness = Witness(log.signer.verifier, Cosigner.generate("regulator-witness"))
    first = witness.cosign(log.note(5), [])
    assert "regulator-witness" in first
    witness.cosign(log.note(), log.tree.consistency_proof(5, 12))
    fork = MerkleTree.from_leaf_hashes(leaf_hash(b"fork %d" % i) for i in range(13))
    forked = log.signer.sign(Checkpoint(ORIGIN, 13, fork.root()).body())
    with pytest.raises(WitnessRefused, match="not consistent"):
        witness.cosign(forked, fork.consistency_proof(12, 13))
    with pytest.raises(WitnessRefused, match="older"):
        witness.cosign(log.note(5), [])


def test_cli_verifies_and_names_what_failed(log: Log, tmp_path: Path) -> None:
    good = tmp_path / "bundle.json"
    good.write_text(json.dumps(log.bundle(known=(5,))))
    earlier = tmp_path / "earlier.note"
    earlier.write_text(log.note(5))
    ok = run_cli("verify", str(good), "--previous-checkpoint", str(earlier))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("OK: evidence bundle for ps-test")
    assert "consistency" in ok.stdout
    as_json = json.loads(run_cli("verify", str(good), "--json").stdout)
    assert as_json["ok"] and as_json["events"] == 8 and as_json["last_index"] == 11

    bundle = log.bundle()
    del bundle["events"][3]
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(bundle))
    failed = run_cli("verify", str(bad))
    assert failed.returncode == 1
    assert failed.stdout.startswith("FAILED: hash chain")
    answer = json.loads(run_cli("verify", str(bad), "--json").stdout)
    assert answer == {"ok": False, "failed": "hash chain", "detail": answer["detail"]}
    bundle = log.bundle()
    del bundle["events"][-1]
    bad.write_text(json.dumps(bundle))
    cut = run_cli("verify", str(bad))
    assert cut.returncode == 1 and cut.stdout.startswith("FAILED: trail statement"), cut.stdout
    missing = run_cli("verify", str(tmp_path / "nothing.json"))
    assert missing.returncode == 1 and "FAILED: file" in missing.stdout
    not_json = tmp_path / "not.json"
    not_json.write_text("{")
    assert run_cli("verify", str(not_json)).stdout.startswith("FAILED: format")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HEARTH_AUDIT, *args], capture_output=True, text=True, timeout=60)


def _leaf(bundle: dict[str, Any], position: int) -> bytes:
    import base64

    return base64.b64decode(bundle["events"][position]["leaf"])


def _set_leaf(bundle: dict[str, Any], position: int, leaf: bytes) -> None:
    import base64

    bundle["events"][position]["leaf"] = base64.b64encode(leaf).decode()


def test_leaf_of_is_the_leaf_hash_of_the_encoding() -> None:
    event = AuditedEvent("age", 1, "s", (), b"p")
    assert leaf_of(event) == leaf_hash(event.encode())
