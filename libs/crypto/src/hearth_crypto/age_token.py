"""Age tokens: single-use, holder-bound proofs of an age band that the issuer cannot link.

The age service holds one RSA blind-signature key per (band, epoch) and signs token messages
blindly (RFC 9474, RSABSSA-SHA384-PSS-Randomized), so a redeemed token cannot be tied to the
verification session that issued it. A token message commits to the issuer key (and through
it the band and epoch), a fresh nonce that makes it single-use, and a fresh Ed25519 holder key,
so a token copied off the device is useless without a proof over the verifier's challenge:

    "hearth/age-token/v1" (19 bytes) || issuer key id (32) || nonce (32) || holder key (32)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import nacl.utils
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from hearth_crypto import blind_rsa
from hearth_crypto.age_band import AgeBand

__all__ = [
    "HOLDER_PROOF_LABEL",
    "MIN_CHALLENGE_LENGTH",
    "TOKEN_LABEL",
    "TOKEN_MESSAGE_LENGTH",
    "VARIANT",
    "AgeBand",
    "AgeTokenError",
    "HolderProofInvalid",
    "InvalidChallenge",
    "InvalidTokenSignature",
    "IssuerKey",
    "IssuerPublicKey",
    "MalformedToken",
    "Token",
    "TokenMessage",
    "TokenPresentation",
    "TokenRequest",
    "VerifiedToken",
    "WrongIssuerKey",
    "create_token_request",
    "finalize_token",
    "spend_key",
    "verify_presentation",
]

VARIANT: Final = blind_rsa.RSABSSA_SHA384_PSS_RANDOMIZED
TOKEN_LABEL: Final = b"hearth/age-token/v1"
HOLDER_PROOF_LABEL: Final = b"hearth/age-token/v1/holder-proof"
KEY_ID_LENGTH: Final = 32
NONCE_LENGTH: Final = 32
HOLDER_KEY_LENGTH: Final = 32
TOKEN_MESSAGE_LENGTH: Final = len(TOKEN_LABEL) + KEY_ID_LENGTH + NONCE_LENGTH + HOLDER_KEY_LENGTH
RANDOMIZER_LENGTH: Final = blind_rsa.PREFIX_LENGTH
HOLDER_PROOF_LENGTH: Final = 64
MIN_CHALLENGE_LENGTH: Final = 16
"""A shorter challenge could repeat, and a repeated challenge lets a captured proof replay."""

_SERIAL_VERSION: Final = 1


class AgeTokenError(Exception):
    """Base class; the message is safe to pass to a client."""


class MalformedToken(AgeTokenError):
    """A token, or a field of one, is not in Hearth's age-token format."""


class WrongIssuerKey(AgeTokenError):
    """The token names a different issuer key than the one it is checked against."""


class InvalidTokenSignature(AgeTokenError):
    """The issuer's signature does not verify: forged, altered, or from another key."""


class HolderProofInvalid(AgeTokenError):
    """The holder proof was not made by the token's holder key over this challenge."""


class InvalidChallenge(AgeTokenError):
    """A holder-proof challenge is too short to be fresh."""


@dataclass(frozen=True)
class IssuerPublicKey:
    """What the age service publishes (and logs) for one band and epoch."""

    band: AgeBand
    epoch: int
    public_key: blind_rsa.PublicKey

    def __post_init__(self) -> None:
        if self.epoch < 0:
            raise ValueError("epoch must not be negative")

    @property
    def key_id(self) -> bytes:
        return self.public_key.key_id


@dataclass(frozen=True)
class IssuerKey:
    """The age service's signing key for one band and epoch."""

    band: AgeBand
    epoch: int
    private_key: blind_rsa.PrivateKey = field(repr=False)

    @classmethod
    def generate(
        cls, band: AgeBand, epoch: int, *, bits: int = blind_rsa.DEFAULT_KEY_BITS
    ) -> IssuerKey:
        return cls(band, epoch, blind_rsa.PrivateKey.generate(bits))

    @property
    def public(self) -> IssuerPublicKey:
        return IssuerPublicKey(self.band, self.epoch, self.private_key.public_key)

    @property
    def key_id(self) -> bytes:
        return self.private_key.public_key.key_id

    def sign(self, blinded_message: bytes) -> bytes:
        """Blind-sign a client's request; raises ``blind_rsa.BlindSignatureError`` subclasses."""
        return blind_rsa.blind_sign(self.private_key, blinded_message)


