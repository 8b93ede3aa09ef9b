"""The audit log: every event of every followed stream, in the order it was taken in."""

from __future__ import annotations

import uuid

from eventsourcing.domain import Aggregate, event

from hearth_eventlog.published import published
from hearth_proto.hearth.audit.v1 import events_pb2

AUDIT_LOG_ID = uuid.UUID("00000000-0000-4000-8000-0000000a0d17")


class AuditLog(Aggregate):
    """One append-only log; its version is the number of events witnessed."""

    @staticmethod
    def create_id() -> uuid.UUID:
        return AUDIT_LOG_ID

    @event("Opened")
    def __init__(self) -> None:
        self.size = 0
        self.by_stream: dict[str, int] = {}

    @published(events_pb2.EventWitnessed)
    class Witnessed(Aggregate.Event):
        stream: str
        sequence: int
        subject: str
        payload_hash: bytes
        index: int

    @event(Witnessed)
    def witness(
        self, stream: str, sequence: int, subject: str, payload_hash: bytes, index: int
    ) -> None:
        self.size = index + 1
        self.by_stream[stream] = self.by_stream.get(stream, 0) + 1
