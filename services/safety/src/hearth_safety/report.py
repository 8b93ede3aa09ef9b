"""A report: a franked message with up to 20 franked messages of context, or a concern.

Pure domain (see `domain`). The messages are verified by `verification` before a report is
made; what they said and the reporter's note arrive sealed under the case's key.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from hearth_proto.hearth.safety.v1 import events_pb2

from .domain import (
    MAX_CONTEXT,
    Category,
    ContextTooLarge,
    InvalidReport,
    Severity,
    checked_text,
    derived_id,
    name_events,
)

# --- reports --------------------------------------------------------------------------------


class Report(Aggregate):
    """A verified report of a franked message with its context, or a concern without one.

    Reporting the same message twice finds the same report: its id derives from the reporter
    and the message. The content (messages and note) is sealed by the application.
    """

    @staticmethod
    def id_for_message(reporter_account_id: str, message_id: str) -> uuid.UUID:
        return derived_id("report", reporter_account_id, message_id)

    @staticmethod
    def id_for_concern(reporter_account_id: str, request_id: str) -> uuid.UUID:
        return derived_id("concern", reporter_account_id, request_id)

    class Received(Aggregate.Created):
        organisation_id: str
        reporter_account_id: str
        kind: str
        category: str
        subject_account_id: str
        conversation_id: str
        message_ids: list[str]
        sent_at_ms: list[int]
        sealed_content: bytes
        scanner_assessment: dict[str, float]
        received_at: datetime

    @event(Received)
    def __init__(
        self,
        organisation_id: str,
        reporter_account_id: str,
        kind: str,
        category: str,
        subject_account_id: str,
        conversation_id: str,
        message_ids: list[str],
        sent_at_ms: list[int],
        sealed_content: bytes,
        scanner_assessment: dict[str, float],
        received_at: datetime,
    ) -> None:
        self.organisation_id = organisation_id
        self.reporter_account_id = reporter_account_id
        self.kind = kind
        self.category = Category(category)
        self.subject_account_id = subject_account_id
        self.conversation_id = conversation_id
        self.message_ids = list(message_ids)  # the reported message last
        self.sent_at_ms = list(sent_at_ms)
        self.sealed_content = sealed_content
        self.scanner_assessment = dict(scanner_assessment)
        self.received_at = received_at
        self.severity: Severity | None = None
        self.triage_reasons: list[str] = []
        self.case_id: str | None = None

    @classmethod
    def of_messages(
        cls,
        *,
        organisation_id: str,
        reporter_account_id: str,
        subject_account_id: str,
        conversation_id: str,
        message_ids: Sequence[str],
        sent_at_ms: Sequence[int],
        category: Category,
        sealed_content: bytes,
        received_at: datetime,
        scanner_assessment: Mapping[str, float] | None = None,
    ) -> Report:
        """A report of the last of `message_ids`, the ones before it its context (verified by
        `hearth_safety.verification` before this is called)."""
        if not message_ids or len(message_ids) != len(sent_at_ms):
            raise InvalidReport("a report names its message and each message's time")
        if len(message_ids) > MAX_CONTEXT + 1:
            raise ContextTooLarge(f"a report carries at most {MAX_CONTEXT} context messages")
        return cls._create(
            cls.Received,
            id=cls.id_for_message(reporter_account_id, message_ids[-1]),
            organisation_id=organisation_id,
            reporter_account_id=reporter_account_id,
            kind="message",
            category=Category(category).value,
            subject_account_id=subject_account_id,
            conversation_id=conversation_id,
            message_ids=list(message_ids),
            sent_at_ms=list(sent_at_ms),
            sealed_content=sealed_content,
            scanner_assessment=dict(scanner_assessment or {}),
            received_at=received_at,
        )

    @classmethod
    def concern(
        cls,
        *,
        organisation_id: str,
        reporter_account_id: str,
        request_id: str,
        note: str,
        sealed_content: bytes,
        received_at: datetime,
        category: Category = Category.OTHER,
        subject_account_id: str = "",
    ) -> Report:
        """A concern without a message ("I'm worried about..."). The reporter is told
        `WHO_SEES_A_CONCERN`; with no subject named, the case is about the reporter."""
        checked_text(note, "what you are worried about")
        return cls._create(
            cls.Received,
            id=cls.id_for_concern(reporter_account_id, request_id),
            organisation_id=organisation_id,
            reporter_account_id=reporter_account_id,
            kind="concern",
            category=Category(category).value,
            subject_account_id=subject_account_id or reporter_account_id,
            conversation_id="",
            message_ids=[],
            sent_at_ms=[],
            sealed_content=sealed_content,
            scanner_assessment={},
            received_at=received_at,
        )

    @event("Triaged")
    def triage(self, severity: str, reasons: list[str]) -> None:
        self.severity = Severity(severity)
        self.triage_reasons = list(reasons)

    @event("JoinedCase")
    def join_case(self, case_id: str) -> None:
        self.case_id = case_id


name_events(
    Report,
    "safety.Report",
    {
        "Received": events_pb2.ReportReceived,
        "Triaged": events_pb2.ReportTriaged,
        "JoinedCase": events_pb2.ReportJoinedCase,
    },
)
