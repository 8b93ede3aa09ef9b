"""Signed checkpoints of the audit log: C2SP signed-note, tlog-checkpoint, tlog-cosignature.

A checkpoint (c2sp.org/tlog-checkpoint) is the note text ``origin\\nsize\\nbase64(root)\\n``
plus optional extension lines. The log signs it as a signed note (c2sp.org/signed-note)
with Ed25519, signature type 0x01; witnesses add cosignature/v1 lines
(c2sp.org/tlog-cosignature, type 0x04) that also sign the time they saw it. Keys travel as
the strings of golang.org/x/mod/sumdb/note: ``<name>+<hex key id>+<base64(type || key)>``
for verifiers and ``PRIVATE+KEY+<name>+<hex key id>+<base64(type || seed)>`` for signers.
Parsing is strict (canonical base64, no leading zeros) so one checkpoint has one encoding.

Over 400 lines because the three C2SP formats share one strict parser and are best read
whole beside their specifications.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, Protocol, Self

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

__all__ = [
    "MAX_SIGNATURES",
    "SIGNATURE_TYPE_COSIGNATURE_V1",
    "SIGNATURE_TYPE_ED25519",
    "AmbiguousKey",
    "Checkpoint",
    "CosignatureVerifier",
    "Cosigner",
    "InvalidSignature",
    "MalformedCheckpoint",
    "MalformedKey",
    "MalformedNote",
    "NoteError",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "OpenedNote",
    "UnknownKey",
    "Verifier",
    "cosignature_message",
    "cosignature_timestamp",
    "key_id",
    "open_note",
]

SIGNATURE_TYPE_ED25519 = 0x01
SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100
"""The spec asks verifiers to accept at least 16; Go's note package stops at 100."""

_HASH_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_TIMESTAMP_SIZE = 8
_MAX_TIMESTAMP = 2**63 - 1
_MAX_TREE_SIZE = 2**64 - 1
_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")


class NoteError(Exception):
    """Base class for every error raised by this module."""


class MalformedNote(NoteError, ValueError):
    """The text is not a well-formed signed note."""


class MalformedKey(NoteError, ValueError):
    """A key name, verifier key or private key string is not valid."""


class MalformedCheckpoint(NoteError, ValueError):
    """A note body is not a well-formed checkpoint."""


class AmbiguousKey(NoteError, ValueError):
    """Two different verifiers share one key name and key id."""


class InvalidSignature(NoteError):
    """A signature from a known key does not verify, so the whole note is rejected."""


class UnknownKey(NoteError):
    """No signature on the note comes from a known key.

    `signatures` holds the signatures that were found, none of them verified.
    """

    def __init__(self, message: str, signatures: tuple[NoteSignature, ...]) -> None:
        super().__init__(message)
        self.signatures = signatures


def key_id(name: str, signature_type: int, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || signature type || public key)[:4] as a big-endian integer."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def cosignature_message(body: bytes, timestamp: int) -> bytes:
    """What a cosignature/v1 Ed25519 signature signs: two header lines, then the body."""
    return b"cosignature/v1\ntime %d\n" % timestamp + body


def _is_valid_name(name: str) -> bool:
    # Key names: non-empty, no Unicode space, no "+", and (as note text) no control codes.
    if not name or "+" in name or _CONTROL.search(name):
        return False
    if any(c.isspace() for c in name):
        return False
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def _b64decode(text: str) -> bytes | None:
    """Standard base64 that must re-encode to the same text, so encodings are unique."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _check_text(text: str, error: type[NoteError]) -> None:
    if _CONTROL.search(text):
        raise error("note text must not contain control characters other than newline")
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise error("note text must be valid UTF-8") from exc


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key id, and the signature bytes after the key id."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """The line as it appears in a note, newline included."""
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_SIGNATURE_PREFIX}{self.name} {_b64encode(raw)}\n"


class Verifier(Protocol):
    """Anything that can check note signatures for one (name, key id)."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, body: bytes, signature: bytes) -> bool: ...


