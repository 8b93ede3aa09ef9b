"""The safety team's board: open cases by organisation, who is on shift, the latest
handovers, actions in force.

A projection of safety's own stream, read forward from where it last stopped on each call
(`Board.catch_up`), so every replica of the service sees what the others recorded. The
queue is kept sorted by (severity, deadline), so the next case is the first eligible entry:
with 10,000 open cases fetching it is a walk from the front, not a sort.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from hearth_eventlog.published import decode_published
from hearth_proto.hearth.safety.v1 import events_pb2 as ev

from .domain import Severity

PAGE = 1000
HANDOVERS_KEPT = 20  # per organisation: what the next shifts read


@dataclass
class Entry:
    """One case as the queue shows it."""

    case_id: str
    organisation_id: str
    severity: Severity
    deadline: datetime
    reports: int = 1
    assigned_to: str = ""
    escalated_to: str = ""
    acted: bool = False
    closed: bool = False
    category: str = ""  # the opening report's

    @property
    def key(self) -> tuple[int, datetime, str]:
        return (self.severity.rank, self.deadline, self.case_id)

    def overdue(self, now: datetime) -> bool:
        return not self.closed and not self.acted and now >= self.deadline


@dataclass(frozen=True)
class ActiveAction:
    action_id: str
    case_id: str
    kind: str
    accounts: tuple[str, ...]
    conversation_id: str
    referral: str
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class HandoverRecord:
    """An ended shift's handover, as the next moderator reads it."""

    shift_id: str
    moderator_id: str
    started_at: datetime
    ended_at: datetime
    message_times: tuple[str, ...]
    keywords: tuple[str, ...]
    risks: str
    pattern: str
    open_case_ids: tuple[str, ...]


@dataclass
class Board:
    """Read with `catch_up(select)` first; then the fields are current."""

    entries: dict[str, Entry] = field(default_factory=dict)
    # Open cases by organisation, sorted by Entry.key.
    queues: dict[str, list[tuple[tuple[int, datetime, str], str]]] = field(default_factory=dict)
    shifts: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (org, moderator)
    shift_started: dict[str, datetime] = field(default_factory=dict)
    # Ended shifts' handovers by organisation, oldest first.
    handovers: dict[str, deque[HandoverRecord]] = field(default_factory=dict)
    last_assigned: dict[str, datetime] = field(default_factory=dict)
    actions: dict[str, ActiveAction] = field(default_factory=dict)
    pack_keys: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> (alg, key)
    position: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def catch_up(self, select: Callable[[int, int], Sequence[object]]) -> None:
        """Take in every notification after `position` (`select(start, limit)`)."""
        with self.lock:
            while True:
                batch = select(self.position + 1, PAGE)
                for n in batch:
                    topic, state = getattr(n, "topic"), getattr(n, "state")  # noqa: B009
                    message = decode_published(topic, state)
                    if message is not None:
                        self._apply(str(getattr(n, "originator_id")), message)  # noqa: B009
                    self.position = int(getattr(n, "id"))  # noqa: B009
                if len(batch) < PAGE:
                    return

    # The queue.

    def queue(self, organisation_id: str) -> Iterator[Entry]:
        for _, case_id in self.queues.get(organisation_id, []):
            yield self.entries[case_id]

    def on_shift(self, organisation_id: str) -> set[str]:
        return {m for org, m in self.shifts.values() if org == organisation_id}

    def latest_handovers(self, organisation_id: str, limit: int) -> list[HandoverRecord]:
        """Most recent first."""
        kept = self.handovers.get(organisation_id, ())
        return list(reversed(kept))[:limit]

    def open_cases_of(self, moderator_id: str) -> int:
        return sum(
            1 for e in self.entries.values() if not e.closed and e.assigned_to == moderator_id
        )

    def restrictions(self, account_id: str) -> list[ActiveAction]:
        return [a for a in self.actions.values() if account_id in a.accounts]

    def _enqueue(self, entry: Entry) -> None:
        bisect.insort(self.queues.setdefault(entry.organisation_id, []), (entry.key, entry.case_id))

    def _dequeue(self, entry: Entry) -> None:
        queue = self.queues.get(entry.organisation_id, [])
        i = bisect.bisect_left(queue, (entry.key, entry.case_id))
        if i < len(queue) and queue[i][1] == entry.case_id:
            del queue[i]

    def _apply(self, originator: str, m: object) -> None:
        entry = self.entries.get(originator)
        if isinstance(m, ev.CaseOpened):
            entry = Entry(
                originator,
                m.organisation_id,
                Severity(m.severity),
                _at(m.deadline),
                category=m.category,
            )
            self.entries[originator] = entry
            self._enqueue(entry)
        elif isinstance(m, ev.ShiftStarted):
            self.shifts[originator] = (m.organisation_id, m.moderator_id)
            self.shift_started[originator] = _at(m.started_at)
        elif isinstance(m, ev.ShiftEnded):
            self._hand_over(originator, m)
        elif isinstance(m, ev.PackKeyPublished):
            self.pack_keys[m.key_id] = (m.algorithm, m.public_key)
        elif entry is None:
            return
        elif isinstance(m, ev.CaseReportJoined | ev.CaseReopened):
            if not entry.closed:
                self._dequeue(entry)
            if isinstance(m, ev.CaseReportJoined):
                entry.severity, entry.reports = Severity(m.severity), entry.reports + 1
            else:
                entry.closed, entry.acted = False, False
            entry.deadline = _at(m.deadline)
            self._enqueue(entry)
        elif isinstance(m, ev.CaseAssigned):
            entry.assigned_to = m.moderator_id
            self.last_assigned[m.moderator_id] = _at(m.at)
        elif isinstance(m, ev.CaseEscalated):
            entry.escalated_to = m.to
        elif isinstance(m, ev.CaseActionTaken):
            entry.acted = True
            if m.kind in ("restrict", "suspend", "block"):
                self.actions[m.action_id] = ActiveAction(
                    m.action_id,
                    originator,
                    m.kind,
                    tuple(m.accounts),
                    m.conversation_id,
                    m.referral,
                    m.by,
                    _at(m.at),
                    m.reason,
                )
        elif isinstance(m, ev.CaseActionLifted):
            self.actions.pop(m.action_id, None)
        elif isinstance(m, ev.CaseClosed):
            self._dequeue(entry)
            entry.closed = True

    def _hand_over(self, shift_id: str, m: ev.ShiftEnded) -> None:
        started = self.shift_started.pop(shift_id, None)
        shift = self.shifts.pop(shift_id, None)
        if shift is None or started is None:
            return
        organisation, moderator = shift
        kept = self.handovers.setdefault(organisation, deque(maxlen=HANDOVERS_KEPT))
        kept.append(
            HandoverRecord(
                shift_id,
                moderator,
                started,
                _at(m.at),
                tuple(m.message_times),
                tuple(m.keywords),
                m.risks,
                m.pattern,
                tuple(m.open_case_ids),
            )
        )


def _at(ts: Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)
