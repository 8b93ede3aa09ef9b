"""Known-image matching: SHA-256 for the exact file, PDQ for the same picture re-encoded.

PDQ (Meta's perceptual hash, via `pdqhash`) turns an image into 256 bits; two images whose
hashes differ in at most 31 bits are taken as the same picture, and a hash of quality below
50 (a flat or tiny image) is discarded, both as ThreatExchange recommends. Hashes are
written as 64 hex characters, bit 0 first (numpy `packbits`, big-endian). A hash list keeps
its PDQ hashes as a (N, 4) uint64 array so one comparison against 100,000 is one vectorised
XOR and popcount. The image is checked before it is shown or sent; `blurred` is what the
child sees until they choose to look.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

MATCH_DISTANCE = 31
MIN_QUALITY = 50
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding them


class ImageError(ValueError):
    """Bytes that are not an image the scanner will decode."""


@dataclass(frozen=True, slots=True)
class ImageFingerprint:
    """What the device computes from an image, before showing or sending it."""

    sha256: str
    pdq: str  # 64 hex characters
    quality: int


@dataclass(frozen=True, slots=True)
class ImageMatch:
    """A listed image: which list, how (exact file or perceptual), how far."""

    list_id: str
    kind: str  # "sha256" or "pdq"
    distance: int
    label: str


def decode(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise ImageError("image too large to check")
        image.load()
    except (OSError, Image.DecompressionBombError, ValueError) as e:
        raise ImageError(f"not a readable image: {e}") from None
    return image.convert("RGB")


def pdq_of(image: Image.Image) -> tuple[str, int]:
    # Imported here: reading packs and hash lists (the safety service does) needs no PDQ.
    import pdqhash  # type: ignore[import-untyped]

    bits, quality = pdqhash.compute(np.asarray(image, dtype=np.uint8))
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex(), int(quality)


def fingerprint(data: bytes) -> ImageFingerprint:
    """SHA-256 of the bytes, PDQ hash and quality of the decoded picture."""
    pdq, quality = pdq_of(decode(data))
    return ImageFingerprint(hashlib.sha256(data).hexdigest(), pdq, quality)


def blurred(data: bytes, radius: int = 24) -> bytes:
    """A heavily blurred PNG of the image: shown until the child taps to see it."""
    image = decode(data)
    radius = max(radius, max(image.size) // 20)
    out = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(radius)).save(out, format="PNG")
    return out.getvalue()


def _words(hex_hash: str) -> npt.NDArray[np.uint64]:
    raw = bytes.fromhex(hex_hash)
    if len(raw) != 32:
        raise ValueError("a PDQ hash is 64 hex characters")
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


def hamming(a: str, b: str) -> int:
    return int(np.bitwise_count(_words(a) ^ _words(b)).sum())


@dataclass
class HashList:
    """One list of known images (from a pack): exact SHA-256s and PDQ hashes with labels."""

    list_id: str
    sha256: dict[str, str] = field(default_factory=dict)  # hex -> label
    pdq: dict[str, str] = field(default_factory=dict)  # hex -> label
    _matrix: npt.NDArray[np.uint64] | None = None
    _keys: list[str] = field(default_factory=list)

    def add(self, sha256: Iterable[tuple[str, str]], pdq: Iterable[tuple[str, int, str]]) -> None:
        """Add entries; PDQ hashes of quality below MIN_QUALITY are discarded."""
        for digest, label in sha256:
            if len(bytes.fromhex(digest)) != 32:
                raise ValueError("a SHA-256 is 64 hex characters")
            self.sha256[digest.lower()] = label
        for hex_hash, quality, label in pdq:
            _words(hex_hash)
            if quality >= MIN_QUALITY:
                self.pdq[hex_hash.lower()] = label
        self._matrix = None

    def remove(self, sha256: Iterable[str], pdq: Iterable[str]) -> None:
        for digest in sha256:
            self.sha256.pop(digest.lower(), None)
        for hex_hash in pdq:
            self.pdq.pop(hex_hash.lower(), None)
        self._matrix = None

    def _index(self) -> tuple[npt.NDArray[np.uint64], list[str]]:
        if self._matrix is None:
            self._keys = list(self.pdq)
            raw = b"".join(bytes.fromhex(k) for k in self._keys)
            self._matrix = np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, 4)
        return self._matrix, self._keys

    def match(self, image: ImageFingerprint) -> ImageMatch | None:
        label = self.sha256.get(image.sha256)
        if label is not None:
            return ImageMatch(self.list_id, "sha256", 0, label)
        if image.quality < MIN_QUALITY or not self.pdq:
            return None
        matrix, keys = self._index()
        distances = np.bitwise_count(matrix ^ _words(image.pdq)).sum(axis=1)
        best = int(np.argmin(distances))
        if int(distances[best]) > MATCH_DISTANCE:
            return None
        return ImageMatch(self.list_id, "pdq", int(distances[best]), self.pdq[keys[best]])


def match_lists(lists: Iterable[HashList], image: ImageFingerprint) -> ImageMatch | None:
    """The first list that holds the image, exact matches before perceptual ones."""
    found = [m for m in (h.match(image) for h in lists) if m is not None]
    return min(found, key=lambda m: (m.kind != "sha256", m.distance)) if found else None
