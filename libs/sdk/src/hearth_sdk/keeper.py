"""An organisation's record keeper: a device of the organisation's own that is a member of
every practitioner-young person conversation, keeps each message as a case record, and
answers subject access, case reads and approved disclosures.

The organisation runs it (not the platform operator) with an account of role
`record_keeper` its org admin registered. It receives messages end to end like any device
(`MessagingDevice`), builds a `hearth_crypto.case_record.CaseRecord` of each with its
franking, seals it under a per-young-person key that never leaves `state_dir`, and sends
messaging only the sealed bytes and the record's digest (`KeepRecord`), which the log keeps
and audit witnesses. Destroying a young person's key (retention, erasure) makes their
records unreadable for good; `DestroyRecords` records it as an event. Every read is an
event. A young person's subject access request and a practitioner's request for their own
case are made through messaging (`RecordsRequest`), which checks who may ask; the keeper
answers them sealed to the requester (`answer_requests`). A disclosure is audit's: requested
by the keeper, approved by the safeguarding lead and the data protection officer, exported
as a bundle the keeper turns into a `hearth-records-package/v1` that `hearth-audit verify`
checks offline.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import grpc
from nacl.public import PrivateKey, PublicKey, SealedBox

from hearth_crypto.case_record import (
    RECORD_KEY_BYTES,
    CaseRecord,
    RecordKeyDestroyed,
    open_record,
    seal_record,
)
from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.messaging.v1 import messaging_pb2 as pb
from hearth_proto.hearth.messaging.v1 import records_pb2, records_pb2_grpc

from .channel import SessionToken, bearer
from .franked import ReceivedMessage
from .local_state import write_private_json
from .messaging import MessagingDevice

PACKAGE_FORMAT = "hearth-records-package/v1"
RETAIN_UNTIL_AGE = 25  # children's social-care records are kept until the person is 25
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Disclosure:
    disclosure_id: str
    due_at: datetime


class RecordKeeper:
    """The record keeper of one organisation, with its keys and device under `state_dir`;
    `channel` reaches messaging, `audit_channel` audit."""

    def __init__(
        self,
        channel: grpc.Channel,
        token: SessionToken,
        account_id: str,
        organisation_id: str,
        *,
        audit_channel: grpc.Channel,
        state_dir: Path,
        address: str | None = None,
        retain_until_age: int = RETAIN_UNTIL_AGE,
    ) -> None:
        self.account_id = account_id
        self.organisation_id = organisation_id
        self.token = token
        self.retain_until_age = retain_until_age
        self.device = MessagingDevice(
            channel, token, account_id, state_path=state_dir / "device.json", address=address
        )
        self.records = records_pb2_grpc.RecordsServiceStub(channel)
        self.audit = audit_pb2_grpc.AuditServiceStub(audit_channel)
        self._keys_path = state_dir / "record-keys.json"
        self._state = self._load()
        self._young: dict[str, list[str]] = {}  # conversation -> its young people

    @property
    def metadata(self) -> tuple[tuple[str, str]]:
        return bearer(self.token)

    # --- keys, held here only ------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        if self._keys_path.exists():
            loaded: dict[str, Any] = json.loads(self._keys_path.read_text())
            return loaded
        return {"keys": {}, "born": {}, "first_ms": {}, "destroyed": []}

    def _save(self) -> None:
        write_private_json(self._keys_path, self._state)

    def _key(self, young_person: str, *, create: bool = False) -> bytes:
        keys: dict[str, str] = self._state["keys"]
        if young_person in self._state["destroyed"]:
            raise RecordKeyDestroyed(f"the records of {young_person} were destroyed")
        if young_person not in keys:
            if not create:
                raise RecordKeyDestroyed(f"no record key for {young_person}")
            keys[young_person] = base64.b64encode(os.urandom(RECORD_KEY_BYTES)).decode()
            self._save()  # before anything is sealed under it
        return base64.b64decode(keys[young_person])

    # --- keeping ---------------------------------------------------------------------------

    def publish(self) -> None:
        """Publish the keeper's device, so senders can reach it end to end."""
        self.device.publish()

    def keep_new(self, count: int = 100, timeout: float = 2.0) -> list[str]:
        """Receive up to `count` messages and keep each as a case record of each young person
        of its conversation; the record ids."""
        kept: list[str] = []
        for message in self.device.receive(count, timeout):
            kept += self.keep(message)
        return kept

    def keep(self, message: ReceivedMessage) -> list[str]:
        kept = []
        for young_person in self._young_people(message.conversation_id):
            record = CaseRecord(
                organisation_id=self.organisation_id,
                young_person_account_id=young_person,
                message_id=message.message_id,
                conversation_id=message.conversation_id,
                sender_account_id=message.sender_account_id,
                sender_device_id=message.sender_device_id,
                body=message.body,
                franking_key=message.franking_key,
                franking_commitment=message.franking_commitment,
                franking_stamp=message.franking_stamp,
                franking_key_id=message.franking_key_id,
                recipient_device_ids=message.recipient_device_ids,
                relayed_at_ms=message.relayed_at_ms,
            )
            sealed = seal_record(self._key(young_person, create=True), record)
            answer = self.records.KeepRecord(
                records_pb2.KeepRecordRequest(
                    conversation_id=message.conversation_id,
                    message_id=message.message_id,
                    young_person_account_id=young_person,
                    digest=record.digest(),
                    sealed=sealed,
                    relayed_at_ms=message.relayed_at_ms,
                ),
                metadata=self.metadata,
            )
            self._state["first_ms"].setdefault(young_person, message.relayed_at_ms)
            kept.append(answer.record_id)
        self._save()
        return kept

    def _young_people(self, conversation_id: str) -> list[str]:
        if conversation_id not in self._young:
            conversation = self.device.stub.GetConversation(
                pb.GetConversationRequest(conversation_id=conversation_id),
                metadata=self.metadata,
            ).conversation
            self._young[conversation_id] = list(conversation.recording.young_person_account_ids)
        return self._young[conversation_id]

    # --- reading ---------------------------------------------------------------------------

    def _open_all(
        self, young_person: str
    ) -> tuple[records_pb2.ListRecordsResponse, list[tuple[records_pb2.SealedRecord, CaseRecord]]]:
        listed = self.records.ListRecords(
            records_pb2.ListRecordsRequest(young_person_account_id=young_person),
            metadata=self.metadata,
        )
        key = self._key(young_person)
        opened = []
        for sealed in listed.records:
            record = open_record(key, sealed.sealed)
            if record.digest() != sealed.digest:
                raise ValueError(f"record {sealed.record_id} does not match its digest")
            opened.append((sealed, record))
        return listed, opened

    def read_records(self, young_person: str) -> list[CaseRecord]:
        """The organisation's own read of a young person's records (its case file work); the
        read is an event like every other."""
        _, opened = self._open_all(young_person)
        self._read(young_person, "case", self.account_id, (s.record_id for s, _ in opened))
        return [record for _, record in opened]

    def _read(self, young_person: str, purpose: str, reader: str, ids: Iterable[str]) -> None:
        self.records.RecordRead(
            records_pb2.RecordReadRequest(
                young_person_account_id=young_person,
                purpose=purpose,
                reader=reader,
                record_ids=list(ids),
            ),
            metadata=self.metadata,
        )

    def answer_requests(self) -> list[str]:
        """Answer every open request (a young person's subject access, a practitioner's case
        read): the records, sealed to the requester's reply key. Messaging checked who may
        ask; the keeper gives a practitioner only conversations they were a member of. The
        ids of the requests answered."""
        answered = []
        asked = self.records.ListRecordRequests(
            records_pb2.ListRecordRequestsRequest(), metadata=self.metadata
        )
        for request in asked.requests:
            _, opened = self._open_all(request.young_person_account_id)
            if request.purpose == "case":
                opened = [
                    (s, r)
                    for s, r in opened
                    if request.requester_account_id in s.member_account_ids
                ]
            document = json.dumps([r.to_json() for _, r in opened]).encode()
            self.records.AnswerRecordRequest(
                records_pb2.AnswerRecordRequestRequest(
                    access_request_id=request.access_request_id,
                    sealed_answer=bytes(SealedBox(PublicKey(request.reply_key)).encrypt(document)),
                    record_ids=[s.record_id for s, _ in opened],
                ),
                metadata=self.metadata,
            )
            answered.append(request.access_request_id)
        return answered

    # --- disclosure --------------------------------------------------------------------------

    def request_disclosure(
        self, young_person: str, *, recipient: str, legal_basis: str, reason: str
    ) -> Disclosure:
        """Record a disclosure request (a coroner's, a family's, the police's) in audit: it
        needs the safeguarding lead's and the data protection officer's approval."""
        listed = self.records.ListRecords(
            records_pb2.ListRecordsRequest(young_person_account_id=young_person),
            metadata=self.metadata,
        )
        answer = self.audit.RequestDisclosure(
            audit_pb2.RequestDisclosureRequest(
                request_id=str(uuid.uuid4()),
                pseudonym=listed.book_id,
                reason=reason,
                recipient=recipient,
                legal_basis=legal_basis,
            ),
            metadata=self.metadata,
        )
        return Disclosure(answer.disclosure_id, answer.due_at.ToDatetime(tzinfo=UTC))

    def disclosure_package(
        self,
        disclosure: Disclosure,
        young_person: str,
        *,
        recipient: str = "",
        legal_basis: str = "",
        from_ms: int = 0,
        to_ms: int = 0,
    ) -> dict[str, Any]:
        """The evidence package of an approved disclosure: audit refuses the bundle (and so
        the keeper decrypts nothing) until the lead and the data protection officer approved."""
        bundle = json.loads(
            self.audit.ExportBundle(
                audit_pb2.ExportBundleRequest(disclosure_id=disclosure.disclosure_id),
                metadata=self.metadata,
            ).bundle
        )
        listed, opened = self._open_all(young_person)
        if bundle.get("pseudonym") is None or not listed.book_id:
            raise ValueError("the disclosure is not of this young person's records")
        in_scope = [
            (s, r)
            for s, r in opened
            if r.relayed_at_ms >= from_ms and (not to_ms or r.relayed_at_ms <= to_ms)
        ]
        self._read(
            young_person, "disclosure", disclosure.disclosure_id, (s.record_id for s, _ in in_scope)
        )
        return {
            "format": PACKAGE_FORMAT,
            "disclosure": {
                "disclosure_id": disclosure.disclosure_id,
                "recipient": recipient,
                "legal_basis": legal_basis,
                "due_at": disclosure.due_at.isoformat(),
            },
            "scope": {
                "organisation_id": self.organisation_id,
                "young_person_account_id": young_person,
                "from_ms": from_ms,
                "to_ms": to_ms,
            },
            "relay_keys": {k: base64.b64encode(v).decode() for k, v in listed.relay_keys.items()},
            "bundle": bundle,
            "records": [r.to_json() for _, r in in_scope],
        }

    # --- retention -------------------------------------------------------------------------

    def note_birth_date(self, young_person: str, born: date) -> None:
        """From the organisation's case file (the platform never has it): kept here only."""
        self._state["born"][young_person] = born.isoformat()
        self._save()

    def retain_until(self, young_person: str) -> datetime:
        """The young person's 25th birthday; without a birth date, 25 years after the first
        record (as long as it could need to be)."""
        born = self._state["born"].get(young_person)
        if born is not None:
            birth = date.fromisoformat(born)
            return datetime(birth.year + self.retain_until_age, birth.month, 1, tzinfo=UTC)
        first = datetime.fromtimestamp(self._state["first_ms"][young_person] / 1000, UTC)
        return first.replace(year=first.year + self.retain_until_age)

    def apply_retention(self, now: datetime | None = None) -> list[str]:
        """Destroy the keys of every young person whose retention ran out; each is an event."""
        now = now or datetime.now(UTC)
        due = [
            y
            for y in list(self._state["keys"])
            if y in self._state["first_ms"] and self.retain_until(y) <= now
        ]
        for young_person in due:
            self.destroy(young_person, "retention")
        return due

    def destroy(self, young_person: str, reason: str) -> None:
        """The key first: once it is gone nothing can read the records, whatever follows."""
        self._state["keys"].pop(young_person, None)
        if young_person not in self._state["destroyed"]:
            self._state["destroyed"].append(young_person)
        self._save()
        self.records.DestroyRecords(
            records_pb2.DestroyRecordsRequest(young_person_account_id=young_person, reason=reason),
            metadata=self.metadata,
        )

    def close(self) -> None:
        self.device.disconnect()


