"""gRPC face of messaging: proto <-> application, domain errors -> status codes."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from hearth_crypto.age_band import AgeBand
from hearth_crypto.x3dh import InvalidPublicKey, PublicPrekey
from hearth_eventlog.link import JetStreamError
from hearth_proto.hearth.messaging.v1 import messaging_pb2 as pb
from hearth_proto.hearth.messaging.v1 import messaging_pb2_grpc
from hearth_runtime.access import current_session

from .application import (
    AlreadyDone,
    Conflict,
    ContactRefused,
    Forbidden,
    InvalidArgument,
    Messaging,
    NotFound,
    TooMuch,
)
from .domain import Conversation
from .policy import AccountFacts

F = TypeVar("F", bound=Callable[..., Any])
STATUS = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    Forbidden: grpc.StatusCode.PERMISSION_DENIED,
    Conflict: grpc.StatusCode.FAILED_PRECONDITION,
    AlreadyDone: grpc.StatusCode.ALREADY_EXISTS,
    TooMuch: grpc.StatusCode.RESOURCE_EXHAUSTED,
}
KINDS = {pb.CONVERSATION_KIND_DIRECT: "direct", pb.CONVERSATION_KIND_GROUP: "group"}


def answers(method: F) -> F:
    """Turn domain refusals into their status; a refusal of contact carries its reason code."""

    @functools.wraps(method)
    def run(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request, context)
        except ContactRefused as e:
            context.set_trailing_metadata((("hearth-reason-code", e.decision.reason_code),))
            context.abort(grpc.StatusCode.PERMISSION_DENIED, str(e))
        except tuple(STATUS) as e:
            context.abort(STATUS[type(e)] if type(e) in STATUS else _status(e), str(e))
        except (InvalidPublicKey, ValueError) as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        except JetStreamError as e:
            context.abort(grpc.StatusCode.UNAVAILABLE, f"message store unavailable: {e}")

    return run  # type: ignore[return-value]


def _status(error: Exception) -> grpc.StatusCode:
    for cls, code in STATUS.items():
        if isinstance(error, cls):
            return code
    return grpc.StatusCode.INVALID_ARGUMENT


def caller_facts() -> AccountFacts:
    session = current_session()
    return AccountFacts(
        session.account_id,
        roles=session.roles,
        band=AgeBand.from_label(session.age_band).label,
        organisations=session.organisations,
    )


def _prekey(p: pb.Prekey) -> PublicPrekey:
    return PublicPrekey(p.prekey_id, p.public_key)


class MessagingServicer(messaging_pb2_grpc.MessagingServiceServicer):
    def __init__(self, app: Messaging) -> None:
        self.app = app

    @answers
    def PublishPrekeys(
        self, request: pb.PublishPrekeysRequest, context: grpc.ServicerContext
    ) -> pb.PublishPrekeysResponse:
        left = self.app.publish_prekeys(
            current_session().account_id,
            request.device_id,
            request.identity_key,
            _prekey(request.signed_prekey),
            request.signed_prekey_signature,
            [_prekey(p) for p in request.one_time_prekeys],
        )
        return pb.PublishPrekeysResponse(one_time_prekeys_left=left)

    @answers
    def CountPrekeys(
        self, request: pb.CountPrekeysRequest, context: grpc.ServicerContext
    ) -> pb.CountPrekeysResponse:
        left = self.app.count_prekeys(current_session().account_id, request.device_id)
        return pb.CountPrekeysResponse(one_time_prekeys_left=left)

    @answers
    def FetchPrekeyBundle(
        self, request: pb.FetchPrekeyBundleRequest, context: grpc.ServicerContext
    ) -> pb.FetchPrekeyBundleResponse:
        keys, taken = self.app.fetch_bundle(request.device_id)
        response = pb.FetchPrekeyBundleResponse(
            device_id=keys.device_id,
            account_id=keys.account_id,
            identity_key=bytes.fromhex(keys.identity_key),
            signed_prekey=pb.Prekey(
                prekey_id=keys.signed_prekey_id, public_key=bytes.fromhex(keys.signed_prekey)
            ),
            signed_prekey_signature=bytes.fromhex(keys.signature),
        )
        if taken is not None:
            response.one_time_prekey.CopyFrom(
                pb.Prekey(prekey_id=taken[0], public_key=bytes.fromhex(taken[1]))
            )
        return response

    @answers
    def ListDevices(
        self, request: pb.ListDevicesRequest, context: grpc.ServicerContext
    ) -> pb.ListDevicesResponse:
        devices = self.app.list_devices(request.account_id)
        return pb.ListDevicesResponse(
            devices=[
                pb.Device(device_id=d.device_id, identity_key=bytes.fromhex(d.identity_key))
                for d in devices
            ]
        )

    @answers
    def CreateConversation(
        self, request: pb.CreateConversationRequest, context: grpc.ServicerContext
    ) -> pb.CreateConversationResponse:
        if request.kind not in KINDS:
            raise InvalidArgument("kind must be direct or group")
        if not request.request_id:
            raise InvalidArgument("request_id is required")
        caller = caller_facts()
        caller = self.app.facts(caller.account_id, caller)
        conversation = self.app.start_conversation(
            caller, request.request_id, KINDS[request.kind], list(request.member_account_ids)
        )
        return pb.CreateConversationResponse(conversation=self._view(conversation))

    @answers
    def AddMember(
        self, request: pb.AddMemberRequest, context: grpc.ServicerContext
    ) -> pb.AddMemberResponse:
        caller = caller_facts()
        caller = self.app.facts(caller.account_id, caller)
        conversation = self.app.add_member(caller, request.conversation_id, request.account_id)
        return pb.AddMemberResponse(conversation=self._view(conversation))

    @answers
    def LeaveConversation(
        self, request: pb.LeaveConversationRequest, context: grpc.ServicerContext
    ) -> pb.LeaveConversationResponse:
        self.app.leave(current_session().account_id, request.conversation_id)
        return pb.LeaveConversationResponse()

    @answers
    def GetConversation(
        self, request: pb.GetConversationRequest, context: grpc.ServicerContext
    ) -> pb.GetConversationResponse:
        account = current_session().account_id
        conversation = self.app.conversation_of(account, request.conversation_id)
        return pb.GetConversationResponse(conversation=self._view(conversation))

    def _view(self, conversation: Conversation) -> pb.Conversation:
        account = current_session().account_id
        kind = {v: k for k, v in KINDS.items()}[conversation.kind]
        return pb.Conversation(
            conversation_id=str(conversation.id),
            kind=kind,
            member_account_ids=list(conversation.members),
            muted=self.app.is_muted(account, str(conversation.id)),
        )

    @answers
    def SendEnvelope(
        self, request: pb.SendEnvelopeRequest, context: grpc.ServicerContext
    ) -> pb.SendEnvelopeResponse:
        relayed = self.app.relay(current_session().account_id, request)
        at = Timestamp()
        at.FromMilliseconds(relayed.relayed_at_ms)
        return pb.SendEnvelopeResponse(relayed_at=at, franking_stamp=relayed.stamp)

    def ReceiveEnvelopes(
        self, request: pb.ReceiveEnvelopesRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.ReceiveEnvelopesResponse]:
        """Everything the device has not acknowledged, in order, then new envelopes live."""
        try:
            self.app.check_own_device(current_session().account_id, request.device_id)
        except tuple(STATUS) as e:
            context.abort(_status(e), str(e))
        mailboxes = self.app.mailboxes
        wake = threading.Event()
        context.add_callback(wake.set)  # a cancelled stream stops waiting at once
        unwatch = mailboxes.watch(request.device_id, wake.set)
        cursor = 1
        try:
            while context.is_active():
                wake.clear()
                batch = mailboxes.read(request.device_id, cursor)
                for stored in batch:
                    envelope = pb.Envelope.FromString(stored.payload)
                    envelope.sequence = stored.seq
                    yield pb.ReceiveEnvelopesResponse(envelope=envelope)
                    cursor = stored.seq + 1
                if not batch:
                    wake.wait(5.0)
        finally:
            unwatch()

    @answers
    def AcknowledgeEnvelopes(
        self, request: pb.AcknowledgeEnvelopesRequest, context: grpc.ServicerContext
    ) -> pb.AcknowledgeEnvelopesResponse:
        self.app.check_own_device(current_session().account_id, request.device_id)
        self.app.mailboxes.acknowledge(request.device_id, request.up_to_sequence)
        return pb.AcknowledgeEnvelopesResponse()

    @answers
    def BlockAccount(
        self, request: pb.BlockAccountRequest, context: grpc.ServicerContext
    ) -> pb.BlockAccountResponse:
        target = _account(request.account_id)
        self.app.change_settings(current_session().account_id, lambda s: s.block(target))
        return pb.BlockAccountResponse()

    @answers
    def UnblockAccount(
        self, request: pb.UnblockAccountRequest, context: grpc.ServicerContext
    ) -> pb.UnblockAccountResponse:
        target = _account(request.account_id)
        self.app.change_settings(current_session().account_id, lambda s: s.unblock(target))
        return pb.UnblockAccountResponse()

    @answers
    def MuteConversation(
        self, request: pb.MuteConversationRequest, context: grpc.ServicerContext
    ) -> pb.MuteConversationResponse:
        account = current_session().account_id
        conversation = str(self.app.conversation_of(account, request.conversation_id).id)
        self.app.change_settings(account, lambda s: s.mute(conversation))
        return pb.MuteConversationResponse()

    @answers
    def UnmuteConversation(
        self, request: pb.UnmuteConversationRequest, context: grpc.ServicerContext
    ) -> pb.UnmuteConversationResponse:
        account = current_session().account_id
        conversation = str(self.app.conversation_of(account, request.conversation_id).id)
        self.app.change_settings(account, lambda s: s.unmute(conversation))
        return pb.UnmuteConversationResponse()


def _account(account_id: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(account_id))
    except ValueError:
        raise InvalidArgument(f"account_id must be a UUID, got {account_id!r}") from None
