"""Known images: PDQ within 31 bits (quality >= 50 only), SHA-256 exact, blurred previews."""

from __future__ import annotations

import hashlib

import numpy as np
import pdqhash  # type: ignore[import-untyped]
import pytest
from PIL import Image

from hearth_scanner.images import (
    MATCH_DISTANCE,
    HashList,
    ImageError,
    blurred,
    decode,
    fingerprint,
    hamming,
)
from tests.scanner.support import encoded, picture


def test_the_hash_is_pdqhash_s_own_bits_in_hex() -> None:
    image = picture(1)
    bits, quality = pdqhash.compute(np.asarray(image))
    found = fingerprint(encoded(image))
    assert found.quality == quality == 100
    unpacked = np.unpackbits(np.frombuffer(bytes.fromhex(found.pdq), dtype=np.uint8))
    assert unpacked.tolist() == [int(b) for b in bits]


def test_a_resized_recompressed_copy_matches_and_another_picture_does_not() -> None:
    listed = fingerprint(encoded(picture(1)))
    copy = fingerprint(encoded(picture(1).resize((320, 240)), "JPEG", quality=60))
    other = fingerprint(encoded(picture(2)))
    assert copy.sha256 != listed.sha256
    assert hamming(listed.pdq, copy.pdq) <= MATCH_DISTANCE
    assert hamming(listed.pdq, other.pdq) > MATCH_DISTANCE
    hashes = HashList("known")
    hashes.add([], [(listed.pdq, listed.quality, "listed")])
    found = hashes.match(copy)
    assert found is not None and found.kind == "pdq" and found.label == "listed"
    assert hashes.match(other) is None


def test_distance_31_matches_and_32_does_not() -> None:
    base = fingerprint(encoded(picture(3)))
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(base.pdq), dtype=np.uint8))

    def flipped(n: int) -> str:
        changed = bits.copy()
        changed[:n] ^= 1
        return np.packbits(changed).tobytes().hex()

    for n, matches in ((31, True), (32, False)):
        hashes = HashList("edge")
        hashes.add([], [(flipped(n), 100, "near")])
        assert (hashes.match(base) is not None) is matches


def test_low_quality_hashes_are_discarded_on_both_sides() -> None:
    flat = fingerprint(encoded(Image.new("RGB", (200, 200), (30, 30, 30))))
    assert flat.quality < 50
    hashes = HashList("known")
    hashes.add([], [(flat.pdq, flat.quality, "flat")])
    assert hashes.pdq == {}  # a listed hash under quality 50 is dropped
    good = fingerprint(encoded(picture(4)))
    hashes.add([], [(good.pdq, 100, "good")])
    weak_query = type(good)(sha256="00" * 32, pdq=good.pdq, quality=20)
    assert hashes.match(weak_query) is None  # and so is a query hash under 50


def test_an_exact_file_matches_by_sha256_even_when_pdq_cannot() -> None:
    data = encoded(Image.new("RGB", (64, 64), (0, 0, 0)))
    hashes = HashList("exact")
    hashes.add([(hashlib.sha256(data).hexdigest(), "exact file")], [])
    found = hashes.match(fingerprint(data))
    assert found is not None and found.kind == "sha256" and found.distance == 0


def test_one_comparison_against_100k_hashes_finds_the_planted_near_copy() -> None:
    rng = np.random.default_rng(7)
    target = fingerprint(encoded(picture(5)))
    near = bytearray(bytes.fromhex(target.pdq))
    near[0] ^= 0b111  # 3 bits away
    entries = [(rng.bytes(32).hex(), 100, f"random {i}") for i in range(100_000)]
    entries.insert(54_321, (bytes(near).hex(), 100, "planted"))
    hashes = HashList("big")
    hashes.add([], entries)
    found = hashes.match(target)
    assert found is not None and found.label == "planted" and found.distance == 3


def test_removals_take_entries_out() -> None:
    a, b = fingerprint(encoded(picture(6))), fingerprint(encoded(picture(7)))
    hashes = HashList("list")
    hashes.add([(a.sha256, "a")], [(a.pdq, 100, "a"), (b.pdq, 100, "b")])
    assert hashes.match(a) is not None
    hashes.remove([a.sha256], [a.pdq])
    assert hashes.match(a) is None and hashes.match(b) is not None


def test_a_blurred_preview_hides_the_picture() -> None:
    data = encoded(picture(8))
    preview = decode(blurred(data))
    original = np.asarray(decode(data), dtype=np.float64)
    assert preview.size == (480, 360)
    blurry = np.asarray(preview, dtype=np.float64)
    # No sharp edge survives: the steepest step between neighbouring pixels is a fraction.
    assert np.abs(np.diff(blurry, axis=1)).max() < np.abs(np.diff(original, axis=1)).max() / 5


@pytest.mark.parametrize("data", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_bytes_that_are_no_image_raise_a_clear_error(data: bytes) -> None:
    with pytest.raises(ImageError):
        fingerprint(data)
