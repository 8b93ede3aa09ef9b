"""X3DH key agreement (Signal specification, revision 1) for starting device sessions.

Curve X25519, hash SHA-256. A device's identity key is one Ed25519 key: it signs the signed
prekey and, converted to X25519 with libsodium's birational map, takes part in the
Diffie-Hellman steps, so one published key both authenticates and agrees. Prekeys are
X25519. The shared secret and associated data feed the Double Ratchet (:mod:`.ratchet`),
with the responder's signed prekey as its first ratchet key.

https://signal.org/docs/specifications/x3dh/
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.signing
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "X3DH_INFO",
    "IdentityKeyPair",
    "InitialMessageHeader",
    "InvalidPrekeySignature",
    "InvalidPublicKey",
    "KeyAgreement",
    "KeyType",
    "MalformedHeader",
    "OneTimePrekey",
    "PrekeyBundle",
    "PublicPrekey",
    "SignedPrekey",
    "UnknownPrekey",
    "X3DHError",
    "X25519KeyPair",
    "agree_as_initiator",
    "agree_as_responder",
    "encode_public_key",
    "x25519",
]

X3DH_INFO = b"Hearth X3DH v1"
"""The spec's ``info``: an ASCII string identifying the application, fixed for all devices."""

KEY_BYTES = 32
SIGNATURE_BYTES = 64
_MAX_PREKEY_ID = 2**32 - 1
# The spec's F: 32 0xFF bytes for X25519, so the KDF input never starts like a DH output
# (domain separation from XEdDSA).
_F = b"\xff" * 32


class X3DHError(Exception):
    """Base class for every key agreement failure."""


class InvalidPublicKey(X3DHError):
    """A public key has the wrong length, is not a valid point, or gives an all-zero DH."""


class InvalidPrekeySignature(X3DHError):
    """The signed prekey's signature does not verify under the bundle's identity key."""


class UnknownPrekey(X3DHError):
    """The initial message names a prekey the responder does not hold (used or rotated)."""


class MalformedHeader(X3DHError):
    """An encoded initial message header cannot be parsed."""


class KeyType(enum.IntEnum):
    """The leading byte of an encoded public key (the spec's ``Encode(PK)``)."""

    X25519 = 0x05  # libsignal's DJB type, so encoded prekeys match Signal's bytes
    ED25519 = 0x06  # Hearth's own: libsignal has no Ed25519 key type


def encode_public_key(key_type: KeyType, key: bytes) -> bytes:
    """Encode a public key as one type byte followed by its 32 bytes.

    The type byte keeps an Ed25519 identity key and an X25519 key with the same bytes
    distinct, which matters because both go into signatures and associated data.
    """
    _check_length(key, KEY_BYTES, "public key")
    return bytes([key_type]) + key


def x25519(private_key: bytes, public_key: bytes) -> bytes:
    """X25519 Diffie-Hellman; refuses low-order public keys (all-zero output)."""
    _check_length(public_key, KEY_BYTES, "X25519 public key")
    try:
        return nacl.bindings.crypto_scalarmult(private_key, public_key)
    except nacl.exceptions.RuntimeError as exc:
        raise InvalidPublicKey("X25519 public key has low order") from exc


def _ed25519_to_x25519(public_key: bytes) -> bytes:
    _check_length(public_key, KEY_BYTES, "Ed25519 public key")
    try:
        return nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public_key)
    except nacl.exceptions.RuntimeError as exc:
        raise InvalidPublicKey("not a valid Ed25519 public key") from exc


def _check_length(value: bytes, length: int, what: str) -> None:
    if len(value) != length:
        raise InvalidPublicKey(f"{what} must be {length} bytes, got {len(value)}")


def _check_prekey_id(prekey_id: int) -> None:
    if not 0 <= prekey_id <= _MAX_PREKEY_ID:
        raise ValueError(f"prekey id {prekey_id} is not an unsigned 32-bit integer")


@dataclass(frozen=True, slots=True)
class X25519KeyPair:
    """An X25519 key pair, held as its 32-byte private key."""

    private_key: bytes

    def __post_init__(self) -> None:
        if len(self.private_key) != KEY_BYTES:
            raise ValueError("X25519 private key must be 32 bytes")

    @classmethod
    def generate(cls) -> X25519KeyPair:
        return cls(bytes(nacl.public.PrivateKey.generate()))

    @property
    def public_key(self) -> bytes:
        return nacl.bindings.crypto_scalarmult_base(self.private_key)

    def __repr__(self) -> str:  # never print private keys into logs
        return f"X25519KeyPair(public_key={self.public_key.hex()})"


