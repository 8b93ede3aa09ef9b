"""gRPC face of messaging: proto <-> application; fields checked by `hearth_runtime.fields`.

Domain errors are the runtime's family; its `ErrorInterceptor` answers them (a refusal of
contact carries the policy's reason, e.g. NOT_ALLOWED, as its `ErrorInfo` reason).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

import grpc
import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp

from hearth_crypto.age_band import AgeBand
from hearth_crypto.x3dh import PublicPrekey
from hearth_proto.hearth.messaging.v1 import messaging_pb2 as pb
from hearth_proto.hearth.messaging.v1 import messaging_pb2_grpc
from hearth_runtime import fields
from hearth_runtime.access import current_session
from hearth_runtime.errors import Invalid

from .application import Messaging
from .domain import MAX_GROUP_MEMBERS, Conversation
from .policy import AccountFacts
from .relay import DeviceCiphertext, EnvelopeToSend, RelayedEnvelope

KINDS = {pb.CONVERSATION_KIND_DIRECT: "direct", pb.CONVERSATION_KIND_GROUP: "group"}
# Documented in messaging.proto: bounds checked before any work.
MAX_ONE_TIME_PREKEYS = 100
MAX_OTHER_MEMBERS = MAX_GROUP_MEMBERS - 1  # the caller is the last member
MAX_SEQUENCE = 2**63 - 1  # mailbox sequences are JetStream's, which stores them as i64
MAX_COPIES_ASKED = 10_000  # the group limit is the application's; this bounds the request
RECHECK = 60.0  # seconds an idle delivery stream waits before re-reading its mailbox anyway
WAKE_RETRIES, WAKE_RETRY = 5, 0.02  # re-reads (and seconds between) while an announced copy
# is not stored yet
# Reads after a stream opens (seconds after each other): the relay answers a sender before
# JetStream has stored the copies, so a copy published just before the watch began (no
# wake-up) may be stored just after the first read.
SETTLE_READS = (0.02, 0.1, 0.5)
READ_BATCH = 256  # envelopes per mailbox read
REMEMBERED = 1024  # message ids a delivery stream remembers having delivered


class Delivery:
    """One delivery stream's view of its mailbox: the message ids the watch announced that
    no read has delivered yet, and a few it delivered (an announcement may come late)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.wake = asyncio.Event()
        self.announced: set[str] = set()
        self._recent: dict[str, None] = {}

    def announce_threadsafe(self, message_id: str) -> None:
        """From the mailbox link's thread: a copy was published to this mailbox."""
        self.loop.call_soon_threadsafe(self._announce, message_id)

    def _announce(self, message_id: str) -> None:
        if message_id not in self._recent:
            self.announced.add(message_id)
            self.wake.set()

    def delivered(self, message_id: str) -> None:
        self.announced.discard(message_id)
        self._recent[message_id] = None
        if len(self._recent) > REMEMBERED:
            del self._recent[next(iter(self._recent))]


RECORDING_NOTICE = (
    "This conversation is recorded by your organisation: its record keeper receives every "
    "message, end to end, and keeps it as a case record. The platform cannot read the record."
)
RECORD_READERS = [
    "the young person, by a subject access request",
    "the practitioners of the young person's case at the organisation",
    "a coroner, the family or the police, only on a recorded request approved by the "
    "safeguarding lead and the data protection officer",
]


def uuid_text(value: str, field: str, kind: str) -> str:
    """The id as the client spelled it (aggregate ids derive from it), once it is a UUID."""
    fields.identifier(value, field, kind)
    return value


def caller_facts() -> AccountFacts:
    session = current_session()
    return AccountFacts(
        session.account_id,
        roles=session.roles,
        band=AgeBand.from_label(session.age_band).label,
        organisations=session.organisations,
    )


def _prekey(p: pb.Prekey, field: str) -> PublicPrekey:
    return PublicPrekey(p.prekey_id, fields.exact_bytes(p.public_key, field, 32, "X25519 key"))