@dataclass(frozen=True)
class TokenMessage:
    """The parsed fields of a token message."""

    key_id: bytes
    nonce: bytes
    holder_key: bytes

    def __post_init__(self) -> None:
        if len(self.key_id) != KEY_ID_LENGTH:
            raise MalformedToken(f"token issuer key id must be {KEY_ID_LENGTH} bytes")
        if len(self.nonce) != NONCE_LENGTH:
            raise MalformedToken(f"token nonce must be {NONCE_LENGTH} bytes")
        if len(self.holder_key) != HOLDER_KEY_LENGTH:
            raise MalformedToken(f"token holder key must be {HOLDER_KEY_LENGTH} bytes")

    @classmethod
    def parse(cls, message: bytes) -> TokenMessage:
        if len(message) != TOKEN_MESSAGE_LENGTH:
            raise MalformedToken(f"token message must be {TOKEN_MESSAGE_LENGTH} bytes")
        if not message.startswith(TOKEN_LABEL):
            raise MalformedToken("token message does not carry the Hearth age-token label")
        rest = message[len(TOKEN_LABEL) :]
        return cls(
            key_id=rest[:KEY_ID_LENGTH],
            nonce=rest[KEY_ID_LENGTH : KEY_ID_LENGTH + NONCE_LENGTH],
            holder_key=rest[KEY_ID_LENGTH + NONCE_LENGTH :],
        )

    def to_bytes(self) -> bytes:
        return TOKEN_LABEL + self.key_id + self.nonce + self.holder_key


def spend_key(message: bytes) -> str:
    """Stable double-spend key for a token message: SHA-256, hex, fit for a KV bucket key.

    It depends only on the message (which holds the nonce), not on the signature, so a token
    redeems once however its signature or proof is re-encoded.
    """
    return hashlib.sha256(message).hexdigest()


def _holder_proof_payload(message: bytes, challenge: bytes) -> bytes:
    if len(challenge) < MIN_CHALLENGE_LENGTH:
        raise InvalidChallenge(f"challenge must be at least {MIN_CHALLENGE_LENGTH} bytes")
    # Fixed-length prefix, so the variable-length challenge at the end cannot be re-split.
    return HOLDER_PROOF_LABEL + hashlib.sha256(message).digest() + challenge


@dataclass(frozen=True)
class TokenPresentation:
    """What a client sends to redeem a token: the token and a holder proof for a challenge."""

    message: bytes
    randomizer: bytes
    signature: bytes
    holder_proof: bytes

    @property
    def spend_key(self) -> str:
        return spend_key(self.message)