@dataclass(frozen=True, slots=True)
class IdentityKeyPair:
    """A device's long-term Ed25519 identity key, held as its 32-byte seed."""

    seed: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != KEY_BYTES:
            raise ValueError("Ed25519 seed must be 32 bytes")

    @classmethod
    def generate(cls) -> IdentityKeyPair:
        return cls(bytes(nacl.signing.SigningKey.generate()))

    @property
    def _signing_key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self.seed)

    @property
    def public_key(self) -> bytes:
        """The Ed25519 public key, as published in bundles and headers."""
        return bytes(self._signing_key.verify_key)

    def sign(self, message: bytes) -> bytes:
        return self._signing_key.sign(message).signature

    def dh(self, public_key: bytes) -> bytes:
        """X25519 with this identity key converted to its Montgomery form."""
        return x25519(bytes(self._signing_key.to_curve25519_private_key()), public_key)

    def __repr__(self) -> str:
        return f"IdentityKeyPair(public_key={self.public_key.hex()})"


@dataclass(frozen=True, slots=True)
class PublicPrekey:
    """A prekey as the directory publishes it: its id and X25519 public key."""

    prekey_id: int
    public_key: bytes

    def __post_init__(self) -> None:
        _check_prekey_id(self.prekey_id)
        _check_length(self.public_key, KEY_BYTES, "prekey")


@dataclass(frozen=True, slots=True)
class SignedPrekey:
    """The responder's medium-term prekey, signed by its identity key."""

    prekey_id: int
    key_pair: X25519KeyPair
    signature: bytes

    @classmethod
    def generate(cls, identity: IdentityKeyPair, prekey_id: int) -> SignedPrekey:
        _check_prekey_id(prekey_id)
        key_pair = X25519KeyPair.generate()
        signature = identity.sign(encode_public_key(KeyType.X25519, key_pair.public_key))
        return cls(prekey_id, key_pair, signature)

    @property
    def public(self) -> PublicPrekey:
        return PublicPrekey(self.prekey_id, self.key_pair.public_key)


@dataclass(frozen=True, slots=True)
class OneTimePrekey:
    """A single-use prekey; the responder deletes it once an initial message used it."""

    prekey_id: int
    key_pair: X25519KeyPair

    @classmethod
    def generate(cls, prekey_id: int) -> OneTimePrekey:
        _check_prekey_id(prekey_id)
        return cls(prekey_id, X25519KeyPair.generate())

    @property
    def public(self) -> PublicPrekey:
        return PublicPrekey(self.prekey_id, self.key_pair.public_key)


@dataclass(frozen=True, slots=True)
class PrekeyBundle:
    """What the initiator fetches: identity key, signed prekey, maybe a one-time prekey."""

    identity_key: bytes
    signed_prekey: PublicPrekey
    signed_prekey_signature: bytes
    one_time_prekey: PublicPrekey | None = None

    @classmethod
    def publish(
        cls,
        identity: IdentityKeyPair,
        signed_prekey: SignedPrekey,
        one_time_prekey: OneTimePrekey | None = None,
    ) -> PrekeyBundle:
        return cls(
            identity_key=identity.public_key,
            signed_prekey=signed_prekey.public,
            signed_prekey_signature=signed_prekey.signature,
            one_time_prekey=None if one_time_prekey is None else one_time_prekey.public,
        )

    def verify(self) -> None:
        """Check the signed prekey's signature; raise :class:`InvalidPrekeySignature` if not."""
        _check_length(self.identity_key, KEY_BYTES, "identity key")
        message = encode_public_key(KeyType.X25519, self.signed_prekey.public_key)
        try:
            nacl.signing.VerifyKey(self.identity_key).verify(message, self.signed_prekey_signature)
        except (nacl.exceptions.BadSignatureError, ValueError) as exc:
            raise InvalidPrekeySignature("signed prekey signature does not verify") from exc


_HEADER = struct.Struct(">32s32sI?I")