def _to_send(request: pb.SendEnvelopeRequest) -> EnvelopeToSend:
    return EnvelopeToSend(
        message_id=request.message_id,
        sender_device_id=request.sender_device_id,
        conversation_id=request.conversation_id,
        franking_commitment=request.franking_commitment,
        ciphertexts=tuple(DeviceCiphertext(c.device_id, c.ciphertext) for c in request.ciphertexts),
    )


def _envelope_bytes(envelope: RelayedEnvelope) -> bytes:
    """The mailbox keeps the wire `Envelope`; ReceiveEnvelopes adds its sequence."""
    return pb.Envelope(
        message_id=envelope.message_id,
        conversation_id=envelope.conversation_id,
        sender_account_id=envelope.sender_account_id,
        sender_device_id=envelope.sender_device_id,
        ciphertext=envelope.ciphertext,
        franking_commitment=envelope.franking_commitment,
        franking_stamp=envelope.franking_stamp,
        relayed_at_ms=envelope.relayed_at_ms,
        muted=envelope.muted,
        franking_key_id=envelope.franking_key_id,
        recipient_device_ids=envelope.recipient_device_ids,
    ).SerializeToString()


class MessagingServicer(messaging_pb2_grpc.MessagingServiceServicer):
    def __init__(self, app: Messaging) -> None:
        self.app = app

    def PublishPrekeys(
        self, request: pb.PublishPrekeysRequest, context: grpc.ServicerContext
    ) -> pb.PublishPrekeysResponse:
        device = uuid_text(request.device_id, "device_id", "device")
        fields.count(request.one_time_prekeys, "one_time_prekeys", at_most=MAX_ONE_TIME_PREKEYS)
        left = self.app.publish_prekeys(
            current_session().account_id,
            device,
            fields.exact_bytes(request.identity_key, "identity_key", 32, "Ed25519 key"),
            _prekey(request.signed_prekey, "signed_prekey.public_key"),
            fields.exact_bytes(
                request.signed_prekey_signature, "signed_prekey_signature", 64, "signature"
            ),
            [_prekey(p, "one_time_prekeys.public_key") for p in request.one_time_prekeys],
        )
        return pb.PublishPrekeysResponse(one_time_prekeys_left=left)

    def CountPrekeys(
        self, request: pb.CountPrekeysRequest, context: grpc.ServicerContext
    ) -> pb.CountPrekeysResponse:
        device = uuid_text(request.device_id, "device_id", "device")
        left = self.app.count_prekeys(current_session().account_id, device)
        return pb.CountPrekeysResponse(one_time_prekeys_left=left)

    def FetchPrekeyBundle(
        self, request: pb.FetchPrekeyBundleRequest, context: grpc.ServicerContext
    ) -> pb.FetchPrekeyBundleResponse:
        keys, taken = self.app.fetch_bundle(uuid_text(request.device_id, "device_id", "device"))
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

    def ListDevices(
        self, request: pb.ListDevicesRequest, context: grpc.ServicerContext
    ) -> pb.ListDevicesResponse:
        devices = self.app.list_devices(uuid_text(request.account_id, "account_id", "account"))
        return pb.ListDevicesResponse(
            devices=[
                pb.Device(device_id=d.device_id, identity_key=bytes.fromhex(d.identity_key))
                for d in devices
            ]
        )

    def CreateConversation(
        self, request: pb.CreateConversationRequest, context: grpc.ServicerContext
    ) -> pb.CreateConversationResponse:
        kind = KINDS[
            pb.ConversationKind.ValueType(
                fields.known(request.kind, "kind", KINDS, "direct or group")
            )
        ]
        request_id = fields.request_id(request.request_id)
        fields.count(request.member_account_ids, "member_account_ids", at_most=MAX_OTHER_MEMBERS)
        members = [
            uuid_text(m, "member_account_ids", "account") for m in request.member_account_ids
        ]
        caller = caller_facts()
        caller = self.app.facts(caller.account_id, caller)
        conversation = self.app.start_conversation(caller, request_id, kind, members)
        return pb.CreateConversationResponse(conversation=self._view(conversation))

    def AddMember(
        self, request: pb.AddMemberRequest, context: grpc.ServicerContext
    ) -> pb.AddMemberResponse:
        caller = caller_facts()
        caller = self.app.facts(caller.account_id, caller)
        conversation = self.app.add_member(
            caller,
            uuid_text(request.conversation_id, "conversation_id", "conversation"),
            uuid_text(request.account_id, "account_id", "account"),
        )
        return pb.AddMemberResponse(conversation=self._view(conversation))

    def LeaveConversation(
        self, request: pb.LeaveConversationRequest, context: grpc.ServicerContext
    ) -> pb.LeaveConversationResponse:
        conversation = uuid_text(request.conversation_id, "conversation_id", "conversation")
        self.app.leave(current_session().account_id, conversation)
        return pb.LeaveConversationResponse()

    def GetConversation(
        self, request: pb.GetConversationRequest, context: grpc.ServicerContext
    ) -> pb.GetConversationResponse:
        account = current_session().account_id
        conversation_id = uuid_text(request.conversation_id, "conversation_id", "conversation")
        conversation = self.app.conversation_of(account, conversation_id)
        return pb.GetConversationResponse(conversation=self._view(conversation))

    def _view(self, conversation: Conversation) -> pb.Conversation:
        account = current_session().account_id
        kind = {v: k for k, v in KINDS.items()}[conversation.kind]
        view = pb.Conversation(
            conversation_id=str(conversation.id),
            kind=kind,
            member_account_ids=list(conversation.members),
            muted=self.app.is_muted(account, str(conversation.id)),
        )
        recording = self.app.recording_of(conversation)
        if recording is not None:
            view.recording.CopyFrom(
                pb.Recording(
                    organisation_id=recording.organisation_id,
                    keeper_account_id=recording.keeper_account_id,
                    notice=RECORDING_NOTICE,
                    readers=RECORD_READERS,
                    young_person_account_ids=self.app.young_people(conversation),
                )
            )
        return view

    def SendEnvelope(
        self, request: pb.SendEnvelopeRequest, context: grpc.ServicerContext
    ) -> pb.SendEnvelopeResponse:
        fields.identifier(request.message_id, "message_id", "message")
        fields.identifier(request.sender_device_id, "sender_device_id", "device")
        fields.identifier(request.conversation_id, "conversation_id", "conversation")
        fields.exact_bytes(request.franking_commitment, "franking_commitment", 32, "commitment")
        fields.count(request.ciphertexts, "ciphertexts", at_least=1, at_most=MAX_COPIES_ASKED)
        for copy in request.ciphertexts:
            fields.identifier(copy.device_id, "ciphertexts.device_id", "device")
            if not copy.ciphertext:
                raise Invalid.field("ciphertexts.ciphertext", "is empty")
        if len({c.device_id for c in request.ciphertexts}) != len(request.ciphertexts):
            raise Invalid.field("ciphertexts.device_id", "names a device twice: one per device")
        relayed = self.app.relay(
            current_session().account_id, _to_send(request), encode=_envelope_bytes
        )
        at = Timestamp()
        at.FromMilliseconds(relayed.relayed_at_ms)
        return pb.SendEnvelopeResponse(
            relayed_at=at,
            franking_stamp=relayed.stamp.signature,
            franking_key_id=relayed.stamp.key_id,
            recipient_device_ids=relayed.stamp.recipient_devices,
        )

    async def ReceiveEnvelopes(
        self, request: pb.ReceiveEnvelopesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ReceiveEnvelopesResponse]:
        """Everything the device has not acknowledged, in order, then new envelopes live.

        Async, so an open delivery stream waits without holding a thread; a cancelled stream
        stops waiting at once (the task is cancelled). The mailbox is read when the stream
        opens and then only for a message the watch announced and no read has delivered yet
        (`Delivery`): a short batch means the mailbox is drained.
        """
        device = uuid_text(request.device_id, "device_id", "device")
        account = current_session().account_id
        if self.app.known_owner(device) != account:
            await asyncio.to_thread(self.app.check_own_device, account, device)
        mailboxes = self.app.mailboxes
        delivery = Delivery(asyncio.get_running_loop())
        unwatch = await mailboxes.watch(device, delivery.announce_threadsafe)
        cursor, full, retries = 1, True, 0
        settling = list(SETTLE_READS)
        try:
            while True:
                delivery.wake.clear()
                if full or delivery.announced:
                    batch = await mailboxes.read_async(device, cursor, READ_BATCH)
                    for stored in batch:
                        envelope = pb.Envelope.FromString(stored.payload)
                        envelope.sequence = stored.seq
                        delivery.delivered(envelope.message_id)
                        yield pb.ReceiveEnvelopesResponse(envelope=envelope)
                        cursor = stored.seq + 1
                    full = len(batch) == READ_BATCH
                    if full:
                        continue
                    if delivery.announced and retries < WAKE_RETRIES:
                        # Announced before JetStream stored it: look again shortly.
                        retries += 1
                        await asyncio.sleep(WAKE_RETRY)
                        continue
                    delivery.announced.clear()  # published, never stored: nothing to wait for
                retries = 0
                # The watch wakes us; the timeout is a safety net for a lost wake-up, spread
                # out so that thousands of idle streams do not read in step, and shortly
                # after the stream opened, for a copy published just before the watch began.
                idle = settling.pop(0) if settling else RECHECK * random.uniform(0.5, 1.5)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(delivery.wake.wait(), idle)
                full = not delivery.wake.is_set()  # timed out: read anyway
        finally:
            unwatch()

    def AcknowledgeEnvelopes(
        self, request: pb.AcknowledgeEnvelopesRequest, context: grpc.ServicerContext
    ) -> pb.AcknowledgeEnvelopesResponse:
        device = uuid_text(request.device_id, "device_id", "device")
        up_to = fields.bounded_int(request.up_to_sequence, "up_to_sequence", at_most=MAX_SEQUENCE)
        self.app.check_own_device(current_session().account_id, device)
        self.app.mailboxes.acknowledge(device, up_to)
        return pb.AcknowledgeEnvelopesResponse()

    def BlockAccount(
        self, request: pb.BlockAccountRequest, context: grpc.ServicerContext
    ) -> pb.BlockAccountResponse:
        target = str(fields.identifier(request.account_id, "account_id", "account"))
        self.app.change_settings(current_session().account_id, lambda s: s.block(target))
        return pb.BlockAccountResponse()

    def UnblockAccount(
        self, request: pb.UnblockAccountRequest, context: grpc.ServicerContext
    ) -> pb.UnblockAccountResponse:
        target = str(fields.identifier(request.account_id, "account_id", "account"))
        self.app.change_settings(current_session().account_id, lambda s: s.unblock(target))
        return pb.UnblockAccountResponse()

    def MuteConversation(
        self, request: pb.MuteConversationRequest, context: grpc.ServicerContext
    ) -> pb.MuteConversationResponse:
        account = current_session().account_id
        conversation_id = uuid_text(request.conversation_id, "conversation_id", "conversation")
        conversation = str(self.app.conversation_of(account, conversation_id).id)
        self.app.change_settings(account, lambda s: s.mute(conversation))
        return pb.MuteConversationResponse()

    def UnmuteConversation(
        self, request: pb.UnmuteConversationRequest, context: grpc.ServicerContext
    ) -> pb.UnmuteConversationResponse:
        account = current_session().account_id
        conversation_id = uuid_text(request.conversation_id, "conversation_id", "conversation")
        conversation = str(self.app.conversation_of(account, conversation_id).id)
        self.app.change_settings(account, lambda s: s.unmute(conversation))
        return pb.UnmuteConversationResponse()
