"""Pluggable age verifiers: each turns one kind of evidence into a band, in memory only.

The evidence (a document and its birth date, a face image) is read, decided on and dropped:
a verifier returns a band and nothing else, and nothing here logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from google.protobuf.message import DecodeError
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from hearth_crypto.age_band import AgeBand
from hearth_proto.hearth.age.v1 import age_pb2
from hearth_runtime.errors import Conflict, Invalid

_PGM_HEADER = re.compile(rb"P5\s+(\d{1,5})\s+(\d{1,5})\s+255\s")


class EvidenceRejected(Invalid):
    """The evidence is malformed, forged, expired or cannot decide a band."""

    reason = "EVIDENCE_REJECTED"


class MethodNotOffered(Conflict):
    """The operator turned this method off (FAILED_PRECONDITION)."""

    reason = "METHOD_NOT_OFFERED"


class DocumentVerifier(Protocol):
    @property
    def name(self) -> str:
        """Recorded with each decision, e.g. "document/dev-ed25519"."""

    def verify(self, document: bytes, signature: bytes, today: date) -> AgeBand:
        """The band of the document's holder, or `EvidenceRejected`."""


class AgeEstimator(Protocol):
    @property
    def name(self) -> str:
        """Recorded with each decision, e.g. "estimation/dev-brightness"."""

    def estimate(self, image: bytes) -> float:
        """Apparent age in years, or `EvidenceRejected` when the image shows no face."""


def age_on(birth_date: date, today: date) -> int:
    """Whole years reached by `today`."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


@dataclass(frozen=True)
class SignedTestDocumentVerifier:
    """Development document check: an Ed25519 signature by a trusted test issuing authority
    over a `hearth.age.v1.TestIdentityDocument`."""

    authorities: dict[str, VerifyKey]
    name: str = "document/dev-ed25519"

    def verify(self, document: bytes, signature: bytes, today: date) -> AgeBand:
        parsed = age_pb2.TestIdentityDocument()
        try:
            parsed.ParseFromString(document)
        except DecodeError:
            raise EvidenceRejected("document is not a TestIdentityDocument") from None
        authority = self.authorities.get(parsed.authority)
        if authority is None:
            raise EvidenceRejected("document names an issuing authority that is not trusted")
        try:
            authority.verify(document, signature)
        except (BadSignatureError, ValueError):
            raise EvidenceRejected("document signature does not verify") from None
        try:
            birth_date = date.fromisoformat(parsed.birth_date)
            expires_on = date.fromisoformat(parsed.expires_on)
        except ValueError:
            raise EvidenceRejected("document dates are not ISO 8601 dates") from None
        if expires_on < today:
            raise EvidenceRejected("document has expired")
        if birth_date > today:
            raise EvidenceRejected("document birth date is in the future")
        return AgeBand.for_age(age_on(birth_date, today))


@dataclass(frozen=True)
class BrightnessEstimator:
    """Development estimator, deterministic: a binary PGM (P5) "face" whose mean brightness
    maps linearly onto 0..50 years. A real estimator (a model) plugs in the same way."""

    name: str = "estimation/dev-brightness"
    max_years: float = 50.0

    def estimate(self, image: bytes) -> float:
        header = _PGM_HEADER.match(image)
        if header is None:
            raise EvidenceRejected("image is not an 8-bit binary PGM")
        width, height = int(header[1]), int(header[2])
        pixels = image[header.end() :]
        if width <= 0 or height <= 0 or len(pixels) != width * height:
            raise EvidenceRejected("image size does not match its pixels")
        return sum(pixels) / len(pixels) / 255 * self.max_years


@dataclass(frozen=True)
class NotOffered:
    """Stands in for a verifier or an estimator the operator turned off: each use is refused."""

    method: str
    name: str = "off"

    def verify(self, document: bytes, signature: bytes, today: date) -> AgeBand:
        raise MethodNotOffered(f"{self.method} is not offered on this platform")

    def estimate(self, image: bytes) -> float:
        raise MethodNotOffered(f"{self.method} is not offered on this platform")


@dataclass(frozen=True)
class EstimationPolicy:
    """A band by estimation needs an estimate of at least its lower bound plus the buffer, so
    an error of up to `buffer` years never places someone in an older band."""

    buffer: float

    def band(self, estimate: float) -> AgeBand:
        decided = AgeBand.UNDER_13
        for band in AgeBand.known():
            if band.lower_bound > 0 and estimate >= band.lower_bound + self.buffer:
                decided = band
        return decided
