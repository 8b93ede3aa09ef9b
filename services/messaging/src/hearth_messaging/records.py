"""The record keeper's case records: checked against what the relay relayed, digests in the
event log, sealed copies (ciphertext the keeper alone can open) in a key-value bucket.

The bucket is not an event log: destruction deletes the sealed copies, and the key that
opened them is destroyed by the keeper, so nothing of a destroyed record can be read again,
while its digest stays in the log (and in audit) as proof that it existed and when.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import nats.js.errors
from nats.js.kv import KeyValue

from hearth_eventlog.link import JetStreamLink
from hearth_runtime.errors import AlreadyDone, Conflict, Invalid, NotFound, Refused

from .domain import RelayedMessage, derived_id
from .policy import AccountFacts
from .recording import (
    DESTROY_REASONS,
    KEEPER_ROLE,
    READ_PURPOSES,
    YOUNG_ROLES,
    AccessRequest,
    CaseRecordBook,
    KeptRecord,
    RecordKeeping,
)
from .relay import Relay

ANSWER_DAYS = 30  # a subject access request is answered within a month


@dataclass(frozen=True)
class StoredRecord:
    kept: KeptRecord
    sealed: bytes


class Records(Relay):
    record_store: KeyValue
    record_link: JetStreamLink
    clock: Callable[[], float]

    def keeper_organisation(self, keeper: str) -> str:
        """The organisation whose record keeper this account is (PERMISSION_DENIED if none)."""
        facts = self.facts(keeper)
        if KEEPER_ROLE in facts.roles:
            for organisation in sorted(facts.organisations):
                keeping = self.record_keeping(organisation)
                if keeping is not None and keeping.keeper_account_id == keeper:
                    return organisation
        raise Refused(
            "this account is not the record keeper of an organisation (an org admin registers "
            "one; messaging learns of it from identity within moments)",
            reason="NOT_THE_KEEPER",
        )

    def keep_record(
        self,
        keeper: str,
        *,
        conversation_id: str,
        message_id: str,
        young_person: str,
        digest: bytes,
        sealed: bytes,
        relayed_at_ms: int,
    ) -> tuple[str, UUID]:
        organisation = self.keeper_organisation(keeper)
        conversation = self.conversation_of(keeper, conversation_id)
        recording = self.recording_of(conversation)
        if recording is None or recording.organisation_id != organisation:
            raise Refused("your organisation does not record this conversation")
        if young_person not in conversation.members or not (
            self.facts(young_person).roles & YOUNG_ROLES
        ):
            raise Refused("that account is not a young person of this conversation")
        relayed = self._get(RelayedMessage, RelayedMessage.id_for(message_id))
        if relayed is None or relayed.conversation_id != conversation_id:
            raise NotFound(f"no message {message_id} was relayed in this conversation")
        book_id = CaseRecordBook.create_id(organisation, young_person)
        book = self._get(CaseRecordBook, book_id) or CaseRecordBook(organisation, young_person)
        if book.destroyed:
            raise Conflict(
                "this young person's records were destroyed; nothing more is kept in this book",
                reason="RECORDS_DESTROYED",
            )
        kept = book.records.get(message_id)
        if kept is not None:
            return kept.record_id, book_id  # a retried keep
        record_id = CaseRecordBook.record_id(book_id, message_id)
        # The sealed copy first: a record in the log always has its copy (a retry overwrites
        # a copy whose event was not recorded).
        self.record_link.run(self.record_store.put(record_id, sealed))
        book.keep(
            record_id=record_id,
            conversation_id=conversation_id,
            message_id=message_id,
            digest=digest,
            relayed_at_ms=relayed_at_ms,
            member_account_ids=[m for m in conversation.members if m != keeper],
        )
        self.save(book)
        return record_id, book_id

    def _book(self, keeper: str, young_person: str) -> CaseRecordBook:
        organisation = self.keeper_organisation(keeper)
        book = self._get(CaseRecordBook, CaseRecordBook.create_id(organisation, young_person))
        if book is None:
            raise NotFound("no records are kept for that young person")
        return book

    def list_records(
        self, keeper: str, young_person: str
    ) -> tuple[CaseRecordBook, list[StoredRecord]]:
        book = self._book(keeper, young_person)
        if book.destroyed:
            return book, []
        return book, [StoredRecord(k, self._sealed(k.record_id)) for k in book.records.values()]

    def _sealed(self, key: str) -> bytes:
        try:
            entry = self.record_link.run(self.record_store.get(key))
        except nats.js.errors.KeyNotFoundError:  # deleted and purged keys included
            raise NotFound("its sealed copy is gone (destroyed)") from None
        return bytes(entry.value or b"")

    def destroy_records(self, keeper: str, young_person: str, reason: str) -> int:
        if reason not in DESTROY_REASONS:
            raise Invalid.field("reason", f"is one of {sorted(DESTROY_REASONS)}")
        book = self._book(keeper, young_person)
        if not book.destroyed:
            book.destroy(reason=reason, records=len(book.records))
            self.save(book)
        answers = [
            f"answer.{r.access_request_id}"
            for r in self._keeping(book.organisation_id).answered.values()
            if r.young_person_account_id == young_person
        ]
        for key in [*(kept.record_id for kept in book.records.values()), *answers]:
            with contextlib.suppress(nats.js.errors.KeyNotFoundError):
                self.record_link.run(self.record_store.purge(key))
        return len(book.records)

    def record_read(
        self, keeper: str, young_person: str, purpose: str, reader: str, record_ids: list[str]
    ) -> None:
        if purpose not in READ_PURPOSES:
            raise Invalid.field("purpose", f"is one of {sorted(READ_PURPOSES)}")
        book = self._book(keeper, young_person)
        known = {k.record_id for k in book.records.values()}
        if not set(record_ids) <= known:
            raise NotFound("a record named is not in this young person's book")
        book.read(purpose=purpose, reader=reader, record_ids=record_ids)
        self.save(book)

    # --- requests for records (subject access, a practitioner's case) ---------------------

    def request_records(
        self,
        caller: AccountFacts,
        request_id: str,
        organisation: str,
        young_person: str,
        reply_key: bytes,
    ) -> AccessRequest:
        """A young person's request for their own records, or a practitioner's for the records
        of conversations they were in; the keeper answers it, sealed to `reply_key`."""
        keeping = self._keeping(organisation)
        book = self._get(CaseRecordBook, CaseRecordBook.create_id(organisation, young_person))
        if book is None:
            raise NotFound("no records are kept for that young person at that organisation")
        if caller.account_id == young_person:
            purpose = "subject_access"
        elif "practitioner" in caller.roles and any(
            caller.account_id in kept.member_account_ids for kept in book.records.values()
        ):
            purpose = "case"
        else:
            raise Refused(
                "you may ask for your own records, or for the records of conversations you "
                "were a member of",
                reason="NOT_YOUR_CASE",
            )
        access_id = str(derived_id("records-request", caller.account_id, request_id))
        existing = keeping.requests.get(access_id) or keeping.answered.get(access_id)
        if existing is not None:
            if (existing.young_person_account_id, existing.reply_key) != (young_person, reply_key):
                raise AlreadyDone(
                    "that request_id was used for another request", reason="REQUEST_ID_REUSED"
                )
            return existing
        keeping.request(
            access_request_id=access_id,
            young_person_account_id=young_person,
            requester_account_id=caller.account_id,
            purpose=purpose,
            reply_key=reply_key,
            due_at=datetime.fromtimestamp(self.clock(), UTC) + timedelta(days=ANSWER_DAYS),
        )
        self.save(keeping)
        return keeping.requests[access_id]

    def _keeping(self, organisation: str) -> RecordKeeping:
        # Read afresh: requests change it, and only the follower caches it.
        keeping = self._get(RecordKeeping, RecordKeeping.create_id(organisation))
        if keeping is None:
            raise NotFound("that organisation has no record keeper")
        return keeping

    def open_requests(self, keeper: str) -> list[AccessRequest]:
        return list(self._keeping(self.keeper_organisation(keeper)).requests.values())

    def answer_request(
        self, keeper: str, access_id: str, sealed_answer: bytes, record_ids: list[str]
    ) -> None:
        organisation = self.keeper_organisation(keeper)
        keeping = self._keeping(organisation)
        if access_id in keeping.answered:
            return  # a retried answer
        request = keeping.requests.get(access_id)
        if request is None:
            raise NotFound("no open request with that id")
        book = self._get(
            CaseRecordBook, CaseRecordBook.create_id(organisation, request.young_person_account_id)
        )
        assert book is not None  # a request is only recorded for a book that exists
        allowed = {
            kept.record_id
            for kept in book.records.values()
            if request.purpose == "subject_access"
            or request.requester_account_id in kept.member_account_ids
        }
        if not set(record_ids) <= allowed:
            raise Refused("a record named is not one this requester may read")
        self.record_link.run(self.record_store.put(f"answer.{access_id}", sealed_answer))
        book.read(
            purpose=request.purpose, reader=request.requester_account_id, record_ids=record_ids
        )
        keeping.answer(access_request_id=access_id, records=len(record_ids))
        self.save(book, keeping)

    def record_answer(self, caller: str, organisation: str, access_id: str) -> bytes:
        keeping = self._keeping(organisation)
        request = keeping.answered.get(access_id) or keeping.requests.get(access_id)
        if request is None:
            raise NotFound("no request with that id")
        if request.requester_account_id != caller:
            raise Refused("only the requester may fetch the answer")
        if access_id not in keeping.answered:
            raise Conflict(
                "the keeper has not answered yet; ask again later", reason="NOT_ANSWERED"
            )
        return self._sealed(f"answer.{access_id}")