class NoteVerifier:
    """Checks Ed25519 note signatures (signature type 0x01) from one named key."""

    signature_type: ClassVar[int] = SIGNATURE_TYPE_ED25519

    def __init__(self, name: str, verify_key: VerifyKey) -> None:
        if not _is_valid_name(name):
            raise MalformedKey(f"invalid key name {name!r}: needs no spaces and no '+'")
        self._name = name
        self._verify_key = verify_key
        self._key_id = key_id(name, self.signature_type, bytes(verify_key))

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        """Parse ``<name>+<8 hex key id>+<base64(type || public key)>``."""
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise MalformedKey("verifier key must look like <name>+<key id>+<base64 key>")
        name, hex_id, b64 = parts
        raw = _b64decode(b64)
        if not _HEX_KEY_ID.fullmatch(hex_id) or raw is None or not _is_valid_name(name):
            raise MalformedKey(f"malformed verifier key for {name!r}")
        if len(raw) != 33:
            raise MalformedKey(f"verifier key {name!r} is not a 32-byte Ed25519 key")
        if raw[0] != cls.signature_type:
            raise MalformedKey(
                f"verifier key {name!r} has signature type {raw[0]:#04x}, "
                f"expected {cls.signature_type:#04x}"
            )
        verifier = cls(name, VerifyKey(raw[1:]))
        if verifier.key_id != int(hex_id, 16):
            raise MalformedKey(f"key id {hex_id} of verifier key {name!r} does not match the key")
        return verifier

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def verify_key(self) -> VerifyKey:
        return self._verify_key

    @property
    def vkey(self) -> str:
        """The verifier key string, to publish or configure."""
        raw = bytes([self.signature_type]) + bytes(self._verify_key)
        return f"{self._name}+{self._key_id:08x}+{_b64encode(raw)}"

    def verify(self, body: bytes, signature: bytes) -> bool:
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        return self._verify_ed25519(body, signature)

    def _verify_ed25519(self, message: bytes, signature: bytes) -> bool:
        try:
            self._verify_key.verify(message, signature)
        except BadSignatureError:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NoteVerifier):
            return NotImplemented
        return type(self) is type(other) and self.vkey == other.vkey

    def __hash__(self) -> int:
        return hash((type(self), self.vkey))

    def __repr__(self) -> str:
        return f"{type(self).__name__}.from_vkey({self.vkey!r})"


