"""Dead letters: upstream events a follower's policy could not handle.

A poison event (one the policy raises on, or whose state the mapper cannot read) must neither
stop the follower nor be passed over silently. The follower records it here, in its own
stream and together with the tracking record of that event (so it is recorded once, however
often the follower restarts), logs it, counts it in the service's health, and carries on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from eventsourcing.domain import Aggregate, event

from hearth_eventlog.published import aggregate_name, published
from hearth_proto.hearth.runtime.v1 import events_pb2

NAMESPACE = uuid.UUID("5d0f3c51-2a7e-4d43-9d0b-6a3b1f0c8e27")
MAX_ERROR_CHARS = 500  # enough to name the fault; an exception may quote input at length


@dataclass(frozen=True)
class DeadLetter:
    """One upstream event the policy could not handle, and why."""

    upstream: str
    notification_id: int
    topic: str
    error: str


def describe(error: BaseException) -> str:
    """The exception's type and message, cut short."""
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


@aggregate_name("runtime.DeadLetters")
class DeadLetters(Aggregate):
    """A follower's dead letters from one upstream stream."""

    @staticmethod
    def create_id(upstream: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"dead-letters/{upstream}")

    @published(events_pb2.DeadLettersOpened)
    class Opened(Aggregate.Created):
        upstream: str

    @event(Opened)
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.letters: list[DeadLetter] = []

    @published(events_pb2.DeadLetterRecorded)
    class Recorded(Aggregate.Event):
        notification_id: int
        topic: str
        error: str

    @event(Recorded)
    def record(self, notification_id: int, topic: str, error: str) -> None:
        self.letters.append(DeadLetter(self.upstream, notification_id, topic, error))
