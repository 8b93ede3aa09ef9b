"""The audit application: witnesses every followed event into the Merkle log, exactly once.

Commands and queries serialise on one lock: the follower threads and the gRPC threads all
append to the same log, and a leaf's index is its place in that one order. The runtime's
follower loop hands events over in batches (`FollowSettings.batch`); each batch becomes one
recorded event, atomically with the tracking record of its last event.

A little over 400 lines because witnessing and disclosure share the one lock and log order.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent

from hearth_crypto.checkpoint import Checkpoint, NoteSigner
from hearth_crypto.merkle import leaf_hash
from hearth_eventlog import NatsFactory, TracedNotification
from hearth_eventlog.published import decode_published
from hearth_proto.hearth.audit.v1 import events_pb2
from hearth_proto.hearth.messaging.v1 import events_pb2 as messaging_events
from hearth_proto.hearth.safety.v1 import events_pb2 as safety_events
from hearth_runtime.application import EVERY_EVENT, FollowingApplication
from hearth_runtime.errors import NotFound, Refused
from hearth_runtime.sessions import Session

from .domain import (
    AUDIT_LOG_ID,
    AUDIT_STREAM,
    AuditError,
    AuditLog,
    Disclosure,
    NotReady,
    RequestIdReused,
    SignedCheckpoint,
    TrailEntry,
)
from .evidence import (
    AuditedEvent,
    BundleEvent,
    TrailStatement,
    leaf_of,
    make_bundle,
    pseudonym,
)

log = logging.getLogger(__name__)
PSEUDONYM_CACHE = 100_000  # subjects whose pseudonym is kept, not recomputed per event
CONSISTENCY_HISTORY = 64  # earlier checkpoints a bundle proves consistency with


@dataclass(frozen=True)
class CheckpointPolicy:
    """Sign a checkpoint every `every` leaves, or every `interval` seconds if the log grew."""

    every: int = 1000
    interval: float = 5.0


# The first event of a record book's trail: what a record keeper may ask to disclose.
RECORD_BOOK = messaging_events.CaseRecordBookOpened.DESCRIPTOR.full_name


def today() -> str:
    return _day(int(time.time()) // 86_400)


@functools.lru_cache(maxsize=4)
def _day(days_since_epoch: int) -> str:
    """The UTC day's name, formatted once a day rather than once a leaf."""
    return datetime.fromtimestamp(days_since_epoch * 86_400, UTC).strftime("%Y-%m-%d")


