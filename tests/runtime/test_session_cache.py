"""Verified session tokens are remembered until they expire, and only verified ones."""

from __future__ import annotations

from typing import Any

import pytest
from nacl.signing import SigningKey, VerifyKey

from hearth_runtime.sessions import CLOCK_SKEW, SessionError, SessionSigner, SessionVerifier


class CountingKey(VerifyKey):
    """A public key that counts the signatures it checks."""

    checks = 0

    def verify(self, smessage: bytes, signature: bytes | None = None, **kwargs: Any) -> bytes:  # type: ignore[override]
        CountingKey.checks += 1
        return super().verify(smessage, signature, **kwargs)


@pytest.fixture
def clock() -> list[float]:
    return [1_000_000.0]


def parts(clock: list[float], cache_size: int = 8) -> tuple[SessionSigner, SessionVerifier]:
    signer = SessionSigner("k1", SigningKey.generate(), clock=lambda: clock[0])
    key = CountingKey(bytes(signer.public_key))
    return signer, SessionVerifier({"k1": key}, lambda: clock[0], cache_size=cache_size)


def test_a_token_is_checked_once_and_remembered_until_it_expires(clock: list[float]) -> None:
    signer, verifier = parts(clock)
    token = signer.issue("acct", {"child"}, lifetime=60)
    before = CountingKey.checks
    first = verifier.verify(token)
    assert [verifier.verify(token) for _ in range(5)] == [first] * 5
    assert CountingKey.checks == before + 1
    clock[0] += 60 + CLOCK_SKEW + 1
    with pytest.raises(SessionError, match="expired"):
        verifier.verify(token)


def test_a_forged_token_is_never_remembered(clock: list[float]) -> None:
    signer, verifier = parts(clock)
    token = signer.issue("acct", {"child"})
    body, signature = token.rsplit(".", 1)
    forged = f"{body}.{'A' * len(signature)}"
    for _ in range(3):
        with pytest.raises(SessionError, match="signature"):
            verifier.verify(forged)
    assert forged not in verifier._verified


def test_the_memory_is_bounded_oldest_first(clock: list[float]) -> None:
    signer, verifier = parts(clock, cache_size=3)
    tokens = [signer.issue(f"acct{i}", {"child"}) for i in range(5)]
    for token in tokens:
        verifier.verify(token)
    assert list(verifier._verified) == tokens[2:]
