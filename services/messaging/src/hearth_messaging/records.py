"""The record keeper's case records: checked against what the relay relayed, digests in the
event log, sealed copies (ciphertext the keeper alone can open) in a key-value bucket.

The bucket is not an event log: destruction deletes the sealed copies, and the key that
opened them is destroyed by the keeper, so nothing of a destroyed record can be read again,
while its digest stays in the log (and in audit) as proof that it existed and when.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from uuid import UUID

import nats.js.errors
from nats.js.kv import KeyValue

from hearth_eventlog.link import JetStreamLink
from hearth_runtime.errors import Conflict, Invalid, NotFound, Refused

from .domain import RelayedMessage
from .recording import (
    DESTROY_REASONS,
    KEEPER_ROLE,
    READ_PURPOSES,
    YOUNG_ROLES,
    CaseRecordBook,
    KeptRecord,
)
from .relay import Relay


@dataclass(frozen=True)
class StoredRecord:
    kept: KeptRecord
    sealed: bytes


class Records(Relay):
    record_store: KeyValue
    record_link: JetStreamLink

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
        stored = []
        for kept in book.records.values():
            entry = self.record_link.run(self.record_store.get(kept.record_id))
            stored.append(StoredRecord(kept, bytes(entry.value or b"")))
        return book, stored

    def destroy_records(self, keeper: str, young_person: str, reason: str) -> int:
        if reason not in DESTROY_REASONS:
            raise Invalid.field("reason", f"is one of {sorted(DESTROY_REASONS)}")
        book = self._book(keeper, young_person)
        if not book.destroyed:
            book.destroy(reason=reason, records=len(book.records))
            self.save(book)
        for kept in book.records.values():
            with contextlib.suppress(nats.js.errors.KeyNotFoundError):
                self.record_link.run(self.record_store.purge(kept.record_id))
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
