"""RSA blind signatures (RFC 9474), the primitive under Hearth's unlinkable age tokens.

Hearth uses RSABSSA-SHA384-PSS-Randomized; the other three RFC variants are here too so that
every Appendix A test vector can be checked. The issuer's private operation runs on gmpy2's
constant-time ``powmod_sec`` with CRT; signatures are verified by ``cryptography`` (OpenSSL),
which is independent of the encoder in this module.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import gmpy2
from cryptography.exceptions import InvalidSignature as _OpenSSLInvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = [
    "DEFAULT_KEY_BITS",
    "MIN_KEY_BITS",
    "PREFIX_LENGTH",
    "PUBLIC_EXPONENT",
    "RSABSSA_SHA384_PSSZERO_DETERMINISTIC",
    "RSABSSA_SHA384_PSSZERO_RANDOMIZED",
    "RSABSSA_SHA384_PSS_DETERMINISTIC",
    "RSABSSA_SHA384_PSS_RANDOMIZED",
    "VARIANTS",
    "BlindSignatureError",
    "Blinded",
    "EncodingError",
    "InvalidInput",
    "InvalidKey",
    "InvalidSignature",
    "MessageOutOfRange",
    "PrivateKey",
    "PublicKey",
    "RandomSource",
    "SigningFailure",
    "Variant",
    "blind",
    "blind_sign",
    "finalize",
    "prepare",
    "verify",
]

RandomSource = Callable[[int], bytes]
"""Returns n random bytes. ``secrets.token_bytes`` unless a test pins the randomness."""

DEFAULT_KEY_BITS: Final = 2048
MIN_KEY_BITS: Final = 2048
PUBLIC_EXPONENT: Final = 65537
PREFIX_LENGTH: Final = 32
"""Length of the random prefix that ``prepare`` adds in the randomized variants."""

_HASH_LENGTH: Final = 48  # SHA-384, the hash of every RFC 9474 named variant


class BlindSignatureError(Exception):
    """Base class; the message is safe to pass to a client (no key material, no internals)."""


class InvalidKey(BlindSignatureError):
    """A key could not be loaded or is unsuitable (not RSA, too small, unusual exponent)."""


class InvalidInput(BlindSignatureError):
    """An input has the wrong length or cannot be blinded."""


class MessageOutOfRange(InvalidInput):
    """A blinded message is not smaller than the key's modulus (RFC 8017 RSASP1)."""


class EncodingError(BlindSignatureError):
    """EMSA-PSS cannot encode for this key size (the modulus is too small)."""


class SigningFailure(BlindSignatureError):
    """The private operation did not verify; a fault, so the result is withheld."""


class InvalidSignature(BlindSignatureError):
    """A signature does not verify for this message under this public key."""


@dataclass(frozen=True)
class Variant:
    """An RFC 9474 section 5 named variant; all of them use SHA-384 and MGF1-SHA-384."""

    name: str
    salt_length: int
    randomized: bool


RSABSSA_SHA384_PSS_RANDOMIZED: Final = Variant("RSABSSA-SHA384-PSS-Randomized", 48, True)
RSABSSA_SHA384_PSSZERO_RANDOMIZED: Final = Variant("RSABSSA-SHA384-PSSZERO-Randomized", 0, True)
RSABSSA_SHA384_PSS_DETERMINISTIC: Final = Variant("RSABSSA-SHA384-PSS-Deterministic", 48, False)
RSABSSA_SHA384_PSSZERO_DETERMINISTIC: Final = Variant(
    "RSABSSA-SHA384-PSSZERO-Deterministic", 0, False
)
VARIANTS: Final = (
    RSABSSA_SHA384_PSS_RANDOMIZED,
    RSABSSA_SHA384_PSSZERO_RANDOMIZED,
    RSABSSA_SHA384_PSS_DETERMINISTIC,
    RSABSSA_SHA384_PSSZERO_DETERMINISTIC,
)
_DEFAULT_VARIANT: Final = RSABSSA_SHA384_PSS_RANDOMIZED


class PublicKey:
    """An issuer's RSA public key, serialised as DER SubjectPublicKeyInfo."""

    def __init__(self, key: rsa.RSAPublicKey) -> None:
        numbers = key.public_numbers()
        if key.key_size < MIN_KEY_BITS:
            raise InvalidKey(f"RSA key has {key.key_size} bits; at least {MIN_KEY_BITS} needed")
        if numbers.e != PUBLIC_EXPONENT:
            raise InvalidKey(f"RSA public exponent must be {PUBLIC_EXPONENT}")
        self._key = key
        self.n: Final = numbers.n
        self.e: Final = numbers.e
        self.modulus_len: Final = (numbers.n.bit_length() + 7) // 8
        self._der = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_id: Final = hashlib.sha256(self._der).digest()
        """SHA-256 of the DER encoding: stable, and the same on every platform."""

    @classmethod
    def from_der(cls, data: bytes) -> PublicKey:
        try:
            key = serialization.load_der_public_key(data)
        except (ValueError, UnsupportedAlgorithm):
            raise InvalidKey("public key is not a valid DER SubjectPublicKeyInfo") from None
        if not isinstance(key, rsa.RSAPublicKey):
            raise InvalidKey("public key is not an RSA key")
        return cls(key)

    def to_der(self) -> bytes:
        return self._der

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other._der == self._der

    def __hash__(self) -> int:
        return hash(self._der)

    def __repr__(self) -> str:
        return f"PublicKey(bits={self.n.bit_length()}, key_id={self.key_id.hex()[:16]}…)"


