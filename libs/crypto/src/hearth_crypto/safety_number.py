"""Safety numbers: Signal-style numeric fingerprints two people compare to detect a MITM.

Each party's half is 30 digits from iterated SHA-512 over (version || identity key ||
stable identifier), exactly as libsignal's ``NumericFingerprintGenerator`` computes it
(rust/protocol/src/fingerprint.rs): the first round hashes
``0x0000 || key || identifier || key`` and each further round ``previous || key``, 5200
rounds in all. The displayed number is the two halves with the smaller first, so both
parties see the same 60 digits. Hearth passes identity keys in their encoded form
(:func:`hearth_crypto.x3dh.encode_public_key`), as libsignal passes its 33-byte keys.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = [
    "FINGERPRINT_VERSION",
    "ITERATIONS",
    "SafetyNumber",
    "fingerprint_digits",
    "fingerprint_hash",
    "safety_number",
]

FINGERPRINT_VERSION = 0
ITERATIONS = 5200
_DIGITS_PER_PARTY = 30


def fingerprint_hash(
    identity_key: bytes, stable_identifier: bytes, iterations: int = ITERATIONS
) -> bytes:
    """The 64-byte iterated SHA-512 for one party."""
    if not 1 < iterations <= 1_000_000:  # libsignal's bounds
        raise ValueError("iterations must be in 2..1000000")
    digest = hashlib.sha512(
        FINGERPRINT_VERSION.to_bytes(2, "big") + identity_key + stable_identifier + identity_key
    ).digest()
    for _ in range(iterations - 1):
        digest = hashlib.sha512(digest + identity_key).digest()
    return digest


def fingerprint_digits(
    identity_key: bytes, stable_identifier: bytes, iterations: int = ITERATIONS
) -> str:
    """One party's 30 digits: six 5-byte big-endian chunks, each mod 100000, zero-padded."""
    digest = fingerprint_hash(identity_key, stable_identifier, iterations)
    return "".join(
        f"{int.from_bytes(digest[offset : offset + 5], 'big') % 100_000:05d}"
        for offset in range(0, _DIGITS_PER_PARTY, 5)
    )


@dataclass(frozen=True, slots=True)
class SafetyNumber:
    """Sixty digits, the same on both devices; shown as twelve groups of five."""

    digits: str

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.digits[i : i + 5] for i in range(0, len(self.digits), 5))

    def __str__(self) -> str:
        return " ".join(self.groups)


def safety_number(
    local_identity_key: bytes,
    local_identifier: bytes,
    remote_identity_key: bytes,
    remote_identifier: bytes,
    iterations: int = ITERATIONS,
) -> SafetyNumber:
    """The safety number for a pair of parties; symmetric in local and remote."""
    halves = sorted(
        (
            fingerprint_digits(local_identity_key, local_identifier, iterations),
            fingerprint_digits(remote_identity_key, remote_identifier, iterations),
        )
    )
    return SafetyNumber("".join(halves))
