"""Base classes for service applications on the event log."""

from __future__ import annotations

from abc import abstractmethod
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import ApplicationRecorder, Tracking

from hearth_eventlog import NatsProcessRecorder, TracedNotification


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
