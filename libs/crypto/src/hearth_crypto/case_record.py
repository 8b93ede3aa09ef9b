"""A case record: one message of a recorded practitioner conversation, as a record keeper keeps
it, with everything that proves what was said (its franking).

The record keeper (`hearth_sdk.keeper`) builds it, seals it under the young person's key, and
sends messaging only the sealed bytes and its digest; an evidence package (`hearth-audit
verify`) recomputes the digest from the disclosed record and finds it in the audit log. So
the encoding is a contract any language can rebuild: UTF-8 JSON with sorted keys and no
spaces, bytes as standard base64, and the digest is SHA-256 over a fixed label and that JSON.

The record holds the message's 32-byte random franking key, so its digest, which the log
keeps in the clear, cannot be matched against guessed messages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from .franking import FrankingReport, MessageMetadata, RelayStamp

RECORD_LABEL = b"hearth-case-record/v1\n"
RECORD_KEY_BYTES = SecretBox.KEY_SIZE


class MalformedRecord(ValueError):
    """Bytes or a document that are not a case record."""


class RecordKeyDestroyed(LookupError):
    """The young person's record key is gone (retention ran out, or erasure)."""


@dataclass(frozen=True)
class CaseRecord:
    """One message as the keeper received it, with its franking proof."""

    organisation_id: str
    young_person_account_id: str
    message_id: str
    conversation_id: str
    sender_account_id: str
    sender_device_id: str
    body: bytes
    franking_key: bytes
    franking_commitment: bytes
    franking_stamp: bytes
    franking_key_id: str
    recipient_device_ids: tuple[str, ...]
    relayed_at_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "organisation_id": self.organisation_id,
            "young_person_account_id": self.young_person_account_id,
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
        }

    @classmethod
    def from_json(cls, d: object) -> CaseRecord:
        if not isinstance(d, dict):
            raise MalformedRecord("a record is a JSON object")
        try:
            devices = d["recipient_device_ids"]
            if not isinstance(devices, list) or not isinstance(d["relayed_at_ms"], int):
                raise TypeError("recipient_device_ids or relayed_at_ms")
            return cls(
                organisation_id=_str(d["organisation_id"]),
                young_person_account_id=_str(d["young_person_account_id"]),
                message_id=_str(d["message_id"]),
                conversation_id=_str(d["conversation_id"]),
                sender_account_id=_str(d["sender_account_id"]),
                sender_device_id=_str(d["sender_device_id"]),
                body=_unb64(d["body"]),
                franking_key=_unb64(d["franking_key"]),
                franking_commitment=_unb64(d["franking_commitment"]),
                franking_stamp=_unb64(d["franking_stamp"]),
                franking_key_id=_str(d["franking_key_id"]),
                recipient_device_ids=tuple(_str(x) for x in devices),
                relayed_at_ms=int(d["relayed_at_ms"]),
            )
        except (KeyError, TypeError) as e:
            raise MalformedRecord(f"a record lacks or misshapes {e}") from None

    def encode(self) -> bytes:
        """The canonical bytes the digest is over and the seal holds."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> CaseRecord:
        try:
            return cls.from_json(json.loads(data))
        except (ValueError, UnicodeDecodeError) as e:
            raise MalformedRecord(f"not a record ({e})") from None

    def digest(self) -> bytes:
        return record_digest(self.encode())

    def franking_report(self) -> FrankingReport:
        """The record as `hearth_crypto.franking.verify_report` checks it."""
        metadata = MessageMetadata(self.conversation_id, self.sender_device_id, self.message_id)
        stamp = RelayStamp(
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
        return FrankingReport(self.body, self.franking_key, metadata, stamp)


def record_digest(encoded: bytes) -> bytes:
    return hashlib.sha256(RECORD_LABEL + encoded).digest()


def seal_record(key: bytes, record: CaseRecord) -> bytes:
    """XSalsa20-Poly1305 under the young person's record key (random nonce)."""
    return bytes(SecretBox(key).encrypt(record.encode()))


def open_record(key: bytes, sealed: bytes) -> CaseRecord:
    try:
        return CaseRecord.decode(SecretBox(key).decrypt(sealed))
    except CryptoError as e:
        raise MalformedRecord("the sealed record does not open under this key") from e


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: object) -> bytes:
    if not isinstance(value, str):
        raise TypeError("a base64 field")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise TypeError("a base64 field") from None


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("a text field")
    return value