@dataclass(frozen=True, slots=True)
class InitialMessageHeader:
    """Sent with the first message: who the initiator is and which prekeys it used."""

    identity_key: bytes
    ephemeral_key: bytes
    signed_prekey_id: int
    one_time_prekey_id: int | None

    def __post_init__(self) -> None:
        _check_length(self.identity_key, KEY_BYTES, "identity key")
        _check_length(self.ephemeral_key, KEY_BYTES, "ephemeral key")
        _check_prekey_id(self.signed_prekey_id)
        if self.one_time_prekey_id is not None:
            _check_prekey_id(self.one_time_prekey_id)

    def to_bytes(self) -> bytes:
        return _HEADER.pack(
            self.identity_key,
            self.ephemeral_key,
            self.signed_prekey_id,
            self.one_time_prekey_id is not None,
            self.one_time_prekey_id or 0,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> InitialMessageHeader:
        if len(data) != _HEADER.size:
            raise MalformedHeader(f"initial message header must be {_HEADER.size} bytes")
        if data[68] not in (0, 1):
            raise MalformedHeader("one-time prekey flag must be 0 or 1")
        identity_key, ephemeral_key, spk_id, has_opk, opk_id = _HEADER.unpack(data)
        if not has_opk and opk_id != 0:
            raise MalformedHeader("one-time prekey id present without its flag")
        return cls(identity_key, ephemeral_key, spk_id, opk_id if has_opk else None)


@dataclass(frozen=True, slots=True)
class KeyAgreement:
    """The spec's SK (32 bytes) and AD = Encode(IK_A) || Encode(IK_B)."""

    shared_secret: bytes
    associated_data: bytes

    def __repr__(self) -> str:
        return f"KeyAgreement(associated_data={self.associated_data.hex()})"


def _kdf(dh_outputs: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"\x00" * 32, info=info).derive(
        _F + dh_outputs
    )


def _associated_data(initiator_identity: bytes, responder_identity: bytes) -> bytes:
    return encode_public_key(KeyType.ED25519, initiator_identity) + encode_public_key(
        KeyType.ED25519, responder_identity
    )


def agree_as_initiator(
    identity: IdentityKeyPair,
    bundle: PrekeyBundle,
    *,
    info: bytes = X3DH_INFO,
    ephemeral: X25519KeyPair | None = None,
) -> tuple[KeyAgreement, InitialMessageHeader]:
    """Verify ``bundle`` and run the initiator's side (Alice) of X3DH.

    ``ephemeral`` exists for tests; production callers leave it to be generated, and it is
    discarded when this returns, as the spec requires.
    """
    bundle.verify()
    ephemeral = ephemeral or X25519KeyPair.generate()
    responder_identity_dh = _ed25519_to_x25519(bundle.identity_key)
    dh1 = identity.dh(bundle.signed_prekey.public_key)
    dh2 = x25519(ephemeral.private_key, responder_identity_dh)
    dh3 = x25519(ephemeral.private_key, bundle.signed_prekey.public_key)
    dh4 = b""
    if bundle.one_time_prekey is not None:
        dh4 = x25519(ephemeral.private_key, bundle.one_time_prekey.public_key)
    agreement = KeyAgreement(
        shared_secret=_kdf(dh1 + dh2 + dh3 + dh4, info),
        associated_data=_associated_data(identity.public_key, bundle.identity_key),
    )
    header = InitialMessageHeader(
        identity_key=identity.public_key,
        ephemeral_key=ephemeral.public_key,
        signed_prekey_id=bundle.signed_prekey.prekey_id,
        one_time_prekey_id=(
            None if bundle.one_time_prekey is None else bundle.one_time_prekey.prekey_id
        ),
    )
    return agreement, header


def agree_as_responder(
    identity: IdentityKeyPair,
    signed_prekey: SignedPrekey,
    one_time_prekey: OneTimePrekey | None,
    header: InitialMessageHeader,
    *,
    info: bytes = X3DH_INFO,
) -> KeyAgreement:
    """Run the responder's side (Bob) of X3DH for a received initial message header.

    The caller looks up the prekeys the header names and, on success, deletes the one-time
    prekey so that a replayed initial message cannot reuse it.
    """
    if header.signed_prekey_id != signed_prekey.prekey_id:
        raise UnknownPrekey(f"signed prekey {header.signed_prekey_id} is not held")
    if header.one_time_prekey_id is None:
        if one_time_prekey is not None:
            raise UnknownPrekey("one-time prekey given but the header names none")
    elif one_time_prekey is None or one_time_prekey.prekey_id != header.one_time_prekey_id:
        raise UnknownPrekey(f"one-time prekey {header.one_time_prekey_id} is not held")
    initiator_identity_dh = _ed25519_to_x25519(header.identity_key)
    dh1 = x25519(signed_prekey.key_pair.private_key, initiator_identity_dh)
    dh2 = identity.dh(header.ephemeral_key)
    dh3 = x25519(signed_prekey.key_pair.private_key, header.ephemeral_key)
    dh4 = b""
    if one_time_prekey is not None:
        dh4 = x25519(one_time_prekey.key_pair.private_key, header.ephemeral_key)
    return KeyAgreement(
        shared_secret=_kdf(dh1 + dh2 + dh3 + dh4, info),
        associated_data=_associated_data(header.identity_key, identity.public_key),
    )
