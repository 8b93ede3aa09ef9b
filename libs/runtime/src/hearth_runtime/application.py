"""Base classes for service applications on the event log."""

from __future__ import annotations

import functools
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Tracking

from hearth_eventlog import PERSISTENCE, NatsProcessRecorder, TracedNotification

from .dead_letters import DeadLetter, DeadLetters, describe
from .errors import Contended
from .revocation import Revocation, Revocations, revoking
from .telemetry import continue_trace

EVERY_EVENT = None  # `FollowingApplication.topics` of a follower that takes in every event
T = TypeVar("T")
# Attempts of one read-modify-save before the call answers ABORTED: enough for a burst of
# racing writers on one aggregate (16 fetches of one prekey bundle), bounded so a hot
# aggregate cannot hold a worker thread for ever.
WRITE_ATTEMPTS = 50


def retrying(command: Callable[[], T], attempts: int = WRITE_ATTEMPTS) -> T:
    """Run a read-modify-save again while another writer saved the same aggregate first.

    `command` must re-read what it changes. When every attempt loses, `Contended`
    (ABORTED, reason WRITE_CONFLICT) says the client may retry the call.
    """
    for _ in range(attempts):
        try:
            return command()
        except IntegrityError:
            continue
    raise Contended(f"another writer kept changing the same record ({attempts} attempts); retry")


class HearthApplication(Application[UUID]):
    """An eventsourcing application whose events go to its own JetStream stream."""

    env = dict(PERSISTENCE)  # noqa: RUF012 - eventsourcing reads this class attribute as defaults


class FollowingApplication(HearthApplication):
    """An application that reacts to another service's events, exactly once.

    What `policy` collects is recorded atomically with the position of the notification that
    caused it, so a restart resumes after the last recorded notification and never repeats
    an effect. A notification that changes nothing records nothing: the follower
    (`hearth_runtime.follow`) records its position now and then instead.
    """

    # The upstream event types (protobuf full names) `policy` acts on: the follower subscribes
    # to these only. `EVERY_EVENT` for one that takes in every event (audit witnesses all).
    # A follower of identity includes `revocation.REVOKING_TOPICS`: the loop records each
    # account's revocation itself, before the policy sees the event.
    topics: ClassVar[frozenset[str] | None]

    @functools.cached_property
    def revocations(self) -> Revocations:
        """The accounts whose sessions this service no longer honours (see `revocation`)."""
        return Revocations(self)

    def construct_recorder(self) -> ApplicationRecorder:
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> NatsProcessRecorder:
        recorder = self.recorder
        assert isinstance(recorder, NatsProcessRecorder)
        return recorder

    def position(self, upstream: str) -> int | None:
        return self.process_recorder.max_tracking_id(upstream)

    def process(self, upstream: str, notifications: Sequence[TracedNotification]) -> bool:
        """React to `notifications` in order, and record what the policy collected with the
        position of the last. False when there was nothing to record (nothing is written)."""
        processing: ProcessingEvent[UUID] = ProcessingEvent(
            tracking=Tracking(application_name=upstream, notification_id=notifications[-1].id)
        )
        revoked: list[Revocation] = []
        for notification in notifications:
            revokes = revoking(notification.topic, notification.state)
            if revokes is not None:
                revocation = self.revocations.new(*revokes)
                if revocation is not None and all(r.id != revocation.id for r in revoked):
                    revoked.append(revocation)
                    processing.collect_events(revocation)
            with continue_trace(
                f"follow {upstream} {notification.topic}",
                notification.trace_context,
                follower=self.name,
                upstream=upstream,
                notification_id=notification.id,
            ):
                self.policy(upstream, notification, processing)
        self.collect(upstream, processing)
        if not processing.events:
            return False
        recordings = self._record(processing)
        for revocation in revoked:
            self.revocations.saved(revocation)
        self._take_snapshots(processing)
        self._notify(recordings)
        return True

    @abstractmethod
    def policy(
        self, upstream: str, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        """Collect into `processing` the aggregates changed in reaction to `notification`."""

    def collect(self, upstream: str, processing: ProcessingEvent[UUID]) -> None:
        """After the policy has seen every notification of a batch: collect what it kept
        aside for the whole batch (audit records one event per batch)."""

    def record_position(self, upstream: str, notification_id: int) -> None:
        """Record how far the upstream is read when nothing else is to be recorded."""
        self.process_recorder.insert_tracking(
            Tracking(application_name=upstream, notification_id=notification_id)
        )

    def record_dead_letter(
        self, upstream: str, notification: TracedNotification, error: BaseException
    ) -> DeadLetter:
        """Record that the policy could not handle `notification`, with its position."""
        letters = self._dead_letters(upstream) or DeadLetters(upstream)
        letters.record(notification.id, notification.topic, describe(error))
        processing: ProcessingEvent[UUID] = ProcessingEvent(
            tracking=Tracking(application_name=upstream, notification_id=notification.id)
        )
        processing.collect_events(letters)
        self._notify(self._record(processing))
        return letters.letters[-1]

    def dead_letters(self, upstream: str) -> list[DeadLetter]:
        """The upstream events the policy could not handle, oldest first."""
        letters = self._dead_letters(upstream)
        return list(letters.letters) if letters else []

    def _dead_letters(self, upstream: str) -> DeadLetters | None:
        try:
            letters: DeadLetters = self.repository.get(DeadLetters.create_id(upstream))
        except AggregateNotFoundError:
            return None
        return letters
