"""Recorded practitioner conversations: which organisation has a record keeper, and each young
person's book of case records (digests only; the records are sealed by the keeper).

Pure domain: no I/O. A record book is one aggregate per organisation and young person, so its
events are one trail in audit: a disclosure of a young person's records is a disclosure of
that trail, whose hash chain and signed trail statement show that no record is missing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from hearth_eventlog.published import aggregate_name, published
from hearth_proto.hearth.messaging.v1 import events_pb2

from .domain import derived_id

KEEPER_ROLE = "record_keeper"
YOUNG_ROLES = frozenset({"child", "young_person"})
DESTROY_REASONS = frozenset({"retention", "erasure"})
READ_PURPOSES = frozenset({"subject_access", "case", "disclosure"})


@aggregate_name("messaging.RecordKeeping")
class RecordKeeping(Aggregate):
    """That an organisation runs a record keeper, and which account it is."""

    @staticmethod
    def create_id(organisation_id: str) -> uuid.UUID:
        return derived_id("record-keeping", organisation_id)

    @published(events_pb2.RecordKeeperDeclared)
    class Declared(Aggregate.Created):
        organisation_id: str
        keeper_account_id: str

    @event(Declared)
    def __init__(self, organisation_id: str, keeper_account_id: str) -> None:
        self.organisation_id = organisation_id
        self.keeper_account_id = keeper_account_id
        self.requests: dict[str, AccessRequest] = {}  # open ones, oldest first
        self.answered: dict[str, AccessRequest] = {}

    @published(events_pb2.RecordsRequested)
    class Requested(Aggregate.Event):
        access_request_id: str
        young_person_account_id: str
        requester_account_id: str
        purpose: str
        reply_key: bytes
        due_at: datetime

    @event(Requested)
    def request(
        self,
        access_request_id: str,
        young_person_account_id: str,
        requester_account_id: str,
        purpose: str,
        reply_key: bytes,
        due_at: datetime,
    ) -> None:
        self.requests[access_request_id] = AccessRequest(
            access_request_id,
            young_person_account_id,
            requester_account_id,
            purpose,
            reply_key,
            due_at,
        )

    @published(events_pb2.RecordsRequestAnswered)
    class Answered(Aggregate.Event):
        access_request_id: str
        records: int

    @event(Answered)
    def answer(self, access_request_id: str, records: int) -> None:
        request = self.requests.pop(access_request_id, None)
        if request is not None:
            self.answered[access_request_id] = request


@dataclass(frozen=True)
class AccessRequest:
    """A young person's subject access request, or a practitioner's for their case."""

    access_request_id: str
    young_person_account_id: str
    requester_account_id: str
    purpose: str
    reply_key: bytes
    due_at: datetime


@dataclass(frozen=True)
class KeptRecord:
    record_id: str
    conversation_id: str
    message_id: str
    digest: bytes
    relayed_at_ms: int
    member_account_ids: tuple[str, ...]


@aggregate_name("messaging.CaseRecordBook")
class CaseRecordBook(Aggregate):
    """One young person's case records at one organisation: digests, destruction, reads."""

    @staticmethod
    def create_id(organisation_id: str, young_person_account_id: str) -> uuid.UUID:
        return derived_id("case-records", organisation_id, young_person_account_id)

    @staticmethod
    def record_id(book_id: uuid.UUID, message_id: str) -> str:
        """Derived from the message, so a retried keep finds its record."""
        return str(derived_id("case-record", str(book_id), message_id))

    @published(events_pb2.CaseRecordBookOpened)
    class Opened(Aggregate.Created):
        organisation_id: str
        young_person_account_id: str

    @event(Opened)
    def __init__(self, organisation_id: str, young_person_account_id: str) -> None:
        self.organisation_id = organisation_id
        self.young_person_account_id = young_person_account_id
        self.records: dict[str, KeptRecord] = {}  # by message id, in the order kept
        self.destroyed = False

    @published(events_pb2.CaseRecordKept)
    class Kept(Aggregate.Event):
        record_id: str
        conversation_id: str
        message_id: str
        digest: bytes
        relayed_at_ms: int
        member_account_ids: list[str]

    @event(Kept)
    def keep(
        self,
        record_id: str,
        conversation_id: str,
        message_id: str,
        digest: bytes,
        relayed_at_ms: int,
        member_account_ids: list[str],
    ) -> None:
        self.records[message_id] = KeptRecord(
            record_id,
            conversation_id,
            message_id,
            digest,
            relayed_at_ms,
            tuple(member_account_ids),
        )

    @published(events_pb2.CaseRecordsDestroyed)
    class Destroyed(Aggregate.Event):
        reason: str
        records: int

    @event(Destroyed)
    def destroy(self, reason: str, records: int) -> None:
        self.destroyed = True

    @published(events_pb2.CaseRecordsRead)
    class Read(Aggregate.Event):
        purpose: str
        reader: str
        record_ids: list[str]

    @event(Read)
    def read(self, purpose: str, reader: str, record_ids: list[str]) -> None:
        pass