class PrivateKey:
    """An issuer's RSA private key, kept in configuration as PKCS#8 PEM."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._key = key
        self.public_key: Final = PublicKey(key.public_key())
        numbers = key.private_numbers()
        # CRT parameters as mpz once, so each signature pays only for two half-size powmods.
        self._p = gmpy2.mpz(numbers.p)
        self._q = gmpy2.mpz(numbers.q)
        self._dp = gmpy2.mpz(numbers.dmp1)
        self._dq = gmpy2.mpz(numbers.dmq1)
        self._q_inv = gmpy2.mpz(numbers.iqmp)  # q^-1 mod p
        self._n = gmpy2.mpz(self.public_key.n)
        self._e = gmpy2.mpz(self.public_key.e)

    @classmethod
    def generate(cls, bits: int = DEFAULT_KEY_BITS) -> PrivateKey:
        if bits < MIN_KEY_BITS:
            raise InvalidKey(f"RSA key must have at least {MIN_KEY_BITS} bits")
        return cls(rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits))

    @classmethod
    def from_primes(cls, p: int, q: int, e: int = PUBLIC_EXPONENT) -> PrivateKey:
        """Build a key from its primes (test vectors, imports); cryptography checks it."""
        try:
            d = pow(e, -1, (p - 1) * (q - 1))
            numbers = rsa.RSAPrivateNumbers(
                p=p,
                q=q,
                d=d,
                dmp1=rsa.rsa_crt_dmp1(d, p),
                dmq1=rsa.rsa_crt_dmq1(d, q),
                iqmp=rsa.rsa_crt_iqmp(p, q),
                public_numbers=rsa.RSAPublicNumbers(e, p * q),
            )
            return cls(numbers.private_key())
        except ValueError:
            raise InvalidKey("p, q and e do not form a valid RSA key") from None

    @classmethod
    def from_pem(cls, data: bytes, password: bytes | None = None) -> PrivateKey:
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            # TypeError: a password was given for an unencrypted key or the reverse.
            raise InvalidKey("private key is not a valid PEM RSA key (or wrong password)") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise InvalidKey("private key is not an RSA key")
        return cls(key)

    def to_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with the best available scheme when a password is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def _rsasp1(self, m: int) -> int:
        """RSASP1 via CRT (Garner); powmod_sec keeps the secret exponents off timing channels."""
        s_p = gmpy2.powmod_sec(m % self._p, self._dp, self._p)
        s_q = gmpy2.powmod_sec(m % self._q, self._dq, self._q)
        h = (self._q_inv * (s_p - s_q)) % self._p
        return int(s_q + self._q * h)

    def __repr__(self) -> str:
        return f"PrivateKey(public_key={self.public_key!r})"


@dataclass(frozen=True)
class Blinded:
    """Output of ``blind``: the message for the issuer, and the client's secret unblinder."""

    blinded_message: bytes
    inverse: bytes = field(repr=False)


def _default_random(random_source: RandomSource | None) -> RandomSource:
    return secrets.token_bytes if random_source is None else random_source


def _take(random_source: RandomSource, length: int) -> bytes:
    data = random_source(length)
    if len(data) != length:
        raise ValueError(f"random source returned {len(data)} bytes, {length} requested")
    return data


def prepare(
    msg: bytes,
    *,
    variant: Variant = _DEFAULT_VARIANT,
    random_source: RandomSource | None = None,
) -> bytes:
    """RFC 9474 section 4.1: prefix 32 random bytes in the randomized variants.

    The result is the message that is blinded, signed and verified.
    """
    if not variant.randomized:
        return bytes(msg)
    return _take(_default_random(random_source), PREFIX_LENGTH) + bytes(msg)


