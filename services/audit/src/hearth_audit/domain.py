"""The audit log and disclosure requests: pure domain, no I/O.

`AuditLog` is one append-only aggregate whose events, replayed in order, rebuild the RFC 6962
Merkle tree leaf by leaf: that is how a restart resumes without skipping or repeating a leaf.
Every witnessed upstream event and every access to audit data is a leaf; witnessed events are
recorded a batch to one event (`EventsWitnessed`), so the log keeps up with its upstreams.
Checkpoints are
recorded only if they extend every checkpoint signed before, so two inconsistent checkpoints
cannot both be signed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from hearth_crypto.merkle import MerkleTree
from hearth_eventlog.published import aggregate_name, published, register_aliases
from hearth_proto.hearth.audit.v1 import events_pb2
from hearth_runtime.errors import AlreadyDone, Conflict, Refused

AUDIT_LOG_ID = uuid.UUID("00000000-0000-4000-8000-0000000a0d17")
AUDIT_STREAM = "audit"
LEAVES_PER_EVENT = 1000  # keeps one recorded event well under a NATS message's 1 MB
DISCLOSURE_NAMESPACE = uuid.UUID("6f2d0a47-3a55-4b0e-9c0a-8b1d2f3a9e51")
APPROVER_ROLES = ("safeguarding_lead", "data_protection_officer")


class AuditError(Conflict):
    """The log does not match what was recorded of it: kept as evidence, never repaired."""

    reason = "LOG_INCONSISTENT"


class RequestIdReused(AlreadyDone):
    """A request id reused for a different request."""

    reason = "REQUEST_ID_REUSED"


class NotReady(Conflict):
    """The state does not allow it yet (FAILED_PRECONDITION)."""

    reason = "NOT_READY"


@dataclass(frozen=True)
class TrailEntry:
    index: int
    stream: str
    sequence: int
    kind: str
    day: str


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root_hash: bytes
    note: str


@aggregate_name("audit.AuditLog")
class AuditLog(Aggregate):
    """One append-only log; its Merkle tree is rebuilt from its own events."""

    @staticmethod
    def create_id() -> uuid.UUID:
        return AUDIT_LOG_ID

    @published(events_pb2.AuditLogOpened)
    class Opened(Aggregate.Created):
        pass

    @event(Opened)
    def __init__(self) -> None:
        self._init_state()

    def _init_state(self) -> None:
        self.size = 0
        self.by_stream: dict[str, int] = {}
        self.last_sequence: dict[str, int] = {}
        self.tree = MerkleTree()
        self.trails: dict[str, list[TrailEntry]] = {}
        self.subjects: dict[str, tuple[str, str]] = {}  # pseudonym -> (stream, subject)
        self.figures: dict[tuple[str, str, str], int] = {}  # (day, stream, kind) -> count
        self.durations: dict[tuple[str, str, str], list[int]] = {}  # same key -> ms each
        self.checkpoints: list[SignedCheckpoint] = []
        self.accesses = 0

    @property
    def checkpoint(self) -> SignedCheckpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None

    # Published events carry their own `apply`: replay runs exactly what the command ran.

    def _take_in(self, leaf: events_pb2.WitnessedLeaf | AuditLog.Witnessed) -> None:
        self.tree.append(leaf.leaf_hash)
        self._note(leaf)

    def _take_in_all(self, leaves: Sequence[events_pb2.WitnessedLeaf]) -> None:
        """A batch's leaves: the tree hashed in one pass, then each leaf noted."""
        self.tree.extend([leaf.leaf_hash for leaf in leaves])
        for leaf in leaves:
            self._note(leaf)

    def _note(self, leaf: events_pb2.WitnessedLeaf | AuditLog.Witnessed) -> None:
        """Everything but the tree that a leaf changes: size, trails, figures."""
        self.size = leaf.index + 1
        self.by_stream[leaf.stream] = self.by_stream.get(leaf.stream, 0) + 1
        self.last_sequence[leaf.stream] = leaf.sequence
        self.trails.setdefault(leaf.pseudonym, []).append(
            TrailEntry(leaf.index, leaf.stream, leaf.sequence, leaf.kind, leaf.day)
        )
        self.subjects[leaf.pseudonym] = (leaf.stream, leaf.subject)
        self.count(leaf.day, leaf.stream, leaf.kind)
        facet = getattr(leaf, "facet", "")
        if facet:
            self.count(leaf.day, leaf.stream, f"{leaf.kind}/{facet}")
        measure = getattr(leaf, "measure_ms", 0)
        if measure > 0:
            self.durations.setdefault((leaf.day, leaf.stream, leaf.kind), []).append(measure)

    @published(events_pb2.EventWitnessed)
    class Witnessed(Aggregate.Event):
        """One leaf per recorded event: how logs recorded before batching hold them."""

        stream: str
        sequence: int
        subject: str
        payload_hash: bytes
        index: int
        leaf_hash: bytes
        kind: str
        pseudonym: str
        day: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, AuditLog)
            aggregate._take_in(self)

    @published(events_pb2.EventsWitnessed)
    class WitnessedBatch(Aggregate.Event):
        leaves: tuple[events_pb2.WitnessedLeaf, ...]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, AuditLog)
            aggregate._take_in_all(self.leaves)

    def witness(self, leaves: Sequence[events_pb2.WitnessedLeaf]) -> None:
        """Take in followed events as the next leaves, in order, each stream's once."""
        size, last = self.size, dict(self.last_sequence)
        for leaf in leaves:
            if leaf.index != size:
                raise AuditError(f"leaf {leaf.index} witnessed at size {size}")
            if leaf.sequence <= last.get(leaf.stream, 0):
                raise AuditError(
                    f"{leaf.stream} sequence {leaf.sequence} witnessed twice or out of order"
                )
            size, last[leaf.stream] = size + 1, leaf.sequence
        for start in range(0, len(leaves), LEAVES_PER_EVENT):
            batch = tuple(leaves[start : start + LEAVES_PER_EVENT])
            self.trigger_event(self.WitnessedBatch, leaves=batch)

    def count(self, day: str, stream: str, kind: str) -> None:
        key = (day, stream, kind)
        self.figures[key] = self.figures.get(key, 0) + 1

    @published(events_pb2.AccessRecorded)
    class AccessRecorded(Aggregate.Event):
        account_id: str
        roles: str
        action: str
        pseudonym: str
        disclosure_id: str
        index: int
        leaf_hash: bytes
        day: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, AuditLog)
            aggregate.tree.append(self.leaf_hash)
            aggregate.size = self.index + 1
            aggregate.accesses += 1
            aggregate.count(self.day, AUDIT_STREAM, self.action)

    def record_access(
        self,
        *,
        account_id: str,
        roles: str,
        action: str,
        pseudonym: str,
        disclosure_id: str,
        index: int,
        leaf_hash: bytes,
        day: str,
    ) -> None:
        if index != self.size:
            raise AuditError(f"leaf {index} recorded at size {self.size}")
        self.trigger_event(
            self.AccessRecorded,
            account_id=account_id,
            roles=roles,
            action=action,
            pseudonym=pseudonym,
            disclosure_id=disclosure_id,
            index=index,
            leaf_hash=leaf_hash,
            day=day,
        )

    def can_sign(self, size: int, root_hash: bytes) -> None:
        """Refuse a checkpoint that is not this tree at `size`, or goes back in time."""
        if not 0 < size <= self.size or self.tree.root(size) != root_hash:
            raise AuditError(f"checkpoint of size {size} is not this log's tree")
        last = self.checkpoint
        if last is not None:
            if size < last.size:
                raise AuditError(f"checkpoint {size} would go back behind {last.size}")
            if self.tree.root(last.size) != last.root_hash:
                raise AuditError("the tree no longer matches its last signed checkpoint")

    @published(events_pb2.CheckpointSigned)
    class CheckpointSigned(Aggregate.Event):
        size: int
        root_hash: bytes
        note: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, AuditLog)
            aggregate.checkpoints.append(SignedCheckpoint(self.size, self.root_hash, self.note))

    def record_checkpoint(self, *, size: int, root_hash: bytes, note: str) -> None:
        self.can_sign(size, root_hash)
        self.trigger_event(self.CheckpointSigned, size=size, root_hash=root_hash, note=note)