@dataclass(frozen=True)
class Token:
    """A finished token on the client. ``holder_seed`` is the holder's secret: keep it local."""

    message: bytes
    randomizer: bytes
    signature: bytes
    holder_seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        parsed = TokenMessage.parse(self.message)
        if len(self.randomizer) != RANDOMIZER_LENGTH:
            raise MalformedToken(f"token randomizer must be {RANDOMIZER_LENGTH} bytes")
        if len(self.holder_seed) != 32:
            raise MalformedToken("token holder seed must be 32 bytes")
        if bytes(SigningKey(self.holder_seed).verify_key) != parsed.holder_key:
            raise MalformedToken("token holder seed does not match the holder key it carries")

    @property
    def key_id(self) -> bytes:
        return TokenMessage.parse(self.message).key_id

    @property
    def holder_key(self) -> bytes:
        return TokenMessage.parse(self.message).holder_key

    @property
    def spend_key(self) -> str:
        return spend_key(self.message)

    def prove_holder(self, challenge: bytes) -> bytes:
        """Ed25519 signature by the holder key over the verifier's challenge."""
        payload = _holder_proof_payload(self.message, challenge)
        return SigningKey(self.holder_seed).sign(payload).signature

    def present(self, challenge: bytes) -> TokenPresentation:
        return TokenPresentation(
            self.message, self.randomizer, self.signature, self.prove_holder(challenge)
        )

    def to_dict(self) -> dict[str, str | int]:
        """JSON-friendly form for client-side storage (base64url; includes the holder secret)."""
        return {
            "version": _SERIAL_VERSION,
            "message": _b64encode(self.message),
            "randomizer": _b64encode(self.randomizer),
            "signature": _b64encode(self.signature),
            "holder_seed": _b64encode(self.holder_seed),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Token:
        if data.get("version") != _SERIAL_VERSION:
            raise MalformedToken(f"stored token must have version {_SERIAL_VERSION}")
        return cls(
            message=_b64decode(data, "message"),
            randomizer=_b64decode(data, "randomizer"),
            signature=_b64decode(data, "signature"),
            holder_seed=_b64decode(data, "holder_seed"),
        )


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _b64decode(data: Mapping[str, object], name: str) -> bytes:
    value = data.get(name)
    if not isinstance(value, str):
        raise MalformedToken(f"stored token field {name!r} is missing or not a string")
    try:
        # validate=True: refuse stray characters rather than silently dropping them.
        return base64.b64decode(value, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise MalformedToken(f"stored token field {name!r} is not valid base64url") from None


@dataclass(frozen=True)
class TokenRequest:
    """Client state while a signature is pending. Only ``blinded_message`` leaves the device."""

    issuer: IssuerPublicKey
    message: bytes
    randomizer: bytes
    blinded_message: bytes
    inverse: bytes = field(repr=False)
    holder_seed: bytes = field(repr=False)


def create_token_request(
    issuer: IssuerPublicKey, *, random_source: blind_rsa.RandomSource | None = None
) -> TokenRequest:
    """Client: a fresh holder key and nonce, committed to in a message that is then blinded."""
    if random_source is None:
        holder = SigningKey.generate()
        nonce = nacl.utils.random(NONCE_LENGTH)
    else:
        holder = SigningKey(random_source(32))
        nonce = random_source(NONCE_LENGTH)
    message = TokenMessage(issuer.key_id, nonce, bytes(holder.verify_key)).to_bytes()
    prepared = blind_rsa.prepare(message, variant=VARIANT, random_source=random_source)
    blinded = blind_rsa.blind(
        issuer.public_key, prepared, variant=VARIANT, random_source=random_source
    )
    return TokenRequest(
        issuer=issuer,
        message=message,
        randomizer=prepared[:RANDOMIZER_LENGTH],
        blinded_message=blinded.blinded_message,
        inverse=blinded.inverse,
        holder_seed=holder.encode(),
    )


def finalize_token(request: TokenRequest, blind_signature: bytes) -> Token:
    """Client: unblind the issuer's answer and check it, so a bad issuance fails here."""
    try:
        signature = blind_rsa.finalize(
            request.issuer.public_key,
            request.randomizer + request.message,
            blind_signature,
            request.inverse,
            variant=VARIANT,
        )
    except blind_rsa.InvalidInput as exc:
        raise MalformedToken(f"issuer response is malformed: {exc}") from None
    except blind_rsa.InvalidSignature:
        raise InvalidTokenSignature(
            "issuer's blind signature does not verify under the issuer key requested"
        ) from None
    return Token(request.message, request.randomizer, signature, request.holder_seed)


@dataclass(frozen=True)
class VerifiedToken:
    """A redeemed token's facts; ``spend_key`` must still be recorded once (atomic create)."""

    band: AgeBand
    epoch: int
    key_id: bytes
    spend_key: str


def verify_presentation(
    presentation: TokenPresentation, issuer: IssuerPublicKey, challenge: bytes
) -> VerifiedToken:
    """Server: check a presented token against the issuer key it names, and its holder proof.

    Look the issuer up by ``TokenMessage.parse(message).key_id``. This does not detect double
    spending: the caller records ``spend_key`` with an atomic create and refuses on conflict.
    """
    parsed = TokenMessage.parse(presentation.message)
    if not hmac.compare_digest(parsed.key_id, issuer.key_id):
        raise WrongIssuerKey("token was issued under a different issuer key")
    if len(presentation.randomizer) != RANDOMIZER_LENGTH:
        raise MalformedToken(f"token randomizer must be {RANDOMIZER_LENGTH} bytes")
    if len(presentation.signature) != issuer.public_key.modulus_len:
        raise MalformedToken(
            f"token signature must be {issuer.public_key.modulus_len} bytes for this issuer key"
        )
    if len(presentation.holder_proof) != HOLDER_PROOF_LENGTH:
        raise MalformedToken(f"holder proof must be {HOLDER_PROOF_LENGTH} bytes")
    try:
        blind_rsa.verify(
            issuer.public_key,
            presentation.randomizer + presentation.message,
            presentation.signature,
            variant=VARIANT,
        )
    except blind_rsa.InvalidSignature:
        raise InvalidTokenSignature("token signature is not valid for its issuer key") from None
    payload = _holder_proof_payload(presentation.message, challenge)
    try:
        VerifyKey(parsed.holder_key).verify(payload, presentation.holder_proof)
    except (BadSignatureError, ValueError):
        # ValueError: libsodium rejects some encodings of the holder key outright.
        raise HolderProofInvalid(
            "holder proof does not verify for this token and challenge"
        ) from None
    return VerifiedToken(issuer.band, issuer.epoch, issuer.key_id, spend_key(presentation.message))
