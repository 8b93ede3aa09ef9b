"""Message franking: reports anyone can verify, without the relay reading messages.

The sender draws a random franking key, puts it inside the end-to-end encrypted payload
(:func:`pack_franked_body`), and sends outside it the commitment
``HMAC-SHA256(franking_key, encode(body, conversation, sender device, message id))``.
The recipient opens the commitment on receipt (:func:`verify_frank`), so a sender cannot
make its messages unreportable.

The relay, which sees only the commitment, stamps it: an Ed25519 signature by a relay key over
``encode(key id, commitment, sender account, sender device, conversation, message id,
recipient devices, timestamp)`` (:meth:`RelayKey.stamp`). The relay key's public half is
recorded in messaging's stream, and keys rotate: several can be valid at once and each stamp
names its key id. So anyone holding a report and the public keys from the log (the safety
service, a police referral, a regulator) verifies it with :func:`verify_report`, and no
service shares a secret with another. The HMAC stamps of before (32 bytes, no key id) are
refused as :class:`LegacyStamp`.

Because the ratchet's encryption is key-committing, the ciphertext the relay stamped opens
to one payload only, so a recipient cannot swap in a different body and franking key.
Every field is length-prefixed before MACing or signing, so no two field lists encode alike.
Each failure is its own exception whose ``check`` names what did not hold.
"""

from __future__ import annotations

import hmac
import os
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from hashlib import sha256

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import SigningKey, VerifyKey

__all__ = [
    "FRANKING_KEY_BYTES",
    "RELAY_KEY_ALGORITHM",
    "CommitmentMismatch",
    "Frank",
    "FrankingError",
    "FrankingReport",
    "InvalidStamp",
    "LegacyStamp",
    "MalformedFrank",
    "MessageMetadata",
    "MetadataMismatch",
    "RelayKey",
    "RelayPublicKey",
    "RelayStamp",
    "UnknownRelayKey",
    "frank_message",
    "franking_commitment",
    "pack_franked_body",
    "relay_key_id",
    "stamped_bytes",
    "unpack_franked_body",
    "verify_frank",
    "verify_report",
    "verify_stamp",
]

FRANKING_KEY_BYTES = 32
RELAY_KEY_ALGORITHM = "ed25519"
_DIGEST_BYTES = 32
_SIGNATURE_BYTES = 64
_LEGACY_STAMP_BYTES = 32  # HMAC-SHA256, before stamps were signatures
_PUBLIC_KEY_BYTES = 32
_KEY_ID_BYTES = 8
_PAYLOAD_VERSION = 1
_COMMITMENT_DOMAIN = b"hearth franking commitment v1"
_STAMP_DOMAIN = b"hearth franking stamp v2 ed25519"
_KEY_ID_DOMAIN = b"hearth relay key id v1"


class FrankingError(Exception):
    """Base class for every franking failure; ``check`` names the check that failed."""

    check: str = "franking"


class MalformedFrank(FrankingError):
    """A key, commitment, stamp or payload has the wrong shape."""

    check = "format"


class LegacyStamp(FrankingError):
    """An HMAC stamp from before stamps were signatures: it proves nothing to a third party."""

    check = "stamp_version"


class UnknownRelayKey(FrankingError):
    """The stamp names a relay key that is not among the published ones."""

    check = "relay_key"


class InvalidStamp(FrankingError):
    """The relay's signature does not verify over what the stamp says."""

    check = "signature"


class MetadataMismatch(FrankingError):
    """The sender, conversation or message the relay saw differs from what was committed to."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check  # "sender", "conversation" or "message_id"


class CommitmentMismatch(FrankingError):
    """Body, franking key and metadata do not open the commitment."""

    check = "commitment"


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
    """The relay's signed stamp over a commitment, with everything the relay vouches for."""

    key_id: str
    commitment: bytes
    sender_account_id: str
    sender_device_id: str
    conversation_id: str
    message_id: str
    recipient_devices: tuple[str, ...]
    timestamp_ms: int
    signature: bytes


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
    """Open the commitment: raise :class:`CommitmentMismatch` unless it is to this body."""
    expected = franking_commitment(franking_key, body, metadata)
    if not hmac.compare_digest(expected, commitment):
        raise CommitmentMismatch("franking commitment does not open to the message")


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


# --- the relay's stamp ----------------------------------------------------------------------


def relay_key_id(public_key: bytes) -> str:
    """A relay key's id: hex of the first 8 bytes of SHA-256(domain || public key)."""
    if len(public_key) != _PUBLIC_KEY_BYTES:
        raise MalformedFrank(f"a relay public key must be {_PUBLIC_KEY_BYTES} bytes")
    return sha256(_KEY_ID_DOMAIN + public_key).digest()[:_KEY_ID_BYTES].hex()


def _canonical_recipients(devices: Iterable[str]) -> tuple[str, ...]:
    """Sorted and without repeats, so the list signs the same whatever order it came in."""
    return tuple(sorted(set(devices)))