class CosignatureVerifier(NoteVerifier):
    """Checks a witness's cosignature/v1 lines (signature type 0x04)."""

    signature_type: ClassVar[int] = SIGNATURE_TYPE_COSIGNATURE_V1

    def verify(self, body: bytes, signature: bytes) -> bool:
        if len(signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
            return False
        timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
        if timestamp > _MAX_TIMESTAMP:
            return False
        message = cosignature_message(body, timestamp)
        return self._verify_ed25519(message, signature[_TIMESTAMP_SIZE:])


def cosignature_timestamp(signature: NoteSignature) -> int:
    """The POSIX time inside a cosignature/v1 signature; check the signature first."""
    if len(signature.signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
        raise MalformedNote(f"signature by {signature.name} is not an Ed25519 cosignature/v1")
    return int.from_bytes(signature.signature[:_TIMESTAMP_SIZE], "big")


class NoteSigner:
    """Signs note bodies with Ed25519 (signature type 0x01) under a key name."""

    signature_type: ClassVar[int] = SIGNATURE_TYPE_ED25519
    verifier_type: ClassVar[type[NoteVerifier]] = NoteVerifier

    def __init__(self, name: str, signing_key: SigningKey) -> None:
        self._verifier = self.verifier_type(name, signing_key.verify_key)
        self._signing_key = signing_key

    @classmethod
    def generate(cls, name: str) -> Self:
        return cls(name, SigningKey.generate())

    @classmethod
    def from_private_key(cls, skey: str) -> Self:
        """Parse ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(type || seed)>``."""
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise MalformedKey("private key must look like PRIVATE+KEY+<name>+<key id>+<key>")
        _, _, name, hex_id, b64 = parts
        raw = _b64decode(b64)
        if not _HEX_KEY_ID.fullmatch(hex_id) or raw is None or not _is_valid_name(name):
            raise MalformedKey(f"malformed private key for {name!r}")
        if len(raw) != 33:
            raise MalformedKey(f"private key {name!r} is not a 32-byte Ed25519 seed")
        if raw[0] != cls.signature_type:
            raise MalformedKey(
                f"private key {name!r} has signature type {raw[0]:#04x}, "
                f"expected {cls.signature_type:#04x}"
            )
        signer = cls(name, SigningKey(raw[1:]))
        # The id commits to the public key, so a corrupted seed shows up here.
        if signer.key_id != int(hex_id, 16):
            raise MalformedKey(f"key id {hex_id} of private key {name!r} does not match the key")
        return signer

    @property
    def name(self) -> str:
        return self._verifier.name

    @property
    def key_id(self) -> int:
        return self._verifier.key_id

    @property
    def signing_key(self) -> SigningKey:
        return self._signing_key

    @property
    def verifier(self) -> NoteVerifier:
        return self._verifier

    @property
    def vkey(self) -> str:
        return self._verifier.vkey

    def private_key(self) -> str:
        """The private key string; keep it secret."""
        raw = bytes([self.signature_type]) + bytes(self._signing_key)
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{_b64encode(raw)}"

    def signature(self, body: str) -> NoteSignature:
        """A signature over `body` (note text, ending in a newline)."""
        if not body.endswith("\n"):
            raise MalformedNote("note text must end with a newline")
        _check_text(body, MalformedNote)
        return NoteSignature(self.name, self.key_id, self._sign(body.encode()))

    def sign(self, body: str) -> str:
        """The signed note holding `body` and this signer's signature."""
        return body + "\n" + self.signature(body).line()

    def add_signature(self, note: str) -> str:
        """Add this signer's signature to a signed note, replacing any earlier one by it.

        The existing signatures are kept as they are, not verified.
        """
        body, signatures = _parse_note(note)
        mine = (self.name, self.key_id)
        kept = "".join(s.line() for s in signatures if (s.name, s.key_id) != mine)
        return body + "\n" + kept + self.signature(body).line()

    def _sign(self, message: bytes) -> bytes:
        return self._signing_key.sign(message).signature

    def __repr__(self) -> str:
        # Never the private key.
        return f"{type(self).__name__}(vkey={self.vkey!r})"


class Cosigner(NoteSigner):
    """A witness's key: cosignature/v1 (type 0x04) over checkpoints, stamped with the time.

    Cosigning states that this checkpoint is the largest consistent one the witness has
    seen for the origin; checking consistency before calling is the caller's job.
    """

    signature_type: ClassVar[int] = SIGNATURE_TYPE_COSIGNATURE_V1
    verifier_type: ClassVar[type[NoteVerifier]] = CosignatureVerifier

    def __init__(
        self, name: str, signing_key: SigningKey, clock: Callable[[], int] | None = None
    ) -> None:
        super().__init__(name, signing_key)
        self._clock = clock if clock is not None else lambda: int(time.time())

    def _sign(self, message: bytes) -> bytes:
        # The cosignature format is only defined over checkpoints.
        Checkpoint.parse(message.decode())
        timestamp = self._clock()
        if not 0 <= timestamp <= _MAX_TIMESTAMP:
            raise ValueError(f"cosignature timestamp {timestamp} is outside 0..2**63-1")
        signature = self._signing_key.sign(cosignature_message(message, timestamp)).signature
        return timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signature


def _parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into body and signatures, checking form but no signature."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNote("signed note is not valid UTF-8") from exc
    _check_text(note, MalformedNote)
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNote("signed note has no blank line before its signatures")
    body, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNote("signed note must end with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"signed note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(_SIGNATURE_PREFIX):
            raise MalformedNote(f"signature line {number} does not start with an em dash")
        name, _, b64 = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        raw = _b64decode(b64)
        if not _is_valid_name(name) or raw is None or len(raw) < 5:
            raise MalformedNote(f"signature line {number} is malformed")
        signatures.append(NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return body, signatures


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signatures from known keys all verified."""

    body: str
    signatures: tuple[NoteSignature, ...]
    """Verified signatures, one per key, in note order."""
    unverified: tuple[NoteSignature, ...]
    """Signatures from keys the caller did not pass, ignored as the spec requires."""

    @property
    def signers(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.signatures)

    def signed_by(self, verifier: Verifier) -> NoteSignature | None:
        """The verified signature of `verifier`'s key, if it signed."""
        for s in self.signatures:
            if (s.name, s.key_id) == (verifier.name, verifier.key_id):
                return s
        return None


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Parse a signed note and verify every signature made by one of `verifiers`.

    Signatures from other keys are ignored (that is how key rotation and extra
    witnesses work), but at least one known key must have signed. Raises MalformedNote,
    InvalidSignature (a known key's signature fails: the whole note is rejected),
    UnknownKey (no known key signed) or AmbiguousKey.
    """
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        existing = known.setdefault((v.name, v.key_id), v)
        if existing is not v and existing != v:
            raise AmbiguousKey(f"two different verifiers for key {v.name}+{v.key_id:08x}")
    body, signatures = _parse_note(note)
    message = body.encode()
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    signed_keys: set[tuple[str, int]] = set()
    for s in signatures:
        verifier = known.get((s.name, s.key_id))
        if verifier is None:
            if s not in unverified:
                unverified.append(s)
            continue
        # Every signature by a known key is checked, duplicates included.
        if not verifier.verify(message, s.signature):
            raise InvalidSignature(f"invalid signature for key {s.name}+{s.key_id:08x}")
        if (s.name, s.key_id) not in signed_keys:
            signed_keys.add((s.name, s.key_id))
            verified.append(s)
    if not verified:
        found = ", ".join(f"{s.name}+{s.key_id:08x}" for s in unverified)
        raise UnknownKey(
            f"note has no signature from a known key (signed by {found})", tuple(unverified)
        )
    return OpenedNote(body, tuple(verified), tuple(unverified))


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint: the log's origin, tree size and root hash at that size."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise MalformedCheckpoint("checkpoint origin must be one non-empty line")
        _check_text(self.origin, MalformedCheckpoint)
        if isinstance(self.size, bool) or not 0 <= self.size <= _MAX_TREE_SIZE:
            raise MalformedCheckpoint(f"checkpoint tree size {self.size} is outside 0..2**64-1")
        if len(self.root_hash) != _HASH_SIZE:
            raise MalformedCheckpoint(f"checkpoint root hash must be {_HASH_SIZE} bytes")
        object.__setattr__(self, "root_hash", bytes(self.root_hash))
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for line in self.extensions:
            if not line or "\n" in line:
                raise MalformedCheckpoint("checkpoint extension lines must be non-empty lines")
            _check_text(line, MalformedCheckpoint)

    def body(self) -> str:
        """The note text to sign."""
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse the note text of a checkpoint (take it from `open_note`, not raw input)."""
        if not body.endswith("\n"):
            raise MalformedCheckpoint("checkpoint text must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpoint("checkpoint needs origin, tree size and root hash lines")
        origin, size_text, root_text, *extensions = lines
        # int() would also take "+5", "1_0" or non-ASCII digits; 2**64-1 has 20 digits.
        if len(size_text) > 20 or not _DECIMAL.fullmatch(size_text):
            raise MalformedCheckpoint(f"checkpoint tree size {size_text!r} is not a decimal")
        root = _b64decode(root_text)
        if root is None:
            raise MalformedCheckpoint(f"checkpoint root hash {root_text!r} is not base64")
        return cls(origin, int(size_text), root, tuple(extensions))
