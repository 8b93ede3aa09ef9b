"""The relay: check, stamp, record (metadata only) and deliver one envelope to mailboxes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from eventsourcing.persistence import IntegrityError

from hearth_crypto.franking import RELAY_KEY_ALGORITHM, RelayKey, RelayStamp
from hearth_runtime.errors import AlreadyDone, Exhausted, Invalid, NotFound, Refused

from .conversations import Conversations
from .domain import RelayedMessage, RelayKeyRecord
from .limits import RelayLimits, TokenBucket
from .mailbox import Mailboxes


@dataclass(frozen=True)
class DeviceCiphertext:
    device_id: str
    ciphertext: bytes


@dataclass(frozen=True)
class EnvelopeToSend:
    """What a sender asks the relay to deliver: one ciphertext per recipient device."""

    message_id: str
    sender_device_id: str
    conversation_id: str
    franking_commitment: bytes
    ciphertexts: tuple[DeviceCiphertext, ...]


@dataclass(frozen=True)
class RelayedEnvelope:
    """One device's copy as its mailbox keeps it, stamped by the relay."""

    message_id: str
    conversation_id: str
    sender_account_id: str
    sender_device_id: str
    ciphertext: bytes
    franking_commitment: bytes
    franking_stamp: bytes
    relayed_at_ms: int
    muted: bool
    franking_key_id: str
    recipient_device_ids: tuple[str, ...]


@dataclass(frozen=True)
class Relayed:
    relayed_at_ms: int
    stamp: RelayStamp


class Relay(Conversations):
    mailboxes: Mailboxes
    limits: RelayLimits
    rate: TokenBucket
    clock: Callable[[], float]
    relay_key: RelayKey
    _sender_locks: dict[str, threading.Lock]

    def publish_relay_key(self) -> None:
        """Record the relay key's public half (once): stamps verify against it from the log."""
        key = self.relay_key.public
        if self._get(RelayKeyRecord, RelayKeyRecord.create_id(key.key_id)) is not None:
            return
        record = RelayKeyRecord._create(  # its id derives from the key id
            RelayKeyRecord.Published,
            id=RelayKeyRecord.create_id(key.key_id),
            key_id=key.key_id,
            algorithm=RELAY_KEY_ALGORITHM,
            public_key=key.public_key,
        )
        with contextlib.suppress(IntegrityError):  # another instance recorded it first
            self.save(record)

    def relay(
        self,
        sender_account: str,
        request: EnvelopeToSend,
        encode: Callable[[RelayedEnvelope], bytes],
    ) -> Relayed:
        """Check, stamp, record (metadata only) and deliver one envelope.

        `encode` turns each device's copy into the bytes its mailbox keeps (the servicer's
        wire form: only the servicer knows protos).
        """
        copies = list(request.ciphertexts)
        if len(copies) > self.limits.max_recipient_devices:
            raise Exhausted(f"at most {self.limits.max_recipient_devices} device ciphertexts")
        for copy in copies:
            if len(copy.ciphertext) > self.limits.max_ciphertext_bytes:
                raise Exhausted(
                    f"a ciphertext of {len(copy.ciphertext)} bytes exceeds the limit of "
                    f"{self.limits.max_ciphertext_bytes}"
                )
        self.check_own_device(sender_account, request.sender_device_id)
        if self.facts(sender_account).suspended:
            raise Refused(
                "your account is suspended by the safety team: you cannot send messages",
                reason="ACCOUNT_SUSPENDED",
            )
        conversation = self.conversation_of(sender_account, request.conversation_id)
        self.require_house_rules(sender_account)
        blockers = {
            m
            for m in conversation.members
            if m != sender_account and sender_account in self.facts(m).blocked
        }
        if blockers and conversation.kind == "direct":
            raise Refused("the recipient does not accept messages from you (blocked)")
        deliveries: list[tuple[str, str]] = []
        for copy in copies:
            if copy.device_id == request.sender_device_id:
                raise Invalid("do not send a ciphertext to the sending device")
            owner = self.device_owner(copy.device_id)
            if owner is None:
                raise NotFound(f"no device {copy.device_id}")
            if owner not in conversation.members:
                raise Invalid(f"device {copy.device_id} is not a member's device")
            if owner not in blockers:
                deliveries.append((copy.device_id, owner))
        self.require_keeper_copy(conversation, {owner for _, owner in deliveries})
        if not self.rate.take(request.sender_device_id):
            raise Exhausted("sending too fast; slow down and retry")

        with self._sender_lock(request.sender_device_id):  # one sender's order is kept
            now_ms = int(self.clock() * 1000)
            stamp = self.relay_key.stamp(
                request.franking_commitment,
                sender_account_id=sender_account,
                sender_device_id=request.sender_device_id,
                conversation_id=request.conversation_id,
                message_id=request.message_id,
                recipient_devices=[device for device, _ in deliveries],
                timestamp_ms=now_ms,
            )
            message = RelayedMessage._create(  # its id derives from the message id
                RelayedMessage.Relayed,
                id=RelayedMessage.id_for(request.message_id),
                conversation_id=request.conversation_id,
                sender_account_id=sender_account,
                sender_device_id=request.sender_device_id,
                recipient_devices=len(deliveries),
                ciphertext_bytes=sum(len(c.ciphertext) for c in copies),
            )
            try:
                self.save(message)
            except IntegrityError as e:
                raise AlreadyDone(f"message {request.message_id} was relayed already") from e
            by_device = {c.device_id: c.ciphertext for c in copies}
            # Recorded: the copies go to the mailboxes now, in this order; the sender does
            # not wait for JetStream to store them (see `mailbox`).
            self.mailboxes.deliver(
                request.message_id,
                [
                    (
                        device,
                        encode(
                            RelayedEnvelope(
                                message_id=request.message_id,
                                conversation_id=request.conversation_id,
                                sender_account_id=sender_account,
                                sender_device_id=request.sender_device_id,
                                ciphertext=by_device[device],
                                franking_commitment=request.franking_commitment,
                                franking_stamp=stamp.signature,
                                relayed_at_ms=now_ms,
                                muted=self.is_muted(owner, request.conversation_id),
                                franking_key_id=stamp.key_id,
                                recipient_device_ids=stamp.recipient_devices,
                            )
                        ),
                    )
                    for device, owner in deliveries
                ],
            )
        return Relayed(now_ms, stamp)

    def _sender_lock(self, device_id: str) -> threading.Lock:
        with self._cache_lock:
            return self._sender_locks.setdefault(device_id, threading.Lock())
