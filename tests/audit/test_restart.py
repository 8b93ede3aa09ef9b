"""The Merkle log lives in the audit's own event log: a restart resumes leaf for leaf."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate, event

from hearth_audit.application import Audit, CheckpointPolicy
from hearth_audit.domain import AuditError, AuditLog
from hearth_audit.evidence import AuditedEvent, leaf_of, verify_bundle
from hearth_crypto.checkpoint import NoteSigner
from hearth_crypto.merkle import MerkleTree, verify_consistency
from hearth_eventlog import PERSISTENCE, TracedNotification
from hearth_eventlog.published import decode_published
from hearth_proto.hearth.audit.v1 import events_pb2
from hearth_runtime.application import HearthApplication
from hearth_runtime.follow import FollowSettings, StreamFollower
from hearth_runtime.sessions import Session
from tests.audit.conftest import ORIGIN
from tests.conftest import stream_environ, unique_name


class Diary(HearthApplication):
    """A stand-in upstream service."""

    name = "diary"

    def write(self, entry: UUID | None = None) -> UUID:
        page: Page = Page() if entry is None else self.repository.get(entry)
        if entry is not None:
            page.amend()
        self.save(page)
        return page.id

    def erase(self, entry: UUID) -> None:
        page: Page = self.repository.get(entry)
        page.erase()
        self.save(page)


class Page(Aggregate):
    @event("Written")
    def __init__(self) -> None:
        self.amendments = 0

    @event("Amended")
    def amend(self) -> None:
        self.amendments += 1

    @event("Erased")  # as identity records erasure: the subject key is destroyed, the log stays
    def erase(self) -> None:
        self.amendments = -1


@pytest.fixture
def env(nats_url: str) -> dict[str, str]:
    return {
        **stream_environ(unique_name("r"), "diary", "audit"),
        "NATS_URL": nats_url,
        **PERSISTENCE,
    }


@pytest.fixture
def diary(env: dict[str, str]) -> Iterator[Diary]:
    # A stand-in from outside Hearth: its events are eventsourcing's own, with no schemas.
    app = Diary(env={**env, "DIARY_MAPPER_TOPIC": "eventsourcing.persistence:Mapper"})
    yield app
    app.close()


SIGNER = NoteSigner.generate(ORIGIN)
BATCHES = FollowSettings(batch=500, linger=0.02)  # as the audit service follows


def start_audit(env: dict[str, str]) -> tuple[Audit, StreamFollower]:
    audit = Audit(
        env=env, signer=SIGNER, policy=CheckpointPolicy(every=2, interval=60), upstream_env=env
    )
    follower = StreamFollower(audit, "diary", env, settings=BATCHES)
    follower.start()
    return audit, follower


def caught_up(diary: Diary, follower: StreamFollower) -> None:
    last = diary.recorder.max_notification_id()
    assert last is not None
    follower.wait_until(last, timeout=20)


def expected_leaves(diary: Diary) -> list[bytes]:
    notifications = diary.recorder.select_notifications(start=None, limit=10_000)
    leaves = []
    for n in notifications:
        assert isinstance(n, TracedNotification)
        event = AuditedEvent("diary", n.id, str(n.originator_id), n.trace_context, n.payload)
        leaves.append(leaf_of(event))
    return leaves


def test_a_restart_resumes_without_skipping_or_repeating_a_leaf(
    env: dict[str, str], diary: Diary
) -> None:
    first = diary.write()
    diary.write(first)
    for _ in range(3):
        diary.write()
    audit, follower = start_audit(env)
    caught_up(diary, follower)
    follower.stop()
    before = audit.audit_log
    checkpoint_before = audit.sign_checkpoint()
    audit.close()
    assert before.size == 5 and checkpoint_before is not None

    diary.write(first)
    diary.write()
    diary.write()

    audit, follower = start_audit(env)
    try:
        rebuilt = audit.audit_log
        assert rebuilt.size == 5
        assert rebuilt.tree.root() == before.tree.root()
        caught_up(diary, follower)
        log = audit.audit_log
        assert log.size == 8
        assert log.by_stream == {"diary": 8}
        leaves = expected_leaves(diary)
        assert [log.tree.leaf(i) for i in range(log.size)] == leaves
        assert log.tree.root() == MerkleTree.from_leaf_hashes(leaves).root()
        latest = audit.sign_checkpoint()
        assert latest is not None
        verify_consistency(
            checkpoint_before.size,
            latest.size,
            checkpoint_before.root_hash,
            latest.root_hash,
            log.tree.consistency_proof(checkpoint_before.size, latest.size),
        )
        sizes = [c.size for c in log.checkpoints]
        assert sizes == sorted(sizes)
    finally:
        follower.stop()
        audit.close()


def test_an_erased_subject_s_trail_still_verifies(env: dict[str, str], diary: Diary) -> None:
    page = diary.write()
    diary.write(page)
    diary.write()
    diary.erase(page)
    audit, follower = start_audit(env)
    try:
        caught_up(diary, follower)
        regulator = Session("regulator", frozenset({"auditor"}), 2**40)
        lead = Session("lead", frozenset({"safeguarding_lead"}), 2**40)
        dpo = Session("dpo", frozenset({"data_protection_officer"}), 2**40)
        name, entries = audit.trail(regulator, str(page))
        assert [e.kind.rsplit(".", 1)[-1] for e in entries] == ["Written", "Amended", "Erased"]
        disclosure = audit.request_disclosure(regulator, "r1", name, "erasure check")
        audit.approve_disclosure(lead, disclosure.id)
        audit.approve_disclosure(dpo, disclosure.id)
        bundle = audit.export_bundle(regulator, disclosure.id)
        result = verify_bundle(bundle, trusted_key=SIGNER.vkey)
        assert result.trails == [("diary", str(page), 3)]
        # Reads, the request and the approvals are leaves too: 4 events + 5 accesses.
        assert audit.audit_log.accesses == 5
        assert audit.audit_log.size == 9
    finally:
        follower.stop()
        audit.close()


def test_witnessed_events_are_recorded_a_batch_to_one_event(
    env: dict[str, str], diary: Diary
) -> None:
    for _ in range(8):
        diary.write()
    audit = Audit(
        env=env, signer=SIGNER, policy=CheckpointPolicy(every=100, interval=60), upstream_env=env
    )
    follower = StreamFollower(audit, "diary", env, settings=FollowSettings(batch=4, linger=60))
    follower.start()
    try:
        caught_up(diary, follower)
        stored = audit.recorder.select_notifications(start=None, limit=100)
        topics = [n.topic for n in stored]
        assert "hearth.audit.v1.EventWitnessed" not in topics
        batches = [
            decode_published(n.topic, n.state)
            for n in stored
            if n.topic == "hearth.audit.v1.EventsWitnessed"
        ]
        assert all(isinstance(b, events_pb2.EventsWitnessed) for b in batches)
        leaves = [list(b.leaves) for b in batches if isinstance(b, events_pb2.EventsWitnessed)]
        assert [[leaf.index for leaf in batch] for batch in leaves] == [[0, 1, 2, 3], [4, 5, 6, 7]]
        assert [leaf.leaf_hash for batch in leaves for leaf in batch] == expected_leaves(diary)
    finally:
        follower.stop()
        audit.close()
    audit, follower = start_audit(env)
    try:
        rebuilt = audit.audit_log
        assert rebuilt.size == 8 and rebuilt.by_stream == {"diary": 8}
        assert [rebuilt.tree.leaf(i) for i in range(8)] == expected_leaves(diary)
    finally:
        follower.stop()
        audit.close()


def test_the_log_refuses_a_batch_that_skips_or_repeats() -> None:
    def leaf(index: int, sequence: int) -> events_pb2.WitnessedLeaf:
        return events_pb2.WitnessedLeaf(
            stream="diary", sequence=sequence, index=index, leaf_hash=bytes(32), pseudonym="ps-x"
        )

    log = AuditLog()
    with pytest.raises(AuditError, match="witnessed twice"):
        log.witness([leaf(0, 1), leaf(1, 1)])
    with pytest.raises(AuditError, match="witnessed at size"):
        log.witness([leaf(0, 1), leaf(2, 2)])
    assert log.size == 0
    log.witness([leaf(0, 1), leaf(1, 3)])
    assert (log.size, log.last_sequence) == (2, {"diary": 3})


def test_a_crash_mid_batch_loses_no_leaf_and_repeats_none(
    env: dict[str, str], diary: Diary
) -> None:
    for _ in range(6):
        diary.write()
    crashed = Audit(env=env, signer=SIGNER, upstream_env=env)
    follower = StreamFollower(crashed, "diary", env, settings=FollowSettings(batch=4, linger=60))
    follower.start()
    follower.wait_until(4, timeout=20)
    follower.stop()  # two leaves are taken in but not recorded: the instance "dies" here
    assert crashed.audit_log.size == 4
    audit, follower = start_audit(env)
    try:
        caught_up(diary, follower)
        assert audit.audit_log.size == 6
    finally:
        follower.stop()
        audit.close()
    crashed.close()  # its late write of the same position is refused, not appended
    audit, follower = start_audit(env)
    try:
        log = audit.audit_log
        assert [log.tree.leaf(i) for i in range(log.size)] == expected_leaves(diary)
    finally:
        follower.stop()
        audit.close()


def test_a_log_recorded_a_leaf_to_an_event_still_replays(env: dict[str, str]) -> None:
    audit = Audit(env=env, signer=SIGNER)
    leaves = [leaf_of(AuditedEvent("diary", n, "s", (), b"%d" % n)) for n in (1, 2)]
    for index, leaf in enumerate(leaves):
        audit.audit_log.trigger_event(
            AuditLog.Witnessed,
            stream="diary",
            sequence=index + 1,
            subject="s",
            payload_hash=bytes(32),
            index=index,
            leaf_hash=leaf,
            kind="Written",
            pseudonym="ps-s",
            day="2026-11-01",
        )
    audit.save(audit.audit_log)
    audit.close()
    reopened = Audit(env=env, signer=SIGNER)
    try:
        log = reopened.audit_log
        assert (log.size, log.by_stream, log.tree.root()) == (
            2,
            {"diary": 2},
            MerkleTree.from_leaf_hashes(leaves).root(),
        )
        assert [e.sequence for e in log.trails["ps-s"]] == [1, 2]
    finally:
        reopened.close()
