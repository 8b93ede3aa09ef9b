"""Session crypto: X3DH to start a Double Ratchet session per remote device, and opening
what arrives (the wire form: a type byte, the X3DH header until the remote device answers,
then a ratchet message), checked against its franking commitment.
"""

from __future__ import annotations

from dataclasses import dataclass

from hearth_crypto.franking import MessageMetadata, unpack_franked_body, verify_frank
from hearth_crypto.ratchet import RatchetMessage, RatchetSession
from hearth_crypto.x3dh import (
    InitialMessageHeader,
    PrekeyBundle,
    PublicPrekey,
    UnknownPrekey,
    agree_as_initiator,
    agree_as_responder,
)
from hearth_proto.hearth.messaging.v1 import messaging_pb2 as pb

from .device_state import DeviceState, Session

PREKEY_MESSAGE = 1  # X3DH initial header, then a ratchet message
RATCHET_MESSAGE = 2
_INITIAL_HEADER_BYTES = len(InitialMessageHeader(b"\0" * 32, b"\0" * 32, 0, None).to_bytes())


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


class SessionCrypto(DeviceState):
    """X3DH and Double Ratchet sessions with other devices: sealing for them and opening
    what they sent (the `MessagingDevice` layer that encrypts)."""

    max_skip: int | None

    def session_from_bundle(self, bundle: pb.FetchPrekeyBundleResponse) -> Session:
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
        return Session(ratchet, initial_header=header.to_bytes())

    def _limits(self) -> dict[str, int]:
        return {} if self.max_skip is None else {"max_skip": self.max_skip}

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
            0, Session(ratchet, started_by=header_bytes)
        )
        return payload
