"""gRPC face of messaging: proto <-> application, domain errors -> status codes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc
import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp

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
    band_label,
)
from .domain import MAX_GROUP_MEMBERS, Conversation
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
# Documented in messaging.proto: bounds checked before any work (stores keep u63 sequences).
MAX_ONE_TIME_PREKEYS = 100
MAX_SEQUENCE = 2**63 - 1
RECHECK = 60.0  # seconds an idle delivery stream waits before re-reading its mailbox anyway
WAKE_RETRIES, WAKE_RETRY = 5, 0.1  # re-reads (and seconds between) after a wake finds nothing
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
        band=band_label(session.age_band),
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
        if len(request.one_time_prekeys) > MAX_ONE_TIME_PREKEYS:
            raise InvalidArgument(
                f"at most {MAX_ONE_TIME_PREKEYS} one_time_prekeys in one call, "
                f"got {len(request.one_time_prekeys)}"
            )
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
        if len(request.member_account_ids) > MAX_GROUP_MEMBERS:
            raise InvalidArgument(f"a conversation has at most {MAX_GROUP_MEMBERS} members")
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

    async def ReceiveEnvelopes(
        self, request: pb.ReceiveEnvelopesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ReceiveEnvelopesResponse]:
        """Everything the device has not acknowledged, in order, then new envelopes live.

        Async, so an open delivery stream waits without holding a thread; a cancelled stream
        stops waiting at once (the task is cancelled).
        """
        account = current_session().account_id
        try:
            await asyncio.to_thread(self.app.check_own_device, account, request.device_id)
        except tuple(STATUS) as e:
            await context.abort(_status(e), str(e))
        mailboxes = self.app.mailboxes
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def wake_up() -> None:  # called on the mailbox link's thread
            loop.call_soon_threadsafe(wake.set)

        unwatch = await mailboxes.watch(request.device_id, wake_up)
        cursor, retries = 1, 0
        try:
            while True:
                wake.clear()
                batch = await mailboxes.read_async(request.device_id, cursor)
                for stored in batch:
                    envelope = pb.Envelope.FromString(stored.payload)
                    envelope.sequence = stored.seq
                    yield pb.ReceiveEnvelopesResponse(envelope=envelope)
                    cursor = stored.seq + 1
                if batch:
                    retries = 0
                elif retries:
                    # A wake-up can come before JetStream has stored what woke it: look again
                    # shortly, a few times, before waiting long.
                    retries -= 1
                    await asyncio.sleep(WAKE_RETRY)
                else:
                    # The watch wakes us; the timeout is only a safety net for a lost wake-up,
                    # spread out so that thousands of idle streams do not read in step.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), RECHECK * random.uniform(0.5, 1.5))
                    retries = WAKE_RETRIES if wake.is_set() else 0
        finally:
            unwatch()

    @answers
    def AcknowledgeEnvelopes(
        self, request: pb.AcknowledgeEnvelopesRequest, context: grpc.ServicerContext
    ) -> pb.AcknowledgeEnvelopesResponse:
        if not 0 <= request.up_to_sequence <= MAX_SEQUENCE:
            raise InvalidArgument(f"up_to_sequence must be at most {MAX_SEQUENCE}")
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