def _mgf1_sha384(seed: bytes, length: int) -> bytes:
    output = bytearray()
    counter = 0
    while len(output) < length:
        output += hashlib.sha384(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(output[:length])


def _emsa_pss_encode(msg: bytes, em_bits: int, salt: bytes) -> bytes:
    """RFC 8017 section 9.1.1 with SHA-384 and MGF1-SHA-384."""
    em_len = (em_bits + 7) // 8
    if em_len < _HASH_LENGTH + len(salt) + 2:
        raise EncodingError("RSA modulus is too small for EMSA-PSS with SHA-384")
    m_hash = hashlib.sha384(msg).digest()
    h = hashlib.sha384(b"\x00" * 8 + m_hash + salt).digest()
    db = b"\x00" * (em_len - len(salt) - _HASH_LENGTH - 2) + b"\x01" + salt
    db_mask = _mgf1_sha384(h, em_len - _HASH_LENGTH - 1)
    masked_db = bytearray(a ^ b for a, b in zip(db, db_mask, strict=True))
    masked_db[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked_db) + h + b"\xbc"


def _random_integer_uniform(upper: int, random_source: RandomSource) -> int:
    """Uniform in [1, upper) by rejection sampling, as RFC 9474 section 4.2 asks."""
    bits = upper.bit_length()
    mask = (1 << bits) - 1
    while True:
        candidate = int.from_bytes(_take(random_source, (bits + 7) // 8), "big") & mask
        if 1 <= candidate < upper:
            return candidate


def blind(
    public_key: PublicKey,
    msg: bytes,
    *,
    variant: Variant = _DEFAULT_VARIANT,
    random_source: RandomSource | None = None,
) -> Blinded:
    """RFC 9474 section 4.2. ``msg`` is the output of ``prepare``.

    Randomness is drawn in the RFC's order: the PSS salt, then the blinding factor r as
    ``modulus_len`` bytes, so a pinned random source reproduces the test vectors.
    """
    rand = _default_random(random_source)
    n = public_key.n
    salt = _take(rand, variant.salt_length)
    encoded = _emsa_pss_encode(msg, n.bit_length() - 1, salt)
    m = gmpy2.mpz(int.from_bytes(encoded, "big"))
    if gmpy2.gcd(m, n) != 1:
        raise InvalidInput("message cannot be blinded under this key")
    r = _random_integer_uniform(n, rand)
    try:
        inverse = gmpy2.invert(r, n)
    except ZeroDivisionError:
        raise InvalidInput("blinding factor is not invertible under this key") from None
    # r is the client's secret; keep its exponentiation on the constant-time path too.
    x = gmpy2.powmod_sec(r, public_key.e, n)
    z = (m * x) % n
    k = public_key.modulus_len
    return Blinded(int(z).to_bytes(k, "big"), int(inverse).to_bytes(k, "big"))


def blind_sign(private_key: PrivateKey, blinded_message: bytes) -> bytes:
    """RFC 9474 section 4.3: the issuer's private operation on a client's blinded message.

    The issuer learns nothing about the message. The result is checked with the public key
    before it is returned, so a computation fault cannot leak a factor of the modulus.
    """
    public_key = private_key.public_key
    k = public_key.modulus_len
    if len(blinded_message) != k:
        raise InvalidInput(f"blinded message must be {k} bytes for this key")
    m = int.from_bytes(blinded_message, "big")
    if m >= public_key.n:
        raise MessageOutOfRange("blinded message is not smaller than the key's modulus")
    s = private_key._rsasp1(m)
    if gmpy2.powmod(s, private_key._e, private_key._n) != m:
        raise SigningFailure("signing failed its own verification; no signature returned")
    return s.to_bytes(k, "big")


def finalize(
    public_key: PublicKey,
    msg: bytes,
    blind_signature: bytes,
    inverse: bytes,
    *,
    variant: Variant = _DEFAULT_VARIANT,
) -> bytes:
    """RFC 9474 section 4.4: unblind and verify. ``msg`` is the output of ``prepare``."""
    k = public_key.modulus_len
    if len(blind_signature) != k:
        raise InvalidInput(f"blind signature must be {k} bytes for this key")
    if len(inverse) != k:
        raise InvalidInput(f"blinding inverse must be {k} bytes for this key")
    z = int.from_bytes(blind_signature, "big")
    s = (z * int.from_bytes(inverse, "big")) % public_key.n
    signature = s.to_bytes(k, "big")
    verify(public_key, msg, signature, variant=variant)
    return signature


def verify(
    public_key: PublicKey,
    msg: bytes,
    signature: bytes,
    *,
    variant: Variant = _DEFAULT_VARIANT,
) -> None:
    """RFC 9474 section 4.5 (RSASSA-PSS-VERIFY); ``msg`` is the output of ``prepare``.

    Raises ``InvalidSignature`` unless the signature verifies with exactly the variant's
    salt length.
    """
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=variant.salt_length)
    try:
        public_key._key.verify(signature, msg, pss, hashes.SHA384())
    except _OpenSSLInvalidSignature:
        raise InvalidSignature("signature does not verify under this public key") from None
