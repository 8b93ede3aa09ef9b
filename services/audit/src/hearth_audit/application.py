"""The audit application: takes in every event of the streams it follows, exactly once."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent

from hearth_eventlog import TracedNotification
from hearth_runtime.application import FollowingApplication

from .domain import AUDIT_LOG_ID, AuditLog


class Audit(FollowingApplication):
    name = "audit"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self.audit_log = self._load_log()

    def _load_log(self) -> AuditLog:
        try:
            log: AuditLog = self.repository.get(AUDIT_LOG_ID)
        except AggregateNotFoundError:
            log = AuditLog()
            self.save(log)
        return log

    def process(self, upstream: str, notification: TracedNotification) -> None:
        try:
            super().process(upstream, notification)
        except BaseException:
            self.audit_log = self._load_log()  # drop the change that was not recorded
            raise

    def policy(
        self, upstream: str, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        self.audit_log.witness(
            stream=upstream,
            sequence=notification.id,
            subject=str(notification.originator_id),
            payload_hash=hashlib.sha256(notification.payload).digest(),
            index=self.audit_log.size,
        )
        processing.collect_events(self.audit_log)
