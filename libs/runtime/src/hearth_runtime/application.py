"""Base classes for service applications on the event log."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Tracking

from hearth_eventlog import NatsProcessRecorder, TracedNotification

from .errors import Contended

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

    env = {  # noqa: RUF012 - eventsourcing reads this class attribute as defaults
        "PERSISTENCE_MODULE": "hearth_eventlog",
        "MAPPER_TOPIC": "hearth_eventlog.published:ProtobufMapper",
    }


class FollowingApplication(HearthApplication):
    """An application that reacts to another service's events, exactly once.

    What `policy` collects is recorded atomically with the position of the notification that
    caused it, so a restart resumes after the last processed notification and never repeats
    an effect.
    """

    def construct_recorder(self) -> ApplicationRecorder:
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> NatsProcessRecorder:
        recorder = self.recorder
        assert isinstance(recorder, NatsProcessRecorder)
        return recorder

    def position(self, upstream: str) -> int | None:
        return self.process_recorder.max_tracking_id(upstream)

    def process(self, upstream: str, notification: TracedNotification) -> None:
        processing: ProcessingEvent[UUID] = ProcessingEvent(
            tracking=Tracking(application_name=upstream, notification_id=notification.id)
        )
        self.policy(upstream, notification, processing)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)

    @abstractmethod
    def policy(
        self, upstream: str, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        """Collect into `processing` the aggregates changed in reaction to `notification`."""
