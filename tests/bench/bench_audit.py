"""Audit figures: witnessing a followed stream into the Merkle log, proofs, offline verification.

`audit.merkle.append` follows a pre-loaded stream with the real audit application and the
runtime's `StreamFollower` (one leaf per upstream event, a batch of up to 500 recorded as one
audit event with one tracking record), against a `subscribe()` replay of the same stream: the
limit.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import Environment

from hearth_audit.application import Audit, CheckpointPolicy
from hearth_audit.evidence import (
    AuditedEvent,
    BundleEvent,
    TrailStatement,
    leaf_of,
    make_bundle,
)
from hearth_crypto.checkpoint import Checkpoint, NoteSigner
from hearth_crypto.merkle import MerkleTree, leaf_hash
from hearth_eventlog import PERSISTENCE, NatsApplicationRecorder, NatsFactory
from hearth_eventlog.records import encode_event, event_hash
from hearth_runtime.follow import FollowSettings, StreamFollower
from tests.bench.bench_eventlog import Timed, new_event, timed
from tests.bench.report import Report, best_by, best_of

FOLLOWED = 10_000  # events the audit follows per round
LOAD_BATCH = 1_000
PROOF_LEAVES = 1_000_000
PROOFS = 2_000
BUNDLE = 100_000
ROUNDS = 2
PROOF_ROUNDS = 3
EVENTS_PER_S = "events/s"
QUICK = {"FOLLOWED": 2_000, "PROOF_LEAVES": 10_000, "PROOFS": 100, "BUNDLE": 1_000}
QUICK |= {"ROUNDS": 1, "PROOF_ROUNDS": 1}  # `--quick`: every figure once, small
AUDIT_FOLLOWS = FollowSettings(batch=500, linger=0.02)  # the audit service's defaults


def run(report: Report) -> None:
    merkle_append(report)
    inclusion_proof(report)
    verify_bundle_100k(report)


def merkle_append(report: Report) -> None:
    url = report.nats_url
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    env = {
        "NATS_URL": url,
        **PERSISTENCE,
        "HEARTH_UPSTREAM_STREAM": f"{prefix}_UPSTREAM".upper(),
        "HEARTH_UPSTREAM_SUBJECT_PREFIX": f"{prefix}.upstream",
    }
    factory = NatsFactory(Environment("upstream", env))
    try:
        upstream = factory.application_recorder()
        for _ in range(FOLLOWED // LOAD_BATCH):
            events: list[StoredEvent] = []
            for _ in range(LOAD_BATCH // 10):
                originator = uuid.uuid4()
                events.extend(new_event(v, originator) for v in range(1, 11))
            upstream.insert_events(events)
        rounds = iter(range(100))

        def follow() -> Timed:
            n = next(rounds)
            audit_env = {
                **env,
                "HEARTH_AUDIT_STREAM": f"{prefix}_AUDIT{n}".upper(),
                "HEARTH_AUDIT_SUBJECT_PREFIX": f"{prefix}.audit{n}",
            }
            audit = Audit(env=audit_env, policy=CheckpointPolicy(every=1000, interval=3600))
            follower = StreamFollower(audit, "upstream", env, settings=AUDIT_FOLLOWS)
            last = upstream.max_notification_id()
            assert last is not None
            try:
                measured: list[Timed] = []
                with timed(FOLLOWED, measured):
                    follower.start()
                    follower.wait_until(last, timeout=600)
                return measured[0]
            finally:
                follower.stop()
                audit.close()

        append, replay = best_by(
            ROUNDS, lambda t: t.rate, follow, lambda: replay_subscribe(upstream)
        )
    finally:
        factory.close()
    report.figure("audit.replay.subscribe", replay.rate, EVENTS_PER_S)
    report.figure(
        "audit.merkle.append", append.rate, EVENTS_PER_S, baseline="audit.replay.subscribe"
    )
    report.compare("audit.merkle.append", "eventlog.replay.subscribe")
    # The process's CPU (follower, recorders' loops, the audit application) per leaf.
    report.figure("audit.cpu.us_per_replayed", replay.cpu * 1e6, "us")
    report.figure(
        "audit.cpu.us_per_leaf", append.cpu * 1e6, "us", baseline="audit.cpu.us_per_replayed"
    )

    # The tree itself, without the event log: what the Merkle part costs per event.
    payloads = [encode_event(new_event(), b"") for _ in range(20_000)]
    tree = MerkleTree()
    started = time.perf_counter()
    for start in range(0, len(payloads), AUDIT_FOLLOWS.batch):
        batch = enumerate(payloads[start : start + AUDIT_FOLLOWS.batch], start=start + 1)
        tree.extend([leaf_of(AuditedEvent("upstream", n, "s", (), p)) for n, p in batch])
    report.note(
        f"leaf encoding + tree extend alone: {len(payloads) / (time.perf_counter() - started):.0f}"
        " events/s; the rest is following the upstream (subscription, trace context) and"
        " recording one audit event per batch of leaves"
    )


def replay_subscribe(recorder: NatsApplicationRecorder) -> Timed:
    measured: list[Timed] = []
    with timed(FOLLOWED, measured):
        count = 0
        with recorder.subscribe() as subscription:
            for _ in subscription:
                count += 1
                if count == FOLLOWED:
                    break
    return measured[0]


def inclusion_proof(report: Report) -> None:
    started = time.perf_counter()
    tree = MerkleTree.from_leaf_hashes(leaf_hash(n.to_bytes(8, "big")) for n in range(PROOF_LEAVES))
    report.note(f"built a tree of {PROOF_LEAVES:,} leaves in {time.perf_counter() - started:.1f}s")
    indices = [random.randrange(PROOF_LEAVES) for _ in range(PROOFS)]

    def proofs_per_ms() -> float:
        begun = time.perf_counter()
        for index in indices:
            tree.inclusion_proof(index, PROOF_LEAVES)
        return PROOFS / ((time.perf_counter() - begun) * 1000)

    (rate,) = best_of(PROOF_ROUNDS, proofs_per_ms)
    report.figure("audit.proof.inclusion", 1 / rate, "ms")


def verify_bundle_100k(report: Report) -> None:
    """One aggregate with 100,000 events, each a leaf, proved and hash-chained."""
    signer = NoteSigner.generate("bench.hearth/audit")
    subject = uuid.uuid4()
    leaves: list[bytes] = []
    previous = b""
    for version in range(1, BUNDLE + 1):
        payload = encode_event(StoredEvent(subject, version, "bench.Event", b"{}"), previous)
        previous = event_hash(payload)
        leaves.append(AuditedEvent("upstream", version, str(subject), (), payload).encode())
    tree = MerkleTree.from_leaf_hashes(leaf_hash(leaf) for leaf in leaves)
    note = signer.sign(Checkpoint(signer.name, tree.size, tree.root()).body())
    events = [
        BundleEvent(i, leaf, tree.inclusion_proof(i, tree.size)) for i, leaf in enumerate(leaves)
    ]
    statement = TrailStatement(signer.name, "ps-bench", tree.size, tree.root(), BUNDLE, BUNDLE - 1)
    bundle = make_bundle(
        pseudonym="ps-bench",
        verifier_key=signer.vkey,
        checkpoint=note,
        trail=signer.sign(statement.body()),
        events=events,
    )
    path = Path(report.workdir) / "bundle100k.json"
    path.write_text(json.dumps(bundle))
    report.note(f"bundle of {BUNDLE:,} events: {path.stat().st_size / 1e6:.0f} MB")

    def seconds() -> float:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "hearth_audit.cli", "verify", str(path), "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
        took = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"the bench bundle did not verify: {result.stdout}")
        return 1 / took  # best_of keeps the largest: the fastest round

    (rate,) = best_of(ROUNDS, seconds)
    report.figure("audit.verify.bundle100k", 1 / rate, "s")
