"""Message franking: reports that prove what was sent, without the relay reading messages.

The sender draws a random franking key, puts it inside the end-to-end encrypted payload
(:func:`pack_franked_body`), and sends outside it the commitment
``HMAC-SHA256(franking_key, encode(body, conversation, sender device, message id))``.
The recipient checks the commitment on receipt (:func:`verify_frank`), so a sender cannot
make its messages unreportable. The relay, which sees only the commitment, stamps it with
``HMAC-SHA256(server_key, encode(commitment, sender, conversation, timestamp))``. A report
reveals body, franking key, metadata and stamp; :func:`verify_report` checks all of it.

Because the ratchet's encryption is key-committing, the ciphertext the relay stamped opens
to one payload only, so a recipient cannot swap in a different body and franking key.
Every field is length-prefixed before MACing so no two field lists encode alike.
"""

from __future__ import annotations

import hmac
import os
import struct
from dataclasses import dataclass
from hashlib import sha256

__all__ = [
    "FRANKING_KEY_BYTES",
    "CommitmentMismatch",
    "Frank",
    "FrankingError",
    "FrankingReport",
    "InvalidStamp",
    "MalformedFrank",
    "MessageMetadata",
    "MetadataMismatch",
    "RelayStamp",
    "frank_message",
    "franking_commitment",
    "pack_franked_body",
    "stamp_commitment",
    "unpack_franked_body",
    "verify_frank",
    "verify_report",
]

FRANKING_KEY_BYTES = 32
_DIGEST_BYTES = 32
_PAYLOAD_VERSION = 1
_COMMITMENT_DOMAIN = b"hearth franking commitment v1"
_STAMP_DOMAIN = b"hearth franking stamp v1"


class FrankingError(Exception):
    """Base class for every franking failure."""


class MalformedFrank(FrankingError):
    """A key, commitment, stamp or payload has the wrong shape."""


class CommitmentMismatch(FrankingError):
    """Body, franking key and metadata do not open the commitment."""


class InvalidStamp(FrankingError):
    """The relay's stamp does not verify under the server key."""


class MetadataMismatch(FrankingError):
    """The sender or conversation the relay saw differs from what the sender committed to."""


@dataclass(frozen=True, slots=True)
class MessageMetadata:
    """What the commitment binds besides the body: where, from which device, which message."""

    conversation_id: str
    sender_device: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Frank:
    """The sender's side: the key goes inside the ciphertext, the commitment outside."""

    franking_key: bytes
    commitment: bytes


@dataclass(frozen=True, slots=True)
class RelayStamp:
    """The relay's stamp over a commitment, with the context the relay vouches for."""

    commitment: bytes
    sender: str
    conversation_id: str
    timestamp_ms: int
    stamp: bytes


@dataclass(frozen=True, slots=True)
class FrankingReport:
    """What a reporter reveals: the body, the franking key, the metadata, the relay stamp."""

    body: bytes
    franking_key: bytes
    metadata: MessageMetadata
    relay_stamp: RelayStamp


def _encode(*fields: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(field)) + field for field in fields)


def franking_commitment(franking_key: bytes, body: bytes, metadata: MessageMetadata) -> bytes:
    """HMAC-SHA256(franking key, canonical encoding of body and metadata)."""
    if len(franking_key) != FRANKING_KEY_BYTES:
        raise MalformedFrank(f"franking key must be {FRANKING_KEY_BYTES} bytes")
    message = _encode(
        _COMMITMENT_DOMAIN,
        body,
        metadata.conversation_id.encode(),
        metadata.sender_device.encode(),
        metadata.message_id.encode(),
    )
    return hmac.new(franking_key, message, sha256).digest()


def frank_message(body: bytes, metadata: MessageMetadata) -> Frank:
    """Draw a fresh franking key and commit to ``body`` under ``metadata``."""
    franking_key = os.urandom(FRANKING_KEY_BYTES)
    return Frank(franking_key, franking_commitment(franking_key, body, metadata))


def verify_frank(
    body: bytes, franking_key: bytes, metadata: MessageMetadata, commitment: bytes
) -> None:
    """Raise :class:`CommitmentMismatch` unless the commitment opens to this body."""
    expected = franking_commitment(franking_key, body, metadata)
    if not hmac.compare_digest(expected, commitment):
        raise CommitmentMismatch("franking commitment does not match the message")


def pack_franked_body(body: bytes, franking_key: bytes) -> bytes:
    """The plaintext to encrypt: version byte, franking key, then the body."""
    if len(franking_key) != FRANKING_KEY_BYTES:
        raise MalformedFrank(f"franking key must be {FRANKING_KEY_BYTES} bytes")
    return bytes([_PAYLOAD_VERSION]) + franking_key + body


def unpack_franked_body(payload: bytes) -> tuple[bytes, bytes]:
    """Split a decrypted payload into (body, franking key)."""
    if len(payload) < 1 + FRANKING_KEY_BYTES or payload[0] != _PAYLOAD_VERSION:
        raise MalformedFrank("not a franked payload")
    return payload[1 + FRANKING_KEY_BYTES :], payload[1 : 1 + FRANKING_KEY_BYTES]


def _stamp_mac(
    server_key: bytes, commitment: bytes, sender: str, conversation_id: str, timestamp_ms: int
) -> bytes:
    message = _encode(
        _STAMP_DOMAIN,
        commitment,
        sender.encode(),
        conversation_id.encode(),
        struct.pack(">Q", timestamp_ms),
    )
    return hmac.new(server_key, message, sha256).digest()


def stamp_commitment(
    server_key: bytes, commitment: bytes, sender: str, conversation_id: str, timestamp_ms: int
) -> RelayStamp:
    """The relay's act: bind a commitment to the authenticated sender, conversation, time."""
    if len(commitment) != _DIGEST_BYTES:
        raise MalformedFrank("commitment must be 32 bytes")
    if not 0 <= timestamp_ms < 2**64:
        raise MalformedFrank("timestamp must be an unsigned 64-bit integer")
    stamp = _stamp_mac(server_key, commitment, sender, conversation_id, timestamp_ms)
    return RelayStamp(commitment, sender, conversation_id, timestamp_ms, stamp)


def verify_report(server_key: bytes, report: FrankingReport) -> None:
    """Check a report end to end; each way it can fail raises its own exception.

    Order: shape (:class:`MalformedFrank`), the relay's stamp (:class:`InvalidStamp`), the
    stamp's context against the committed metadata (:class:`MetadataMismatch`), and last the
    commitment against body and key (:class:`CommitmentMismatch`).
    """
    relay = report.relay_stamp
    if len(report.franking_key) != FRANKING_KEY_BYTES:
        raise MalformedFrank(f"franking key must be {FRANKING_KEY_BYTES} bytes")
    if len(relay.commitment) != _DIGEST_BYTES or len(relay.stamp) != _DIGEST_BYTES:
        raise MalformedFrank("commitment and stamp must be 32 bytes")
    if not 0 <= relay.timestamp_ms < 2**64:
        raise MalformedFrank("timestamp must be an unsigned 64-bit integer")
    expected = _stamp_mac(
        server_key, relay.commitment, relay.sender, relay.conversation_id, relay.timestamp_ms
    )
    if not hmac.compare_digest(expected, relay.stamp):
        raise InvalidStamp("relay stamp does not verify")
    if relay.sender != report.metadata.sender_device:
        raise MetadataMismatch("relay saw a different sender than the one committed to")
    if relay.conversation_id != report.metadata.conversation_id:
        raise MetadataMismatch("relay saw a different conversation than the one committed to")
    verify_frank(report.body, report.franking_key, report.metadata, relay.commitment)