@aggregate_name("audit.Disclosure")
class Disclosure(Aggregate):
    """A request to disclose one trail's events, approved by two distinct roles."""

    @staticmethod
    def create_id(requester: str, request_id: str) -> uuid.UUID:
        return uuid.uuid5(DISCLOSURE_NAMESPACE, f"{requester}\n{request_id}")

    @published(events_pb2.DisclosureRequested)
    class Requested(Aggregate.Created):
        requester: str
        request_id: str
        pseudonym: str
        reason: str
        recipient: str
        legal_basis: str
        due_at: datetime | None

    @event(Requested)
    def __init__(
        self,
        requester: str,
        request_id: str,
        pseudonym: str,
        reason: str,
        recipient: str = "",
        legal_basis: str = "",
        due_at: datetime | None = None,
    ) -> None:
        self.requester = requester
        self.pseudonym = pseudonym
        self.reason = reason
        self.recipient = recipient
        self.legal_basis = legal_basis
        self.due_at = due_at
        self.approvals: dict[str, str] = {}  # role -> approving account

    @property
    def approved(self) -> bool:
        return len(self.approvals) >= 2 and len(set(self.approvals.values())) >= 2

    def approve(self, account_id: str, roles: frozenset[str]) -> None:
        if account_id == self.requester:
            raise Refused("the requester of a disclosure cannot approve it")
        if account_id in self.approvals.values():
            return  # a retried approval
        role = next((r for r in APPROVER_ROLES if r in roles and r not in self.approvals), None)
        if role is None:
            raise Refused(
                "a disclosure needs approval by a safeguarding lead and a data protection "
                "officer; this role has approved already or cannot approve"
            )
        self._approve(account_id=account_id, role=role)

    @published(events_pb2.DisclosureApproved)
    class Approved(Aggregate.Event):
        account_id: str
        role: str

    @event(Approved)
    def _approve(self, account_id: str, role: str) -> None:
        self.approvals[role] = account_id


# Topics these events were stored under before they had schemas (eventsourcing's module:Class).
register_aliases(
    {
        "hearth_audit.domain:AuditLog.Opened": events_pb2.AuditLogOpened,
        "hearth_audit.domain:Disclosure.Requested": events_pb2.DisclosureRequested,
        "hearth_audit.domain:Disclosure.Approved": events_pb2.DisclosureApproved,
    }
)
