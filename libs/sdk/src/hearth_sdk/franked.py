"""What a device keeps of each message it received or sent, so that it can report it later.

A report proves what was said with the message's franking: the plaintext, the franking key
that opens the commitment, the commitment, and the relay's signed stamp with everything it
vouches for (sender account and device, conversation, message id, recipient devices, time,
key id). `FrankedHistory` keeps the latest of these per conversation in the device's local
state, and hands out a message with the context before it as `FrankingReport`s, which anyone
holding the relay's published keys verifies with `hearth_crypto.franking.verify_report`.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hearth_crypto.franking import FrankingReport, MessageMetadata, RelayStamp

KEPT_PER_CONVERSATION = 100  # a report carries at most 20 of context; keep some more
MAX_CONTEXT = 20


@dataclass(frozen=True)
class ReceivedMessage:
    """A decrypted, frank-checked message (or one this device sent, with sequence 0), with what
    a report needs to prove it."""

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
    franking_key_id: str = ""
    recipient_device_ids: tuple[str, ...] = ()

    @property
    def relay_stamp(self) -> RelayStamp:
        return RelayStamp(
            key_id=self.franking_key_id,
            commitment=self.franking_commitment,
            sender_account_id=self.sender_account_id,
            sender_device_id=self.sender_device_id,
            conversation_id=self.conversation_id,
            message_id=self.message_id,
            recipient_devices=self.recipient_device_ids,
            timestamp_ms=self.relayed_at_ms,
            signature=self.franking_stamp,
        )

    def franking_report(self) -> FrankingReport:
        """The message as a report reveals it."""
        metadata = MessageMetadata(self.conversation_id, self.sender_device_id, self.message_id)
        return FrankingReport(self.body, self.franking_key, metadata, self.relay_stamp)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "conversation_id": self.conversation_id,
            "sender_account_id": self.sender_account_id,
            "sender_device_id": self.sender_device_id,
            "body": _b64(self.body),
            "franking_key": _b64(self.franking_key),
            "franking_commitment": _b64(self.franking_commitment),
            "franking_stamp": _b64(self.franking_stamp),
            "franking_key_id": self.franking_key_id,
            "recipient_device_ids": list(self.recipient_device_ids),
            "relayed_at_ms": self.relayed_at_ms,
            "sequence": self.sequence,
            "muted": self.muted,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReceivedMessage:
        return cls(
            message_id=str(d["message_id"]),
            conversation_id=str(d["conversation_id"]),
            sender_account_id=str(d["sender_account_id"]),
            sender_device_id=str(d["sender_device_id"]),
            body=_unb64(d["body"]),
            franking_key=_unb64(d["franking_key"]),
            franking_commitment=_unb64(d["franking_commitment"]),
            franking_stamp=_unb64(d["franking_stamp"]),
            franking_key_id=str(d["franking_key_id"]),
            recipient_device_ids=tuple(str(x) for x in d["recipient_device_ids"]),
            relayed_at_ms=int(d["relayed_at_ms"]),
            sequence=int(d["sequence"]),
            muted=bool(d["muted"]),
        )


class MessageNotKept(LookupError):
    """The device holds no received message with that id (never received, or too old)."""


class FrankedHistory:
    """The latest messages of each conversation, received or sent, in the relay's order."""

    def __init__(self, kept: int = KEPT_PER_CONVERSATION) -> None:
        self.kept = kept
        self._by_conversation: dict[str, list[ReceivedMessage]] = {}

    def keep(self, message: ReceivedMessage) -> None:
        messages = self._by_conversation.setdefault(message.conversation_id, [])
        if any(m.message_id == message.message_id for m in messages):
            return  # a redelivery: the message is kept once
        messages.append(message)
        # In the relay's order, whatever order they were handled in: a report's context is.
        messages.sort(key=lambda m: (m.relayed_at_ms, m.message_id))
        del messages[: -self.kept]

    def find(self, message_id: str) -> ReceivedMessage | None:
        """The kept message with that id, in any conversation."""
        for messages in self._by_conversation.values():
            for message in messages:
                if message.message_id == message_id:
                    return message
        return None

    def around(
        self, message_id: str
    ) -> tuple[ReceivedMessage, list[ReceivedMessage], list[ReceivedMessage]]:
        """The kept message, the messages of its conversation before it (oldest first) and
        those after it."""
        for messages in self._by_conversation.values():
            for i, message in enumerate(messages):
                if message.message_id == message_id:
                    return message, messages[:i], messages[i + 1 :]
        raise MessageNotKept(f"no message {message_id} kept on this device")

    def messages(self, conversation_id: str) -> list[ReceivedMessage]:
        return list(self._by_conversation.get(conversation_id, []))

    def report(
        self, conversation_id: str, message_id: str, context: int = MAX_CONTEXT
    ) -> tuple[FrankingReport, list[FrankingReport]]:
        """The reported message and up to `context` (at most 20) messages kept before it in
        the same conversation, oldest first."""
        if not 0 <= context <= MAX_CONTEXT:
            raise ValueError(f"a report carries at most {MAX_CONTEXT} messages of context")
        message, before, _ = self.around(message_id)
        if message.conversation_id != conversation_id:
            raise MessageNotKept(f"no message {message_id} in conversation {conversation_id}")
        earlier = before[len(before) - context :] if context else []
        return message.franking_report(), [m.franking_report() for m in earlier]

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {c: [m.to_dict() for m in ms] for c, ms in self._by_conversation.items()}

    @classmethod
    def from_dict(
        cls, state: Mapping[str, Iterable[dict[str, Any]]], kept: int = KEPT_PER_CONVERSATION
    ) -> FrankedHistory:
        history = cls(kept)
        for messages in state.values():
            for message in messages:
                history.keep(ReceivedMessage.from_dict(message))
        return history


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _unb64(value: str) -> bytes:
    return base64.b64decode(value)