class RecordsRequest:
    """A young person's request for their own records (subject access), or a practitioner's
    for their case's, answered by the organisation's keeper end to end: the answer is sealed
    to a key made here, which never leaves this object."""

    def __init__(self, channel: grpc.Channel, token: SessionToken) -> None:
        self.stub = records_pb2_grpc.RecordsServiceStub(channel)
        self.token = token
        self._key = PrivateKey.generate()
        self.organisation_id = ""
        self.access_request_id = ""
        self.due_at: datetime | None = None
        self.purpose = ""

    def ask(self, organisation_id: str, young_person: str) -> str:
        answer = self.stub.RequestRecords(
            records_pb2.RequestRecordsRequest(
                request_id=str(uuid.uuid4()),
                organisation_id=organisation_id,
                young_person_account_id=young_person,
                reply_key=bytes(self._key.public_key),
            ),
            metadata=bearer(self.token),
        )
        self.organisation_id = organisation_id
        self.access_request_id = answer.access_request_id
        self.purpose = answer.purpose
        self.due_at = answer.due_at.ToDatetime(tzinfo=UTC)
        return self.access_request_id

    def answer(self) -> list[CaseRecord] | None:
        """The records, once the keeper answered (None until then)."""
        try:
            sealed = self.stub.GetRecordAnswer(
                records_pb2.GetRecordAnswerRequest(
                    organisation_id=self.organisation_id,
                    access_request_id=self.access_request_id,
                ),
                metadata=bearer(self.token),
            ).sealed_answer
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.FAILED_PRECONDITION:
                return None
            raise
        return [CaseRecord.from_json(d) for d in json.loads(SealedBox(self._key).decrypt(sealed))]
