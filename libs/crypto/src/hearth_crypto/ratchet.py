"""Double Ratchet (Signal specification, revision 1) for end-to-end encrypted device sessions.

Uses the spec's recommended algorithms: X25519 for the DH ratchet, HKDF-SHA256 for KDF_RK,
HMAC-SHA256 with constants 0x01/0x02 for KDF_CK, and AES-256-CBC + HMAC-SHA256
encrypt-then-MAC keyed by HKDF from the message key. The full 32-byte tag makes the
encryption key-committing: HMAC-SHA256 with fixed-length keys is collision resistant, so one
ciphertext authenticates under one message key and opens to one plaintext, which franking
relies on.

Lost and out-of-order messages are handled with skipped message keys under two limits:
at most ``max_skip`` keys are derived for any one incoming message, and at most
``max_stored`` are kept (oldest evicted). Both checks run before any key is derived, and
decryption changes the session only once the message has authenticated, so a forged header
can neither exhaust memory nor desynchronise the session.

https://signal.org/docs/specifications/doubleratchet/

Over 400 lines because it is one specification's primitive, best read whole beside it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import struct
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from hashlib import sha256
from typing import TypeAlias

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .x3dh import InvalidPublicKey, X25519KeyPair, x25519

__all__ = [
    "HEADER_BYTES",
    "MAX_SKIP",
    "MAX_STORED",
    "MESSAGE_KEY_INFO",
    "ROOT_KDF_INFO",
    "DuplicateMessage",
    "InvalidSessionState",
    "JSONValue",
    "MalformedMessage",
    "MessageAuthenticationFailed",
    "MessageHeader",
    "RatchetError",
    "RatchetMessage",
    "RatchetSession",
    "SendingChainUnavailable",
    "TooManySkippedMessages",
    "concat_associated_data",
    "decrypt_with_message_key",
    "encrypt_with_message_key",
    "kdf_ck",
    "kdf_rk",
]

MAX_SKIP = 1000
"""Most message keys derived for one incoming message (the spec's MAX_SKIP)."""
MAX_STORED = 2000
"""Most skipped message keys kept; the oldest are evicted first."""

ROOT_KDF_INFO = b"Hearth Double Ratchet root v1"
MESSAGE_KEY_INFO = b"Hearth Double Ratchet message keys v1"

_KEY_BYTES = 32
_TAG_BYTES = 32
_BLOCK_BYTES = 16
_MAX_COUNTER = 2**32 - 1
_STATE_VERSION = 1

JSONValue: TypeAlias = "str | int | bool | list[JSONValue] | dict[str, JSONValue] | None"


class RatchetError(Exception):
    """Base class for every Double Ratchet failure."""


class MessageAuthenticationFailed(RatchetError):
    """The ciphertext, header or associated data does not match the MAC (or wrong key)."""


class MalformedMessage(RatchetError):
    """A message or header cannot be parsed, or carries an invalid ratchet key."""


class TooManySkippedMessages(RatchetError):
    """Decrypting would derive more than ``max_skip`` message keys; refused before any work."""


class DuplicateMessage(RatchetError):
    """The message key was used already, or was evicted from the skipped-key store."""


class SendingChainUnavailable(RatchetError):
    """The responder cannot send until the initiator's first message has arrived."""


class InvalidSessionState(RatchetError):
    """A serialised session does not parse or is inconsistent."""


def kdf_rk(root_key: bytes, dh_output: bytes) -> tuple[bytes, bytes]:
    """KDF_RK: HKDF-SHA256 with the root key as salt; returns (new root key, chain key)."""
    output = HKDF(algorithm=hashes.SHA256(), length=64, salt=root_key, info=ROOT_KDF_INFO).derive(
        dh_output
    )
    return output[:32], output[32:]


def kdf_ck(chain_key: bytes) -> tuple[bytes, bytes]:
    """KDF_CK: returns (next chain key, message key) = (HMAC(ck, 0x02), HMAC(ck, 0x01))."""
    return (
        hmac.new(chain_key, b"\x02", sha256).digest(),
        hmac.new(chain_key, b"\x01", sha256).digest(),
    )


def _message_subkeys(message_key: bytes) -> tuple[bytes, bytes, bytes]:
    output = HKDF(
        algorithm=hashes.SHA256(), length=80, salt=b"\x00" * 32, info=MESSAGE_KEY_INFO
    ).derive(message_key)
    return output[:32], output[32:64], output[64:]


def encrypt_with_message_key(message_key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """ENCRYPT: AES-256-CBC (PKCS#7) then HMAC-SHA256 over AD || ciphertext, tag appended."""
    encryption_key, authentication_key, iv = _message_subkeys(message_key)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(encryption_key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    tag = hmac.new(authentication_key, associated_data + ciphertext, sha256).digest()
    return ciphertext + tag


def decrypt_with_message_key(
    message_key: bytes, ciphertext: bytes, associated_data: bytes
) -> bytes:
    """DECRYPT: verify the tag in constant time, then decrypt; the inverse of encryption."""
    body_length = len(ciphertext) - _TAG_BYTES
    if body_length < _BLOCK_BYTES or body_length % _BLOCK_BYTES:
        raise MalformedMessage("ciphertext length is not blocks plus a 32-byte tag")
    body, tag = ciphertext[:body_length], ciphertext[body_length:]
    encryption_key, authentication_key, iv = _message_subkeys(message_key)
    expected = hmac.new(authentication_key, associated_data + body, sha256).digest()
    if not hmac.compare_digest(tag, expected):
        raise MessageAuthenticationFailed("message authentication failed")
    decryptor = Cipher(algorithms.AES(encryption_key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:  # authentic but badly padded: a broken sender, not an attacker
        raise MalformedMessage("plaintext padding is invalid") from exc


_HEADER = struct.Struct(">32sII")
HEADER_BYTES = _HEADER.size


@dataclass(frozen=True, slots=True)
class MessageHeader:
    """The spec's header: sender's ratchet key, previous chain length (PN), number (N)."""

    ratchet_key: bytes
    previous_chain_length: int
    message_number: int

    def __post_init__(self) -> None:
        if len(self.ratchet_key) != _KEY_BYTES:
            raise MalformedMessage("ratchet key must be 32 bytes")
        for value in (self.previous_chain_length, self.message_number):
            if not 0 <= value <= _MAX_COUNTER:
                raise MalformedMessage("header counters must be unsigned 32-bit integers")

    def to_bytes(self) -> bytes:
        return _HEADER.pack(self.ratchet_key, self.previous_chain_length, self.message_number)

    @classmethod
    def from_bytes(cls, data: bytes) -> MessageHeader:
        if len(data) != HEADER_BYTES:
            raise MalformedMessage(f"header must be {HEADER_BYTES} bytes")
        return cls(*_HEADER.unpack(data))


def concat_associated_data(associated_data: bytes, header: MessageHeader) -> bytes:
    """The spec's CONCAT(AD, header), length-prefixed so the pair parses uniquely."""
    return struct.pack(">I", len(associated_data)) + associated_data + header.to_bytes()


@dataclass(frozen=True, slots=True)
class RatchetMessage:
    """An encrypted message: header in the clear (authenticated) and ciphertext."""

    header: MessageHeader
    ciphertext: bytes

    def to_bytes(self) -> bytes:
        return self.header.to_bytes() + self.ciphertext

    @classmethod
    def from_bytes(cls, data: bytes) -> RatchetMessage:
        return cls(MessageHeader.from_bytes(data[:HEADER_BYTES]), data[HEADER_BYTES:])


_SkippedKeys: TypeAlias = "OrderedDict[tuple[bytes, int], bytes]"


@dataclass(frozen=True, slots=True)
class _Chains:
    """Everything but the skipped keys; replaced wholesale so decryption can roll back."""

    dh_self: X25519KeyPair
    dh_remote: bytes | None
    root_key: bytes
    sending_chain_key: bytes | None
    receiving_chain_key: bytes | None
    sent: int  # Ns
    received: int  # Nr
    previous_sent: int  # PN


class RatchetSession:
    """One side of a Double Ratchet session; create with :meth:`initiate` or :meth:`respond`."""

    def __init__(
        self,
        chains: _Chains,
        associated_data: bytes,
        skipped: _SkippedKeys,
        max_skip: int,
        max_stored: int,
    ) -> None:
        if not 0 <= max_skip <= max_stored:
            raise ValueError("need 0 <= max_skip <= max_stored")
        self._chains = chains
        self._associated_data = associated_data
        self._skipped = skipped
        self._max_skip = max_skip
        self._max_stored = max_stored

    @classmethod
    def initiate(
        cls,
        shared_secret: bytes,
        associated_data: bytes,
        remote_ratchet_key: bytes,
        *,
        max_skip: int = MAX_SKIP,
        max_stored: int = MAX_STORED,
    ) -> RatchetSession:
        """RatchetInitAlice: ``remote_ratchet_key`` is the responder's signed prekey."""
        _check_secret(shared_secret)
        dh_self = X25519KeyPair.generate()
        root_key, sending_chain_key = kdf_rk(
            shared_secret, x25519(dh_self.private_key, remote_ratchet_key)
        )
        chains = _Chains(dh_self, remote_ratchet_key, root_key, sending_chain_key, None, 0, 0, 0)
        return cls(chains, associated_data, OrderedDict(), max_skip, max_stored)

    @classmethod
    def respond(
        cls,
        shared_secret: bytes,
        associated_data: bytes,
        ratchet_key_pair: X25519KeyPair,
        *,
        max_skip: int = MAX_SKIP,
        max_stored: int = MAX_STORED,
    ) -> RatchetSession:
        """RatchetInitBob: ``ratchet_key_pair`` is the signed prekey the initiator used."""
        _check_secret(shared_secret)
        chains = _Chains(ratchet_key_pair, None, shared_secret, None, None, 0, 0, 0)
        return cls(chains, associated_data, OrderedDict(), max_skip, max_stored)

    @property
    def associated_data(self) -> bytes:
        return self._associated_data

    @property
    def skipped_key_count(self) -> int:
        return len(self._skipped)

    def encrypt(self, plaintext: bytes) -> RatchetMessage:
        """RatchetEncrypt."""
        chains = self._chains
        if chains.sending_chain_key is None:
            raise SendingChainUnavailable("wait for the initiator's first message")
        if chains.sent > _MAX_COUNTER:
            raise RatchetError("sending chain exhausted")
        sending_chain_key, message_key = kdf_ck(chains.sending_chain_key)
        header = MessageHeader(chains.dh_self.public_key, chains.previous_sent, chains.sent)
        self._chains = replace(chains, sending_chain_key=sending_chain_key, sent=chains.sent + 1)
        ciphertext = encrypt_with_message_key(
            message_key, plaintext, concat_associated_data(self._associated_data, header)
        )
        return RatchetMessage(header, ciphertext)

    def decrypt(self, message: RatchetMessage) -> bytes:
        """RatchetDecrypt; the session is unchanged unless this returns a plaintext."""
        header = message.header
        associated_data = concat_associated_data(self._associated_data, header)
        skipped_key = (header.ratchet_key, header.message_number)
        if skipped_key in self._skipped:
            plaintext = decrypt_with_message_key(
                self._skipped[skipped_key], message.ciphertext, associated_data
            )
            del self._skipped[skipped_key]
            return plaintext

        chains = self._chains
        self._check_skip(header)
        new_skipped: list[tuple[tuple[bytes, int], bytes]] = []
        if header.ratchet_key != chains.dh_remote:
            chains = _skip_message_keys(chains, header.previous_chain_length, new_skipped)
            chains = _dh_ratchet(chains, header.ratchet_key)
        chains = _skip_message_keys(chains, header.message_number, new_skipped)
        assert chains.receiving_chain_key is not None  # ensured by _check_skip or _dh_ratchet
        receiving_chain_key, message_key = kdf_ck(chains.receiving_chain_key)
        chains = replace(
            chains, receiving_chain_key=receiving_chain_key, received=chains.received + 1
        )
        plaintext = decrypt_with_message_key(message_key, message.ciphertext, associated_data)

        self._chains = chains
        self._skipped.update(new_skipped)
        while len(self._skipped) > self._max_stored:
            self._skipped.popitem(last=False)
        return plaintext

    def _check_skip(self, header: MessageHeader) -> None:
        """Count the keys ``decrypt`` would derive and refuse too many, before deriving any."""
        chains = self._chains
        if header.ratchet_key != chains.dh_remote:
            old_chain = 0
            if chains.receiving_chain_key is not None:
                old_chain = max(header.previous_chain_length - chains.received, 0)
            to_skip = old_chain + header.message_number
        elif chains.receiving_chain_key is None:
            # Only the initiator's first remote key (the responder's signed prekey) gets here,
            # and the responder never sends under it.
            raise MalformedMessage("no receiving chain for this ratchet key")
        elif header.message_number < chains.received:
            raise DuplicateMessage(
                f"message {header.message_number} of this chain was already decrypted or evicted"
            )
        else:
            to_skip = header.message_number - chains.received
        if to_skip > self._max_skip:
            raise TooManySkippedMessages(
                f"message would skip {to_skip} keys; at most {self._max_skip} allowed"
            )

    def to_dict(self) -> dict[str, JSONValue]:
        """The whole session as JSON-friendly values (bytes as base64); keep it secret."""
        chains = self._chains
        return {
            "version": _STATE_VERSION,
            "dh_self_private": _b64(chains.dh_self.private_key),
            "dh_remote": _b64_or_none(chains.dh_remote),
            "root_key": _b64(chains.root_key),
            "sending_chain_key": _b64_or_none(chains.sending_chain_key),
            "receiving_chain_key": _b64_or_none(chains.receiving_chain_key),
            "sent": chains.sent,
            "received": chains.received,
            "previous_sent": chains.previous_sent,
            "associated_data": _b64(self._associated_data),
            "max_skip": self._max_skip,
            "max_stored": self._max_stored,
            "skipped": [
                {"ratchet_key": _b64(ratchet_key), "number": number, "message_key": _b64(key)}
                for (ratchet_key, number), key in self._skipped.items()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RatchetSession:
        """Restore a session saved with :meth:`to_dict`; raise :class:`InvalidSessionState`."""
        state = _StateReader(data)
        if state.integer("version") != _STATE_VERSION:
            raise InvalidSessionState("unsupported session state version")
        chains = _Chains(
            dh_self=X25519KeyPair(state.key("dh_self_private")),
            dh_remote=state.optional_key("dh_remote"),
            root_key=state.key("root_key"),
            sending_chain_key=state.optional_key("sending_chain_key"),
            receiving_chain_key=state.optional_key("receiving_chain_key"),
            sent=state.integer("sent"),
            received=state.integer("received"),
            previous_sent=state.integer("previous_sent"),
        )
        skipped: _SkippedKeys = OrderedDict()
        entries = data.get("skipped")
        if not isinstance(entries, list):
            raise InvalidSessionState("skipped must be a list")
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise InvalidSessionState("skipped entries must be objects")
            item = _StateReader(entry)
            skipped[(item.key("ratchet_key"), item.integer("number"))] = item.key("message_key")
        try:
            return cls(
                chains,
                state.raw("associated_data"),
                skipped,
                state.integer("max_skip"),
                state.integer("max_stored"),
            )
        except ValueError as exc:
            raise InvalidSessionState(str(exc)) from exc


def _check_secret(shared_secret: bytes) -> None:
    if len(shared_secret) != _KEY_BYTES:
        raise ValueError("shared secret must be 32 bytes")


def _skip_message_keys(
    chains: _Chains, until: int, skipped: list[tuple[tuple[bytes, int], bytes]]
) -> _Chains:
    """SkipMessageKeys, without the limit check (done up front by ``_check_skip``)."""
    if chains.receiving_chain_key is None or chains.dh_remote is None:
        return chains
    chain_key, number = chains.receiving_chain_key, chains.received
    while number < until:
        chain_key, message_key = kdf_ck(chain_key)
        skipped.append(((chains.dh_remote, number), message_key))
        number += 1
    return replace(chains, receiving_chain_key=chain_key, received=number)


def _dh_ratchet(chains: _Chains, remote_ratchet_key: bytes) -> _Chains:
    """DHRatchet: a receiving chain from the new remote key, then a fresh sending chain."""
    try:
        root_key, receiving_chain_key = kdf_rk(
            chains.root_key, x25519(chains.dh_self.private_key, remote_ratchet_key)
        )
        dh_self = X25519KeyPair.generate()
        root_key, sending_chain_key = kdf_rk(
            root_key, x25519(dh_self.private_key, remote_ratchet_key)
        )
    except InvalidPublicKey as exc:
        raise MalformedMessage("invalid ratchet key in header") from exc
    return _Chains(
        dh_self=dh_self,
        dh_remote=remote_ratchet_key,
        root_key=root_key,
        sending_chain_key=sending_chain_key,
        receiving_chain_key=receiving_chain_key,
        sent=0,
        received=0,
        previous_sent=chains.sent,
    )


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _b64_or_none(value: bytes | None) -> str | None:
    return None if value is None else _b64(value)


class _StateReader:
    """Typed, validating access to one level of a serialised session."""

    def __init__(self, data: Mapping[str, object]) -> None:
        self._data = data

    def integer(self, name: str) -> int:
        value = self._data.get(name)
        # bool is an int subclass; a flag where a counter belongs is corruption.
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidSessionState(f"{name} must be a non-negative integer")
        return value

    def raw(self, name: str) -> bytes:
        value = self._data.get(name)
        if not isinstance(value, str):
            raise InvalidSessionState(f"{name} must be a base64 string")
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise InvalidSessionState(f"{name} is not valid base64") from exc

    def key(self, name: str) -> bytes:
        value = self.raw(name)
        if len(value) != _KEY_BYTES:
            raise InvalidSessionState(f"{name} must decode to 32 bytes")
        return value

    def optional_key(self, name: str) -> bytes | None:
        return None if self._data.get(name) is None else self.key(name)