class Audit(FollowingApplication):
    name = "audit"
    topics: ClassVar[frozenset[str] | None] = EVERY_EVENT  # every event of every stream

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        signer: NoteSigner | None = None,
        pseudonym_key: bytes = b"\x00" * 32,
        policy: CheckpointPolicy | None = None,
        upstream_env: Mapping[str, str] | None = None,
        disclosure_days: int = 30,
    ) -> None:
        super().__init__(env)
        self.disclosure_days = disclosure_days
        self.signer = signer if signer is not None else NoteSigner.generate("hearth.local/audit")
        self.pseudonym_key = pseudonym_key
        self.checkpoint_policy = policy or CheckpointPolicy()
        self._upstream_env = dict(upstream_env if upstream_env is not None else (env or {}))
        self._upstreams: dict[str, NatsFactory] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self._witnessed: list[events_pb2.WitnessedLeaf] = []  # leaves of the batch in hand
        self._pseudonyms: dict[tuple[str, str], str] = {}  # a subject's events come in runs
        self.audit_log = self._load_log()

    # The log and its checkpoints.

    def _load_log(self) -> AuditLog:
        try:
            audit_log: AuditLog = self.repository.get(AUDIT_LOG_ID)
        except AggregateNotFoundError:
            audit_log = AuditLog()
            self.save(audit_log)
        return audit_log

    def start_checkpoints(self) -> None:
        """Sign on a timer as well, so a quiet log still gets a fresh checkpoint."""
        self._timer = threading.Thread(target=self._tick, name="audit-checkpoints", daemon=True)
        self._timer.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.checkpoint_policy.interval):
            try:
                self.sign_checkpoint()
            except Exception:
                log.exception("signing a checkpoint")

    def close(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join(5.0)
        for factory in self._upstreams.values():
            factory.close()
        super().close()

    def sign_checkpoint(self) -> SignedCheckpoint | None:
        """Sign the tree as it is now, if it grew since the last checkpoint."""
        with self._lock:
            if self._sign_into(self.audit_log):
                self._save()
            return self.audit_log.checkpoint

    def _sign_into(self, audit_log: AuditLog) -> bool:
        last = audit_log.checkpoint
        if audit_log.size == 0 or (last is not None and last.size == audit_log.size):
            return False
        root = audit_log.tree.root()
        body = Checkpoint(self.signer.name, audit_log.size, root).body()
        audit_log.record_checkpoint(
            size=audit_log.size, root_hash=root, note=self.signer.sign(body)
        )
        return True

    def _save(self, *aggregates: Any) -> None:
        """Record the log (and `aggregates`); on failure, drop the change that was not recorded."""
        try:
            self.save(self.audit_log, *aggregates)
        except BaseException:
            self.audit_log = self._load_log()
            raise
        self._sign_if_due()

    def _sign_if_due(self) -> None:
        # Checkpoints are signed only over recorded leaves, so no signed checkpoint can
        # name a leaf that a failed write then dropped.
        if self._checkpoint_due() and self._sign_into(self.audit_log):
            self._save()

    def _checkpoint_due(self) -> bool:
        last = self.audit_log.checkpoint
        return self.audit_log.size - (last.size if last else 0) >= self.checkpoint_policy.every

    # Following: a batch of events is recorded as one event, with the tracking record of its
    # last (the runtime's follower loop records it).

    def process(self, upstream: str, notifications: Sequence[TracedNotification]) -> bool:
        with self._lock:
            self._witnessed = []
            try:
                recorded = super().process(upstream, notifications)
            except BaseException:
                self.audit_log = self._load_log()  # drop the leaves that were not recorded
                raise
            finally:
                self._witnessed = []
            self._sign_if_due()
            return recorded

    def policy(
        self, upstream: str, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        """The notification's leaf, taken into the log with the rest of its batch (`collect`)."""
        subject = str(notification.originator_id)
        event = AuditedEvent(
            upstream, notification.id, subject, notification.trace_context, notification.payload
        )
        self._witnessed.append(
            events_pb2.WitnessedLeaf(
                stream=upstream,
                sequence=notification.id,
                subject=subject,
                payload_hash=hashlib.sha256(notification.payload).digest(),
                index=self.audit_log.size + len(self._witnessed),
                leaf_hash=leaf_of(event),
                kind=notification.topic,
                pseudonym=self._pseudonym(upstream, subject),
                day=today(),
            )
        )
        leaf = self._witnessed[-1]
        leaf.facet, leaf.measure_ms = facet_of(notification.topic, notification.state)

    def collect(self, upstream: str, processing: ProcessingEvent[UUID]) -> None:
        if self._witnessed:
            self.audit_log.witness(self._witnessed)  # one recorded event for the whole batch
            if self._checkpoint_due():
                # Signed into the same atomic save as the leaves it covers: one round trip a
                # batch, and still no checkpoint recorded without its leaves.
                self._sign_into(self.audit_log)
            processing.collect_events(self.audit_log)

    def _pseudonym(self, stream: str, subject: str) -> str:
        found = self._pseudonyms.get((stream, subject))
        if found is None:
            if len(self._pseudonyms) >= PSEUDONYM_CACHE:
                self._pseudonyms.clear()
            found = self._pseudonyms[stream, subject] = pseudonym(
                self.pseudonym_key, stream, subject
            )
        return found

    # Access to audit data: each one is itself a leaf.

    def record_access(
        self,
        session: Session,
        action: str,
        *,
        pseudonym: str = "",
        disclosure: Disclosure | None = None,
    ) -> None:
        with self._lock:
            audit_log = self.audit_log
            fact = {
                "account_id": session.account_id,
                "roles": ",".join(sorted(session.roles)),
                "action": action,
                "pseudonym": pseudonym,
                "disclosure_id": str(disclosure.id) if disclosure else "",
                "day": today(),
            }
            payload = json.dumps(fact, sort_keys=True, separators=(",", ":")).encode()
            leaf = AuditedEvent(
                AUDIT_STREAM, audit_log.accesses + 1, session.account_id, (), payload
            )
            audit_log.record_access(index=audit_log.size, leaf_hash=leaf_of(leaf), **fact)
            self._save(*([disclosure] if disclosure else []))

    # Queries.

    def log_state(self) -> tuple[dict[str, int], int]:
        with self._lock:
            return dict(self.audit_log.by_stream), self.audit_log.size

    def root_at(self, size: int) -> bytes:
        with self._lock:
            return self.audit_log.tree.root(size)

    def current_checkpoint(self) -> SignedCheckpoint | None:
        with self._lock:
            return self.audit_log.checkpoint

    def latest_checkpoint(self) -> SignedCheckpoint:
        checkpoint = self.current_checkpoint()
        if checkpoint is None:
            raise NotReady("no checkpoint is signed yet")
        return checkpoint

    def inclusion_proof(self, index: int, tree_size: int) -> tuple[bytes, int, list[bytes]]:
        with self._lock:
            tree = self.audit_log.tree
            size = tree_size or self.latest_checkpoint().size
            if not 0 < size <= tree.size:
                raise NotFound(f"tree size {size} is outside 1..{tree.size}")
            if not 0 <= index < size:
                raise NotFound(f"leaf {index} is outside a tree of {size} leaves")
            return tree.leaf(index), size, tree.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: int) -> tuple[int, list[bytes]]:
        with self._lock:
            tree = self.audit_log.tree
            size = new_size or self.latest_checkpoint().size
            if not 0 <= old_size <= size <= tree.size:
                raise NotFound(f"sizes {old_size}..{size} are outside 0..{tree.size}")
            return size, tree.consistency_proof(old_size, size)

    def trail(self, session: Session, name: str) -> tuple[str, list[TrailEntry]]:
        """A trail by pseudonym, or by subject id (answered by pseudonym only)."""
        with self._lock:
            audit_log = self.audit_log
            if name not in audit_log.trails:
                found = [p for p, (_, s) in audit_log.subjects.items() if s == name]
                if not found:
                    raise NotFound("no trail for that pseudonym or subject")
                name = found[0]
            entries = list(audit_log.trails[name])
            self.record_access(session, "GetTrail", pseudonym=name)
            return name, entries

    def figures(
        self, session: Session, monthly: bool
    ) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str, str], list[int]]]:
        """Counts, and durations, by (period, stream, kind)."""
        with self._lock:
            counts: dict[tuple[str, str, str], int] = {}
            for (day, stream, kind), n in self.audit_log.figures.items():
                key = (day[:7] if monthly else day, stream, kind)
                counts[key] = counts.get(key, 0) + n
            durations: dict[tuple[str, str, str], list[int]] = {}
            for (day, stream, kind), ms in self.audit_log.durations.items():
                durations.setdefault((day[:7] if monthly else day, stream, kind), []).extend(ms)
            self.record_access(session, "GetTransparencyFigures")
            return counts, durations

    # Disclosure.

    def request_disclosure(
        self,
        session: Session,
        request_id: str,
        name: str,
        reason: str,
        *,
        recipient: str = "",
        legal_basis: str = "",
    ) -> Disclosure:
        """A recorded request to disclose a trail, due in `disclosure_days` (30 by default, as
        for a subject access request). A record keeper names its young person's record book
        by subject id; everyone else by pseudonym."""
        with self._lock:
            keeper = "record_keeper" in session.roles
            if name not in self.audit_log.trails and keeper:
                found = [p for p, (_, s) in self.audit_log.subjects.items() if s == name]
                name = found[0] if found else name
            if name not in self.audit_log.trails:
                raise NotFound("no trail for that pseudonym")
            if keeper and self.audit_log.trails[name][0].kind != RECORD_BOOK:
                raise Refused("a record keeper asks only for a young person's case records")
            disclosure_id = Disclosure.create_id(session.account_id, request_id)
            try:
                existing: Disclosure = self.repository.get(disclosure_id)
            except AggregateNotFoundError:
                due_at = datetime.now(UTC) + timedelta(days=self.disclosure_days)
                disclosure = Disclosure(
                    session.account_id,
                    request_id,
                    name,
                    reason,
                    recipient=recipient,
                    legal_basis=legal_basis,
                    due_at=due_at,
                )
                self.record_access(
                    session, "RequestDisclosure", pseudonym=name, disclosure=disclosure
                )
                return disclosure
            if existing.pseudonym != name or existing.reason != reason:
                raise RequestIdReused("that request id was used for another disclosure request")
            return existing

    def approve_disclosure(self, session: Session, disclosure_id: UUID) -> Disclosure:
        with self._lock:
            disclosure = self._disclosure(disclosure_id)
            before = dict(disclosure.approvals)
            disclosure.approve(session.account_id, session.roles)
            if disclosure.approvals != before:
                self.record_access(
                    session,
                    "ApproveDisclosure",
                    pseudonym=disclosure.pseudonym,
                    disclosure=disclosure,
                )
            return disclosure

    def _disclosure(self, disclosure_id: UUID) -> Disclosure:
        try:
            disclosure: Disclosure = self.repository.get(disclosure_id)
        except AggregateNotFoundError:
            raise NotFound("no such disclosure request") from None
        return disclosure

    def export_bundle(
        self, session: Session, disclosure_id: UUID, known_sizes: Sequence[int] = ()
    ) -> dict[str, Any]:
        """The evidence bundle of an approved disclosure, against a fresh checkpoint."""
        with self._lock:
            disclosure = self._disclosure(disclosure_id)
            if disclosure.requester != session.account_id:
                raise Refused("only the requester of a disclosure may export its bundle")
            if not disclosure.approved:
                raise NotReady(
                    "the disclosure is not approved by a safeguarding lead and a data "
                    "protection officer yet"
                )
            self.record_access(
                session, "ExportBundle", pseudonym=disclosure.pseudonym, disclosure=disclosure
            )
            self.sign_checkpoint()
            audit_log = self.audit_log
            checkpoint = self.latest_checkpoint()
            stream, subject = audit_log.subjects[disclosure.pseudonym]
            entries = [
                e for e in audit_log.trails[disclosure.pseudonym] if e.index < checkpoint.size
            ]
            events = []
            for entry, notification in zip(
                entries, self._read_upstream(stream, [e.sequence for e in entries]), strict=True
            ):
                leaf = AuditedEvent(
                    stream,
                    entry.sequence,
                    subject,
                    notification.trace_context,
                    notification.payload,
                ).encode()
                if leaf_hash(leaf) != audit_log.tree.leaf(entry.index):
                    raise AuditError(
                        f"{stream} event {entry.sequence} no longer matches leaf {entry.index}"
                    )
                proof = audit_log.tree.inclusion_proof(entry.index, checkpoint.size)
                events.append(BundleEvent(entry.index, leaf, proof))
            sizes = {c.size for c in audit_log.checkpoints[-CONSISTENCY_HISTORY:]}
            sizes.update(s for s in known_sizes if 0 < s <= checkpoint.size)
            consistency = [
                (s, audit_log.tree.consistency_proof(s, checkpoint.size)) for s in sorted(sizes)
            ]
            # Signed with the checkpoint key: the trail has these events and no more at this
            # checkpoint, so a bundle cut short after its last event no longer verifies.
            statement = TrailStatement(
                origin=self.signer.name,
                pseudonym=disclosure.pseudonym,
                tree_size=checkpoint.size,
                root_hash=checkpoint.root_hash,
                events=len(entries),
                last_index=entries[-1].index if entries else -1,
            )
            return make_bundle(
                pseudonym=disclosure.pseudonym,
                verifier_key=self.signer.vkey,
                checkpoint=checkpoint.note,
                trail=self.signer.sign(statement.body()),
                events=events,
                consistency=consistency,
            )

    def _read_upstream(self, stream: str, sequences: Sequence[int]) -> list[TracedNotification]:
        factory = self._upstreams.get(stream)
        if factory is None:
            env = {**self._upstream_env}
            factory = self._upstreams[stream] = NatsFactory.upstream(stream, env)
        recorder = factory.application_recorder()
        found = []
        for sequence in sequences:
            page = recorder.select_notifications(start=sequence, limit=1)
            if not page or page[0].id != sequence or not isinstance(page[0], TracedNotification):
                raise AuditError(f"{stream} event {sequence} is missing from its stream")
            found.append(page[0])
        return found


def facet_of(topic: str, state: bytes) -> tuple[str, int]:
    """What transparency counts of a safety event beyond its kind (its public fields only):
    reports by category, outcomes, referrals, actions, overdue escalations, and the time to
    a case's first action."""
    if not topic.startswith("hearth.safety.v1."):
        return "", 0
    m = decode_published(topic, state)
    if isinstance(m, safety_events.ReportReceived):
        return f"category={m.category}", 0
    if isinstance(m, safety_events.CaseOutcomeRecorded):
        return f"outcome={m.outcome}", 0
    if isinstance(m, safety_events.CaseActionTaken):
        facet = f"referral={m.referral}" if m.kind == "refer" else f"action={m.kind}"
        return facet, m.first_action_after_ms
    if isinstance(m, safety_events.CaseEscalated) and not m.by:
        return "overdue", 0
    return "", 0
