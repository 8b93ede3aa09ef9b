"""End-to-end encrypted messaging for one device: X3DH + Double Ratchet sessions, franking.

Each device is its own endpoint: a message is encrypted once per recipient device, and to the
sender's other devices, with a Double Ratchet session per remote device started by X3DH from
the prekey directory. The plaintext carries a fresh franking key; the relay sees only the
ciphertexts and the franking commitment, which it stamps. Until a remote device has answered,
every message to it carries the X3DH header, so the first message may be lost or reordered.

With a `state_path`, the device's secrets (identity key, prekeys, ratchet sessions) and the
ids of messages it has handled are kept in a local JSON file, written atomically and readable
by its owner only, after every change and before anything is acknowledged: an app that
restarts picks up its sessions and decrypts the next message.

`MessagingDevice` is built in layers, one job to a module: `device_state` (the local file),
`sessions` (X3DH, the ratchet, opening envelopes), `inbox` (the mailbox stream); this module
adds keys, conversations and sending.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import grpc

from hearth_crypto.franking import (
    Frank,
    MessageMetadata,
    frank_message,
    pack_franked_body,
)
from hearth_crypto.x3dh import (
    IdentityKeyPair,
    OneTimePrekey,
    PublicPrekey,
    SignedPrekey,
)
from hearth_proto.hearth.messaging.v1 import messaging_pb2 as pb
from hearth_proto.hearth.messaging.v1 import messaging_pb2_grpc

from .channel import SessionToken, bearer
from .device_state import Session
from .inbox import Inbox
from .sessions import PREKEY_MESSAGE, RATCHET_MESSAGE

SIGNED_PREKEY_LIFETIME = 7 * 24 * 3600  # rotated weekly, as Signal does
DIRECT = pb.CONVERSATION_KIND_DIRECT
GROUP = pb.CONVERSATION_KIND_GROUP


class MessagingDevice(Inbox):
    """One device of one account: its keys, its sessions, its mailbox."""

    def __init__(
        self,
        channel: grpc.Channel,
        token: SessionToken,
        account_id: str,
        *,
        device_id: str | None = None,
        max_skip: int | None = None,
        address: str | None = None,
        state_path: Path | None = None,
    ) -> None:
        """`address`, when given, lets the mailbox stream run on a channel of its own that
        `disconnect` closes (a traced channel's stream cannot be cancelled by itself).
        `token` is a session token or a callable giving a current one (`IdentityClient.session`).
        `state_path`, when given, keeps the device's state there; an existing file is this
        device, restored (its device id wins; a different account is refused)."""
        self.address = address
        self.stub = messaging_pb2_grpc.MessagingServiceStub(channel)
        self.token = token
        self.account_id = account_id
        self.device_id = device_id or str(uuid.uuid4())
        self.identity = IdentityKeyPair.generate()
        self.signed_prekeys: dict[int, SignedPrekey] = {}
        self.one_time: dict[int, OneTimePrekey] = {}
        self._next_prekey_id = 1
        self.signed_prekey_published_at = time.time()
        self.sessions: dict[str, list[Session]] = {}
        self.max_skip = max_skip
        self.rejected: list[tuple[pb.Envelope, Exception]] = []
        self._seen: set[str] = set()
        self._inbox = None
        self._lock = threading.RLock()
        self.state_path = Path(state_path) if state_path is not None else None
        if self.state_path is not None and self.state_path.exists():
            self._restore(json.loads(self.state_path.read_text()), device_id)
        self.save()

    @property
    def metadata(self) -> tuple[tuple[str, str]]:
        """Call metadata with a current session token."""
        return bearer(self.token)

    # --- keys --------------------------------------------------------------------------

    def _prekey_id(self) -> int:
        prekey_id = self._next_prekey_id
        self._next_prekey_id += 1
        return prekey_id

    def publish(self, one_time_prekeys: int = 20, *, rotate: bool = False) -> int:
        """Publish the identity key, a signed prekey and more one-time prekeys."""
        if rotate or not self.signed_prekeys:
            signed = SignedPrekey.generate(self.identity, self._prekey_id())
            self.signed_prekeys[signed.prekey_id] = signed
        current = self.signed_prekeys[max(self.signed_prekeys)]
        fresh = [OneTimePrekey.generate(self._prekey_id()) for _ in range(one_time_prekeys)]
        self.one_time.update({p.prekey_id: p for p in fresh})
        self.save()  # the private halves are kept before the public ones are published
        response = self.stub.PublishPrekeys(
            pb.PublishPrekeysRequest(
                request_id=str(uuid.uuid4()),
                device_id=self.device_id,
                identity_key=self.identity.public_key,
                signed_prekey=_prekey(current.public),
                signed_prekey_signature=current.signature,
                one_time_prekeys=[_prekey(p.public) for p in fresh],
            ),
            metadata=self.metadata,
        )
        return int(response.one_time_prekeys_left)

    def refill(self, low: int = 5, count: int = 20) -> int:
        """Top up one-time prekeys when the directory holds fewer than `low`."""
        left = int(
            self.stub.CountPrekeys(
                pb.CountPrekeysRequest(device_id=self.device_id), metadata=self.metadata
            ).one_time_prekeys_left
        )
        return self.publish(count) if left < low else left

    def maintain(self, *, low: int = 5, count: int = 20, now: float | None = None) -> None:
        """Rotate the signed prekey once it is `SIGNED_PREKEY_LIFETIME` old, and refill.

        The previous signed prekey is kept one more period, for initial messages already
        on their way; older ones are deleted (forward secrecy for sessions never started).
        """
        now = time.time() if now is None else now
        if now - self.signed_prekey_published_at >= SIGNED_PREKEY_LIFETIME:
            self.publish(0, rotate=True)
            self.signed_prekey_published_at = now
            for prekey_id in sorted(self.signed_prekeys)[:-2]:
                del self.signed_prekeys[prekey_id]
            self.save()
        self.refill(low, count)

    # --- conversations -----------------------------------------------------------------

    def start_conversation(
        self, members: Iterable[str], kind: int = DIRECT, request_id: str | None = None
    ) -> pb.Conversation:
        response = self.stub.CreateConversation(
            pb.CreateConversationRequest(
                request_id=request_id or str(uuid.uuid4()),
                kind=kind,  # type: ignore[arg-type]
                member_account_ids=list(members),
            ),
            metadata=self.metadata,
        )
        conversation: pb.Conversation = response.conversation
        return conversation

    def add_member(self, conversation_id: str, account_id: str) -> pb.Conversation:
        response: pb.AddMemberResponse = self.stub.AddMember(
            pb.AddMemberRequest(
                request_id=str(uuid.uuid4()), conversation_id=conversation_id, account_id=account_id
            ),
            metadata=self.metadata,
        )
        conversation: pb.Conversation = response.conversation
        return conversation

    def block(self, account_id: str) -> None:
        self.stub.BlockAccount(
            pb.BlockAccountRequest(request_id=str(uuid.uuid4()), account_id=account_id),
            metadata=self.metadata,
        )

    def unblock(self, account_id: str) -> None:
        self.stub.UnblockAccount(
            pb.UnblockAccountRequest(request_id=str(uuid.uuid4()), account_id=account_id),
            metadata=self.metadata,
        )

    def mute(self, conversation_id: str) -> None:
        self.stub.MuteConversation(
            pb.MuteConversationRequest(
                request_id=str(uuid.uuid4()), conversation_id=conversation_id
            ),
            metadata=self.metadata,
        )

    def recipient_devices(self, conversation_id: str) -> list[str]:
        """Every device of every member but this one."""
        conversation = self.stub.GetConversation(
            pb.GetConversationRequest(conversation_id=conversation_id), metadata=self.metadata
        ).conversation
        devices: list[str] = []
        for account in conversation.member_account_ids:
            listed = self.stub.ListDevices(
                pb.ListDevicesRequest(account_id=account), metadata=self.metadata
            )
            devices += [d.device_id for d in listed.devices if d.device_id != self.device_id]
        return devices

    # --- sending -----------------------------------------------------------------------

    def _session_to(self, device_id: str) -> Session:
        with self._lock:
            sessions = self.sessions.get(device_id)
            if sessions:
                return sessions[0]
        bundle = self.stub.FetchPrekeyBundle(
            pb.FetchPrekeyBundleRequest(request_id=str(uuid.uuid4()), device_id=device_id),
            metadata=self.metadata,
        )
        session = self.session_from_bundle(bundle)
        with self._lock:
            self.sessions.setdefault(device_id, []).insert(0, session)
        return session

    def seal(
        self,
        conversation_id: str,
        body: bytes,
        devices: Iterable[str],
        message_id: str,
        frank: Frank | None = None,
    ) -> pb.SendEnvelopeRequest:
        """Encrypt one message for each device, franked; nothing is sent. A caller that keeps
        a record of what it sent (for reports) passes the `frank` it drew."""
        metadata = MessageMetadata(conversation_id, self.device_id, message_id)
        frank = frank or frank_message(body, metadata)
        payload = pack_franked_body(body, frank.franking_key)
        ciphertexts = []
        with self._lock:
            for device in devices:
                session = self._session_to(device)
                sealed = session.ratchet.encrypt(payload).to_bytes()
                if session.initial_header is not None:
                    wire = bytes([PREKEY_MESSAGE]) + session.initial_header + sealed
                else:
                    wire = bytes([RATCHET_MESSAGE]) + sealed
                ciphertexts.append(pb.DeviceCiphertext(device_id=device, ciphertext=wire))
            self.save()  # the ratchets moved on: a restart must not reuse a message key
        return pb.SendEnvelopeRequest(
            request_id=str(uuid.uuid4()),
            message_id=message_id,
            conversation_id=conversation_id,
            sender_device_id=self.device_id,
            franking_commitment=frank.commitment,
            ciphertexts=ciphertexts,
        )

    def send(
        self,
        conversation_id: str,
        body: bytes,
        *,
        devices: Iterable[str] | None = None,
        message_id: str | None = None,
        frank: Frank | None = None,
    ) -> pb.SendEnvelopeResponse:
        targets = list(devices) if devices is not None else self.recipient_devices(conversation_id)
        request = self.seal(conversation_id, body, targets, message_id or str(uuid.uuid4()), frank)
        response: pb.SendEnvelopeResponse = self.stub.SendEnvelope(request, metadata=self.metadata)
        return response


def _prekey(prekey: PublicPrekey) -> pb.Prekey:
    return pb.Prekey(prekey_id=prekey.prekey_id, public_key=prekey.public_key)
