"""Signed, versioned packs: each refusal has its own error, and the last good pack stays."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
from nacl.signing import SigningKey

from hearth_scanner.images import fingerprint
from hearth_scanner.model import TextModel
from hearth_scanner.packs import (
    BadPackSignature,
    BrokenPackChain,
    MalformedPack,
    PackExpired,
    PackKeeper,
    PackRollback,
    PackTooLarge,
    build_pack,
    pack_digest,
)
from hearth_scanner.rules import RuleSet
from tests.scanner.support import encoded, picture

KEY = SigningKey(b"\x01" * 32)
NOW = 1_800_000_000.0
A, B, C = (fingerprint(encoded(picture(i))) for i in (11, 12, 13))


def manifest(version: int, **extra: Any) -> dict[str, Any]:
    return {
        "version": version,
        "issued_at": NOW - 60,
        "expires_at": NOW + 86400,
        "previous_digest": "",
        **extra,
    }


def full_list() -> dict[str, Any]:
    return {
        "known": {
            "mode": "full",
            "sha256": [[A.sha256, "a"]],
            "pdq": [[A.pdq, A.quality, "a"], [B.pdq, B.quality, "b"]],
        }
    }


def keeper() -> PackKeeper:
    return PackKeeper(KEY.verify_key, max_bytes=1_000_000)


def test_a_good_pack_is_used() -> None:
    k = keeper()
    pack = k.offer(build_pack(KEY, manifest(1, hash_lists=full_list())), NOW)
    assert k.current is pack and pack.version == 1
    assert pack.hash_lists["known"].match(B) is not None
    assert k.status(NOW) == "pack v1 fresh"


def test_a_bad_signature_is_refused_and_the_last_good_pack_stays() -> None:
    k = keeper()
    good = k.offer(build_pack(KEY, manifest(1)), NOW)
    forged = build_pack(SigningKey.generate(), manifest(2))
    with pytest.raises(BadPackSignature, match="does not verify"):
        k.offer(forged, NOW)
    tampered = bytearray(build_pack(KEY, manifest(2)))
    tampered[-2] ^= 1
    with pytest.raises(BadPackSignature):
        k.offer(bytes(tampered), NOW)
    assert k.current is good


def test_a_rollback_or_replay_is_refused() -> None:
    k = keeper()
    k.offer(build_pack(KEY, manifest(5)), NOW)
    with pytest.raises(PackRollback, match="version 4 is not above 5"):
        k.offer(build_pack(KEY, manifest(4)), NOW)
    with pytest.raises(PackRollback):
        k.offer(build_pack(KEY, manifest(5)), NOW)
    assert k.current is not None and k.current.version == 5


def test_an_expired_pack_is_refused_and_an_expiring_one_is_kept_and_called_stale() -> None:
    k = keeper()
    good = k.offer(build_pack(KEY, manifest(1)), NOW)
    old = build_pack(KEY, {**manifest(2), "expires_at": NOW - 1})
    with pytest.raises(PackExpired, match="keeping the last good one"):
        k.offer(old, NOW)
    assert k.current is good and not k.stale(NOW)
    later = NOW + 2 * 86400
    assert k.stale(later) and k.current is good
    assert "STALE" in k.status(later)


def test_a_pack_over_the_size_limit_is_refused_before_it_is_read() -> None:
    k = PackKeeper(KEY.verify_key, max_bytes=200)
    big = build_pack(KEY, manifest(1, padding="x" * 500))
    with pytest.raises(PackTooLarge, match="over the limit of 200"):
        k.offer(big, NOW)
    with pytest.raises(PackTooLarge):
        k.offer(b"\0" * 201, NOW)  # refused by size alone, not parsed
    assert k.current is None


def test_a_delta_adds_and_removes_hashes_on_top_of_the_pack_it_follows() -> None:
    k = keeper()
    first = build_pack(KEY, manifest(1, hash_lists=full_list()))
    k.offer(first, NOW)
    delta = {
        "known": {
            "mode": "delta",
            "pdq": [[C.pdq, C.quality, "c"]],
            "remove_pdq": [B.pdq],
            "remove_sha256": [A.sha256],
        }
    }
    pack = k.offer(
        build_pack(KEY, manifest(2, previous_digest=pack_digest(first), hash_lists=delta)), NOW
    )
    known = pack.hash_lists["known"]
    assert known.match(C) is not None and known.match(B) is None
    assert A.sha256 not in known.sha256 and known.match(A) is not None  # its PDQ stays


def test_a_delta_that_does_not_follow_the_held_pack_is_refused() -> None:
    k = keeper()
    k.offer(build_pack(KEY, manifest(1, hash_lists=full_list())), NOW)
    delta = {"known": {"mode": "delta", "pdq": [[C.pdq, 100, "c"]]}}
    with pytest.raises(BrokenPackChain, match="must follow"):
        k.offer(build_pack(KEY, manifest(2, previous_digest="ab" * 32, hash_lists=delta)), NOW)
    with pytest.raises(BrokenPackChain):
        keeper().offer(build_pack(KEY, manifest(2, hash_lists=delta)), NOW)


def test_rules_and_a_model_come_in_a_pack() -> None:
    rules = RuleSet.default().to_json()[:3]
    model = TextModel(
        ("grooming.secrecy",), np.zeros((1 << 18, 1), np.float32), np.zeros(1, np.float32)
    )
    data = build_pack(
        KEY, manifest(1, rules=rules, model=base64.b64encode(model.to_bytes()).decode())
    )
    pack = keeper().offer(data, NOW)
    assert pack.rules is not None and len(pack.rules.rules) == 3
    assert pack.model is not None and pack.model.indicators == ("grooming.secrecy",)


def test_a_signed_pack_cannot_make_the_device_unpickle() -> None:
    """Even a correctly signed pack: a model with a pickled object array does not load."""
    out = io.BytesIO()
    np.savez(out, format=np.array([object()], dtype=object))
    data = build_pack(KEY, manifest(1, model=base64.b64encode(out.getvalue()).decode()))
    with pytest.raises(MalformedPack, match="model does not load"):
        keeper().offer(data, NOW)


@pytest.mark.parametrize(
    "content",
    [
        {"rules": [{"id": "x", "indicator": "nope", "strength": 1, "pattern": "a"}]},
        {"rules": [{"id": "x", "indicator": "self_harm", "strength": 1, "pattern": "("}]},
        {"hash_lists": {"known": {"mode": "sideways"}}},
        {"hash_lists": {"known": {"mode": "full", "pdq": [["zz", 100, "bad"]]}}},
        {"model": "!!!not base64"},
        {"version": "one"},
    ],
)
def test_malformed_content_in_a_signed_pack_is_refused(content: dict[str, Any]) -> None:
    with pytest.raises(MalformedPack):
        keeper().offer(build_pack(KEY, {**manifest(1), **content}), NOW)


def test_the_kept_pack_is_restored_with_its_highest_version() -> None:
    data = build_pack(KEY, manifest(3))
    k = keeper()
    k.restore(data, highest_version=7)
    assert k.current is not None and k.current.version == 3
    with pytest.raises(PackRollback):
        k.offer(build_pack(KEY, manifest(6)), NOW)
