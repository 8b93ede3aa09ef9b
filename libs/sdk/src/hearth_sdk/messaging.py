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
"""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from hearth_crypto.franking import (
    Frank,
    MessageMetadata,
    frank_message,
    pack_franked_body,
    unpack_franked_body,
    verify_frank,
)
from hearth_crypto.ratchet import RatchetMessage, RatchetSession
from hearth_crypto.x3dh import (
    IdentityKeyPair,
    InitialMessageHeader,
    OneTimePrekey,
    PrekeyBundle,
    PublicPrekey,
    SignedPrekey,
    UnknownPrekey,
    X3DHError,
    X25519KeyPair,
    agree_as_initiator,
    agree_as_responder,
)
from hearth_proto.hearth.messaging.v1 import messaging_pb2 as pb
from hearth_proto.hearth.messaging.v1 import messaging_pb2_grpc

from .channel import bearer
from .local_state import write_private_json

PREKEY_MESSAGE = 1  # X3DH initial header, then a ratchet message
RATCHET_MESSAGE = 2
_INITIAL_HEADER_BYTES = len(InitialMessageHeader(b"\0" * 32, b"\0" * 32, 0, None).to_bytes())
SIGNED_PREKEY_LIFETIME = 7 * 24 * 3600  # rotated weekly, as Signal does
STATE_VERSION = 1
DIRECT = pb.CONVERSATION_KIND_DIRECT
GROUP = pb.CONVERSATION_KIND_GROUP


class MalformedEnvelope(ValueError):
    """A device ciphertext does not parse."""


@dataclass(frozen=True)
class ReceivedMessage:
    """A decrypted, frank-checked message, with what a report needs to prove it."""

    message_id: str
    conversation_id: str
    sender_account_id: str
    sender_device_id: str
    body: bytes
    franking_key: bytes
    franking_commitment: bytes
    franking_stamp: bytes
    relayed_at_ms: int
    sequence: int
    muted: bool


@dataclass
class _Session:
    ratchet: RatchetSession
    # The X3DH header we started it with, sent until the remote device first answers.
    initial_header: bytes | None = None
    # For a session we answered: the header that started it (a repeat finds this session).
    started_by: bytes | None = None


@dataclass
class _Inbox:
    stream: Iterator[pb.ReceiveEnvelopesResponse]
    channel: grpc.Channel | None
    envelopes: queue.Queue[pb.Envelope | BaseException] = field(default_factory=queue.Queue)
    thread: threading.Thread | None = None


class MessagingDevice:
    """One device of one account: its keys, its sessions, its mailbox."""

    def __init__(
        self,
        channel: grpc.Channel,
        token: str,
        account_id: str,
        *,
        device_id: str | None = None,
        max_skip: int | None = None,
        address: str | None = None,
        state_path: Path | None = None,
    ) -> None:
        """`address`, when given, lets the mailbox stream run on a channel of its own that
        `disconnect` closes (a traced channel's stream cannot be cancelled by itself).
        `state_path`, when given, keeps the device's state there; an existing file is this
        device, restored (its device id wins; a different account is refused)."""
        self.address = address
        self.stub = messaging_pb2_grpc.MessagingServiceStub(channel)
        self.metadata = bearer(token)
        self.account_id = account_id
        self.device_id = device_id or str(uuid.uuid4())
        self.identity = IdentityKeyPair.generate()
        self.signed_prekeys: dict[int, SignedPrekey] = {}
        self.one_time: dict[int, OneTimePrekey] = {}
        self._next_prekey_id = 1
        self.signed_prekey_published_at = time.time()
        self.sessions: dict[str, list[_Session]] = {}
        self.max_skip = max_skip
        self.rejected: list[tuple[pb.Envelope, Exception]] = []
        self._seen: set[str] = set()
        self._inbox: _Inbox | None = None
        self._lock = threading.RLock()
        self.state_path = Path(state_path) if state_path is not None else None
        if self.state_path is not None and self.state_path.exists():
            self._restore(json.loads(self.state_path.read_text()), device_id)
        self.save()

    # --- local state -------------------------------------------------------------------

    def save(self) -> None:
        """Write the device's state to `state_path` (if any): atomically, owner-only."""
        if self.state_path is None:
            return
        with self._lock:
            write_private_json(self.state_path, self._state())

    def _state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "account_id": self.account_id,
            "device_id": self.device_id,
            "identity_seed": _b64(self.identity.seed),
            "next_prekey_id": self._next_prekey_id,
            "signed_prekey_published_at": self.signed_prekey_published_at,
            "signed_prekeys": [
                {
                    "prekey_id": p.prekey_id,
                    "private_key": _b64(p.key_pair.private_key),
                    "signature": _b64(p.signature),
                }
                for p in self.signed_prekeys.values()
            ],
            "one_time_prekeys": [
                {"prekey_id": p.prekey_id, "private_key": _b64(p.key_pair.private_key)}
                for p in self.one_time.values()
            ],
            "sessions": {
                device: [
                    {
                        "ratchet": session.ratchet.to_dict(),
                        "initial_header": _b64_or_none(session.initial_header),
                        "started_by": _b64_or_none(session.started_by),
                    }
                    for session in sessions
                ]
                for device, sessions in self.sessions.items()
            },
            "seen": sorted(self._seen),
        }

    def _restore(self, state: dict[str, Any], device_id: str | None) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"{self.state_path}: unsupported device state version")
        if state["account_id"] != self.account_id:
            raise ValueError(f"{self.state_path} holds a device of another account")
        if device_id is not None and device_id != state["device_id"]:
            raise ValueError(f"{self.state_path} holds device {state['device_id']}")
        self.device_id = state["device_id"]
        self.identity = IdentityKeyPair(_unb64(state["identity_seed"]))
        self._next_prekey_id = int(state["next_prekey_id"])
        self.signed_prekey_published_at = float(state["signed_prekey_published_at"])
        self.signed_prekeys = {
            int(p["prekey_id"]): SignedPrekey(
                int(p["prekey_id"]),
                X25519KeyPair(_unb64(p["private_key"])),
                _unb64(p["signature"]),
            )
            for p in state["signed_prekeys"]
        }
        self.one_time = {
            int(p["prekey_id"]): OneTimePrekey(
                int(p["prekey_id"]), X25519KeyPair(_unb64(p["private_key"]))
            )
            for p in state["one_time_prekeys"]
        }
        self.sessions = {
            device: [
                _Session(
                    RatchetSession.from_dict(s["ratchet"]),
                    initial_header=_unb64_or_none(s["initial_header"]),
                    started_by=_unb64_or_none(s["started_by"]),
                )
                for s in sessions
            ]
            for device, sessions in state["sessions"].items()
        }
        self._seen = set(state["seen"])

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

    def session_from_bundle(self, bundle: pb.FetchPrekeyBundleResponse) -> _Session:
        """X3DH as initiator; refuses a bundle whose signed prekey is not the device's own."""
        one_time = (
            PublicPrekey(bundle.one_time_prekey.prekey_id, bundle.one_time_prekey.public_key)
            if bundle.HasField("one_time_prekey")
            else None
        )
        prekeys = PrekeyBundle(
            identity_key=bundle.identity_key,
            signed_prekey=PublicPrekey(
                bundle.signed_prekey.prekey_id, bundle.signed_prekey.public_key
            ),
            signed_prekey_signature=bundle.signed_prekey_signature,
            one_time_prekey=one_time,
        )
        agreement, header = agree_as_initiator(self.identity, prekeys)
        ratchet = RatchetSession.initiate(
            agreement.shared_secret,
            agreement.associated_data,
            prekeys.signed_prekey.public_key,
            **self._limits(),
        )
        return _Session(ratchet, initial_header=header.to_bytes())

    def _limits(self) -> dict[str, int]:
        return {} if self.max_skip is None else {"max_skip": self.max_skip}

    def _session_to(self, device_id: str) -> _Session:
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

    # --- receiving ---------------------------------------------------------------------

    def open(self, envelope: pb.Envelope) -> ReceivedMessage:
        """Decrypt one envelope and check its franking commitment; raise on any failure."""
        wire = envelope.ciphertext
        if not wire or wire[0] not in (PREKEY_MESSAGE, RATCHET_MESSAGE):
            raise MalformedEnvelope("unknown device ciphertext type")
        with self._lock:
            if wire[0] == PREKEY_MESSAGE:
                header_bytes = wire[1 : 1 + _INITIAL_HEADER_BYTES]
                message = RatchetMessage.from_bytes(wire[1 + _INITIAL_HEADER_BYTES :])
                payload = self._open_initial(envelope.sender_device_id, header_bytes, message)
            else:
                payload = self._open_ratchet(
                    envelope.sender_device_id, RatchetMessage.from_bytes(wire[1:])
                )
            self.save()
        body, franking_key = unpack_franked_body(payload)
        verify_frank(
            body,
            franking_key,
            MessageMetadata(
                envelope.conversation_id, envelope.sender_device_id, envelope.message_id
            ),
            envelope.franking_commitment,
        )
        return ReceivedMessage(
            message_id=envelope.message_id,
            conversation_id=envelope.conversation_id,
            sender_account_id=envelope.sender_account_id,
            sender_device_id=envelope.sender_device_id,
            body=body,
            franking_key=franking_key,
            franking_commitment=envelope.franking_commitment,
            franking_stamp=envelope.franking_stamp,
            relayed_at_ms=envelope.relayed_at_ms,
            sequence=envelope.sequence,
            muted=envelope.muted,
        )

    def _open_ratchet(self, sender_device: str, message: RatchetMessage) -> bytes:
        sessions = self.sessions.get(sender_device, [])
        if not sessions:
            raise UnknownPrekey(f"no session with device {sender_device}")
        error: Exception | None = None
        for session in sessions:
            try:
                payload = session.ratchet.decrypt(message)
            except Exception as e:  # try the device's older sessions too
                error = error or e
                continue
            session.initial_header = None  # the remote device has answered
            return payload
        assert error is not None
        raise error

    def _open_initial(
        self, sender_device: str, header_bytes: bytes, message: RatchetMessage
    ) -> bytes:
        for session in self.sessions.get(sender_device, []):
            if session.started_by == header_bytes:
                return session.ratchet.decrypt(message)
        header = InitialMessageHeader.from_bytes(header_bytes)
        signed = self.signed_prekeys.get(header.signed_prekey_id)
        if signed is None:
            raise UnknownPrekey(f"signed prekey {header.signed_prekey_id} is not held")
        one_time = None
        if header.one_time_prekey_id is not None:
            one_time = self.one_time.get(header.one_time_prekey_id)
            if one_time is None:
                raise UnknownPrekey(f"one-time prekey {header.one_time_prekey_id} is used up")
        agreement = agree_as_responder(self.identity, signed, one_time, header)
        ratchet = RatchetSession.respond(
            agreement.shared_secret, agreement.associated_data, signed.key_pair, **self._limits()
        )
        payload = ratchet.decrypt(message)
        if one_time is not None:
            del self.one_time[one_time.prekey_id]  # a replayed initial message cannot reuse it
        self.sessions.setdefault(sender_device, []).insert(
            0, _Session(ratchet, started_by=header_bytes)
        )
        return payload

    def connect(self) -> None:
        """Open the mailbox stream: the backlog not yet acknowledged, then live envelopes."""
        if self._inbox is not None:
            return
        channel = grpc.insecure_channel(self.address) if self.address else None
        stub = messaging_pb2_grpc.MessagingServiceStub(channel) if channel else self.stub
        stream = stub.ReceiveEnvelopes(
            pb.ReceiveEnvelopesRequest(device_id=self.device_id), metadata=self.metadata
        )
        inbox = _Inbox(stream, channel)

        def pump() -> None:
            try:
                for response in stream:
                    inbox.envelopes.put(response.envelope)
            except BaseException as e:
                inbox.envelopes.put(e)

        inbox.thread = threading.Thread(target=pump, name=f"inbox-{self.device_id}", daemon=True)
        inbox.thread.start()
        self._inbox = inbox

    def disconnect(self) -> None:
        inbox, self._inbox = self._inbox, None
        if inbox is None:
            return
        if inbox.channel is not None:
            inbox.channel.close()
        elif isinstance(inbox.stream, grpc.Future):
            inbox.stream.cancel()
        if inbox.thread is not None:
            inbox.thread.join(timeout=5)

    def receive(
        self, count: int = 1, timeout: float = 10.0, *, acknowledge: bool = True
    ) -> list[ReceivedMessage]:
        """Up to `count` new messages; duplicates (same message id) are skipped, failures kept
        in `rejected`. What was handled is acknowledged, so it is not delivered again."""
        self.connect()
        assert self._inbox is not None
        received: list[ReceivedMessage] = []
        last = 0
        while len(received) < count:
            try:
                item = self._inbox.envelopes.get(timeout=timeout)
            except queue.Empty:
                break
            if isinstance(item, BaseException):
                self._inbox = None
                if isinstance(item, grpc.RpcError) and item.code() == grpc.StatusCode.CANCELLED:
                    break
                raise item
            last = item.sequence
            if item.message_id in self._seen:
                continue
            try:
                message = self.open(item)
            except (X3DHError, ValueError, Exception) as e:
                self.rejected.append((item, e))
                continue
            self._seen.add(item.message_id)
            received.append(message)
        if last:
            self.save()  # before the acknowledgement: what is acknowledged is never re-sent
        if acknowledge and last:
            self.acknowledge(last)
        return received

    def acknowledge(self, up_to_sequence: int) -> None:
        self.stub.AcknowledgeEnvelopes(
            pb.AcknowledgeEnvelopesRequest(
                request_id=str(uuid.uuid4()),
                device_id=self.device_id,
                up_to_sequence=up_to_sequence,
            ),
            metadata=self.metadata,
        )


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _b64_or_none(value: bytes | None) -> str | None:
    return None if value is None else _b64(value)


def _unb64(value: str) -> bytes:
    return base64.b64decode(value)


def _unb64_or_none(value: str | None) -> bytes | None:
    return None if value is None else _unb64(value)


def _prekey(prekey: PublicPrekey) -> pb.Prekey:
    return pb.Prekey(prekey_id=prekey.prekey_id, public_key=prekey.public_key)
