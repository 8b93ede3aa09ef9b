"""gRPC face of the record keeper's case records (`hearth.messaging.v1.RecordsService`)."""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from hearth_proto.hearth.messaging.v1 import records_pb2 as pb
from hearth_proto.hearth.messaging.v1 import records_pb2_grpc
from hearth_runtime import fields
from hearth_runtime.access import current_session

from .application import Messaging
from .servicer import caller_facts, uuid_text

MAX_SEALED_BYTES = 256 * 1024
MAX_RECORD_IDS = 10_000
MAX_ANSWER_BYTES = 960 * 1024  # under NATS's 1 MiB message, with room for the framing
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

    def RequestRecords(
        self, request: pb.RequestRecordsRequest, context: grpc.ServicerContext
    ) -> pb.RequestRecordsResponse:
        request_id = fields.request_id(request.request_id)
        organisation = uuid_text(request.organisation_id, "organisation_id", "organisation")
        young = uuid_text(request.young_person_account_id, "young_person_account_id", "account")
        reply_key = fields.exact_bytes(request.reply_key, "reply_key", 32, "X25519 key")
        caller = caller_facts()
        caller = self.app.facts(caller.account_id, caller)
        asked = self.app.request_records(caller, request_id, organisation, young, reply_key)
        due = Timestamp()
        due.FromDatetime(asked.due_at)
        return pb.RequestRecordsResponse(
            access_request_id=asked.access_request_id, purpose=asked.purpose, due_at=due
        )

    def ListRecordRequests(
        self, request: pb.ListRecordRequestsRequest, context: grpc.ServicerContext
    ) -> pb.ListRecordRequestsResponse:
        response = pb.ListRecordRequestsResponse()
        for asked in self.app.open_requests(current_session().account_id):
            item = response.requests.add(
                access_request_id=asked.access_request_id,
                young_person_account_id=asked.young_person_account_id,
                requester_account_id=asked.requester_account_id,
                purpose=asked.purpose,
                reply_key=asked.reply_key,
            )
            item.due_at.FromDatetime(asked.due_at)
        return response

    def AnswerRecordRequest(
        self, request: pb.AnswerRecordRequestRequest, context: grpc.ServicerContext
    ) -> pb.AnswerRecordRequestResponse:
        access_id = uuid_text(request.access_request_id, "access_request_id", "request")
        sealed = fields.bounded_bytes(
            request.sealed_answer, "sealed_answer", max_bytes=MAX_ANSWER_BYTES, required=True
        )
        fields.count(request.record_ids, "record_ids", at_most=MAX_RECORD_IDS)
        ids = [uuid_text(r, "record_ids", "record") for r in request.record_ids]
        self.app.answer_request(current_session().account_id, access_id, sealed, ids)
        return pb.AnswerRecordRequestResponse()

    def GetRecordAnswer(
        self, request: pb.GetRecordAnswerRequest, context: grpc.ServicerContext
    ) -> pb.GetRecordAnswerResponse:
        organisation = uuid_text(request.organisation_id, "organisation_id", "organisation")
        access_id = uuid_text(request.access_request_id, "access_request_id", "request")
        sealed = self.app.record_answer(current_session().account_id, organisation, access_id)
        return pb.GetRecordAnswerResponse(sealed_answer=sealed)
