"""Login by device key: a single-use, short-lived challenge that the device signs.

The signed text binds the challenge to its id and to the account, so a signature made for
one login (or one account) is worth nothing in another.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

MAX_OUTSTANDING = 10_000  # challenges held at once; more is RESOURCE_EXHAUSTED


class LoginRefused(Exception):
    """The login cannot proceed (UNAUTHENTICATED)."""


class TooManyLogins(Exception):
    """Too many logins are in flight (RESOURCE_EXHAUSTED)."""


def login_text(challenge_id: str, challenge: bytes, account_id: str) -> bytes:
    """What a device signs to log in."""
    return f"hearth-login-v1:{account_id}:{challenge_id}:".encode() + challenge


@dataclass(frozen=True)
class Challenge:
    challenge_id: str
    challenge: bytes
    account_id: str
    device_public_key: bytes
    expires_at: float


class LoginChallenges:
    """Outstanding challenges, held in memory by this identity instance."""

    def __init__(self, lifetime: float, clock: Callable[[], float] = time.time) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._outstanding: dict[str, Challenge] = {}
        self._lock = threading.Lock()

    def begin(self, account_id: str, device_public_key: bytes) -> Challenge:
        now = self.clock()
        with self._lock:
            for key in [k for k, c in self._outstanding.items() if c.expires_at < now]:
                del self._outstanding[key]
            if len(self._outstanding) >= MAX_OUTSTANDING:
                raise TooManyLogins("too many logins in flight; try again shortly")
            challenge = Challenge(
                challenge_id=secrets.token_urlsafe(16),
                challenge=secrets.token_bytes(32),
                account_id=account_id,
                device_public_key=device_public_key,
                expires_at=now + self.lifetime,
            )
            self._outstanding[challenge.challenge_id] = challenge
            return challenge

    def complete(self, challenge_id: str, signature: bytes) -> Challenge:
        """The challenge's account, once its device's signature checks; a challenge is used
        up by any attempt, right or wrong."""
        with self._lock:
            challenge = self._outstanding.pop(challenge_id, None)
        if challenge is None:
            raise LoginRefused("unknown or already used login challenge")
        if self.clock() > challenge.expires_at:
            raise LoginRefused("login challenge has expired")
        text = login_text(challenge.challenge_id, challenge.challenge, challenge.account_id)
        try:
            VerifyKey(challenge.device_public_key).verify(text, signature)
        except (BadSignatureError, ValueError):
            raise LoginRefused("login signature is not by this account's device") from None
        return challenge
