"""gRPC face of the record keeper's case records (`hearth.messaging.v1.RecordsService`)."""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from hearth_proto.hearth.messaging.v1 import records_pb2 as pb
from hearth_proto.hearth.messaging.v1 import records_pb2_grpc
from hearth_runtime import fields
from hearth_runtime.access import current_session

from .application import Messaging
from .servicer import uuid_text

MAX_SEALED_BYTES = 256 * 1024
MAX_RECORD_IDS = 10_000
MAX_TIME_MS = 2**62  # far past any relay time; keeps the field an honest int64
READER_CHARS = 200


class RecordsServicer(records_pb2_grpc.RecordsServiceServicer):
    def __init__(self, app: Messaging) -> None:
        self.app = app

    def KeepRecord(
        self, request: pb.KeepRecordRequest, context: grpc.ServicerContext
    ) -> pb.KeepRecordResponse:
        conversation = uuid_text(request.conversation_id, "conversation_id", "conversation")
        message = uuid_text(request.message_id, "message_id", "message")
        young = uuid_text(request.young_person_account_id, "young_person_account_id", "account")
        digest = fields.exact_bytes(request.digest, "digest", 32, "SHA-256 digest")
        sealed = fields.bounded_bytes(
            request.sealed, "sealed", max_bytes=MAX_SEALED_BYTES, required=True
        )
        at = fields.bounded_int(request.relayed_at_ms, "relayed_at_ms", at_most=MAX_TIME_MS)
        record_id, book_id = self.app.keep_record(
            current_session().account_id,
            conversation_id=conversation,
            message_id=message,
            young_person=young,
            digest=digest,
            sealed=sealed,
            relayed_at_ms=at,
        )
        return pb.KeepRecordResponse(record_id=record_id, book_id=str(book_id))

    def ListRecords(
        self, request: pb.ListRecordsRequest, context: grpc.ServicerContext
    ) -> pb.ListRecordsResponse:
        young = uuid_text(request.young_person_account_id, "young_person_account_id", "account")
        book, stored = self.app.list_records(current_session().account_id, young)
        opened = Timestamp()
        opened.FromDatetime(book.created_on)
        return pb.ListRecordsResponse(
            book_id=str(book.id),
            destroyed=book.destroyed,
            opened_at=opened,
            relay_keys={self.app.relay_key.public.key_id: self.app.relay_key.public.public_key},
            records=[
                pb.SealedRecord(
                    record_id=s.kept.record_id,
                    conversation_id=s.kept.conversation_id,
                    message_id=s.kept.message_id,
                    digest=s.kept.digest,
                    sealed=s.sealed,
                    relayed_at_ms=s.kept.relayed_at_ms,
                    member_account_ids=s.kept.member_account_ids,
                )
                for s in stored
            ],
        )

    def DestroyRecords(
        self, request: pb.DestroyRecordsRequest, context: grpc.ServicerContext
    ) -> pb.DestroyRecordsResponse:
        young = uuid_text(request.young_person_account_id, "young_person_account_id", "account")
        reason = fields.text(request.reason, "reason", max_chars=20, required=True)
        count = self.app.destroy_records(current_session().account_id, young, reason)
        return pb.DestroyRecordsResponse(records=count)

    def RecordRead(
        self, request: pb.RecordReadRequest, context: grpc.ServicerContext
    ) -> pb.RecordReadResponse:
        young = uuid_text(request.young_person_account_id, "young_person_account_id", "account")
        purpose = fields.text(request.purpose, "purpose", max_chars=20, required=True)
        reader = fields.text(request.reader, "reader", max_chars=READER_CHARS, required=True)
        fields.count(request.record_ids, "record_ids", at_most=MAX_RECORD_IDS)
        ids = [uuid_text(r, "record_ids", "record") for r in request.record_ids]
        self.app.record_read(current_session().account_id, young, purpose, reader, ids)
        return pb.RecordReadResponse()