def stamped_bytes(stamp: RelayStamp) -> bytes:
    """The exact bytes the relay signs for a stamp (its signature field aside)."""
    if len(stamp.commitment) != _DIGEST_BYTES:
        raise MalformedFrank(f"commitment must be {_DIGEST_BYTES} bytes")
    if not 0 <= stamp.timestamp_ms < 2**64:
        raise MalformedFrank("timestamp must be an unsigned 64-bit integer")
    recipients = _canonical_recipients(stamp.recipient_devices)
    return _encode(
        _STAMP_DOMAIN,
        stamp.key_id.encode(),
        stamp.commitment,
        stamp.sender_account_id.encode(),
        stamp.sender_device_id.encode(),
        stamp.conversation_id.encode(),
        stamp.message_id.encode(),
        struct.pack(">I", len(recipients)) + _encode(*(d.encode() for d in recipients)),
        struct.pack(">Q", stamp.timestamp_ms),
    )


@dataclass(frozen=True, slots=True)
class RelayPublicKey:
    """A relay key's public half, as recorded in messaging's stream."""

    key_id: str
    public_key: bytes

    @classmethod
    def of(cls, public_key: bytes) -> RelayPublicKey:
        return cls(relay_key_id(public_key), public_key)


class RelayKey:
    """The relay's signing key (an Ed25519 seed from configuration)."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise MalformedFrank("a relay signing key is a 32-byte Ed25519 seed")
        self._signing = SigningKey(seed)
        self.public = RelayPublicKey.of(bytes(self._signing.verify_key))

    @classmethod
    def generate(cls) -> RelayKey:
        return cls(os.urandom(32))

    @property
    def key_id(self) -> str:
        return self.public.key_id

    def stamp(
        self,
        commitment: bytes,
        *,
        sender_account_id: str,
        sender_device_id: str,
        conversation_id: str,
        message_id: str,
        recipient_devices: Iterable[str],
        timestamp_ms: int,
    ) -> RelayStamp:
        """The relay's act: bind a commitment to who sent it, where, to whom, and when."""
        unsigned = RelayStamp(
            key_id=self.key_id,
            commitment=commitment,
            sender_account_id=sender_account_id,
            sender_device_id=sender_device_id,
            conversation_id=conversation_id,
            message_id=message_id,
            recipient_devices=_canonical_recipients(recipient_devices),
            timestamp_ms=timestamp_ms,
            signature=b"",
        )
        signature = self._signing.sign(stamped_bytes(unsigned)).signature
        return replace(unsigned, signature=signature)


def verify_stamp(keys: Mapping[str, bytes], stamp: RelayStamp) -> None:
    """Check the relay's signature with the published public keys (key id -> public key).

    Order: an HMAC stamp of before (:class:`LegacyStamp`), shape (:class:`MalformedFrank`),
    the key (:class:`UnknownRelayKey`), the signature (:class:`InvalidStamp`).
    """
    if not stamp.key_id or len(stamp.signature) == _LEGACY_STAMP_BYTES:
        raise LegacyStamp(
            "this stamp is an HMAC stamp from before stamps were signed; it cannot be "
            "verified by anyone but the relay and is no longer accepted"
        )
    if len(stamp.signature) != _SIGNATURE_BYTES:
        raise MalformedFrank(f"a stamp's signature must be {_SIGNATURE_BYTES} bytes")
    signed = stamped_bytes(stamp)
    public_key = keys.get(stamp.key_id)
    if public_key is None:
        raise UnknownRelayKey(f"relay key {stamp.key_id!r} is not among the published keys")
    try:
        VerifyKey(public_key).verify(signed, stamp.signature)
    except (BadSignatureError, CryptoError, ValueError, TypeError):
        raise InvalidStamp("the relay's signature does not verify over this stamp") from None


def verify_report(keys: Mapping[str, bytes], report: FrankingReport) -> None:
    """Check a report end to end; each way it can fail raises its own exception.

    Order: the stamp (:func:`verify_stamp`), the franking key's shape, the stamp's context
    against the committed metadata (:class:`MetadataMismatch` naming sender, conversation or
    message_id), and last the commitment against body and key (:class:`CommitmentMismatch`).
    """
    relay = report.relay_stamp
    verify_stamp(keys, relay)
    if len(report.franking_key) != FRANKING_KEY_BYTES:
        raise MalformedFrank(f"franking key must be {FRANKING_KEY_BYTES} bytes")
    metadata = report.metadata
    if relay.sender_device_id != metadata.sender_device:
        raise MetadataMismatch("sender", "the relay saw a different sender than committed to")
    if relay.conversation_id != metadata.conversation_id:
        raise MetadataMismatch(
            "conversation", "the relay saw a different conversation than committed to"
        )
    if relay.message_id != metadata.message_id:
        raise MetadataMismatch("message_id", "the relay stamped a different message id")
    verify_frank(report.body, report.franking_key, metadata, relay.commitment)
