"""Single-use, short-lived challenges; login by device key, whose device signs one.

The challenge id is itself the challenge's record (account, device, expiry, nonce) under a MAC
keyed from the session signing key, so any identity replica can complete a login another
began, and nothing is held per login in memory. Single use is an atomic create of the spent
nonce in a JetStream key-value bucket whose entries outlive the challenges they record.
The signed text binds the challenge to its id and to the account, so a signature made for one
login (or one account) is worth nothing in another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import nats.js.errors
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from nats.js.kv import KeyValue

from hearth_eventlog import StreamSettings
from hearth_eventlog.link import JetStreamLink
from hearth_runtime.errors import HearthError, NotAuthenticated

LOGIN = "login"


class LoginRefused(NotAuthenticated):
    """The login cannot proceed (UNAUTHENTICATED)."""

    reason = "LOGIN_REFUSED"


def login_text(challenge_id: str, challenge: bytes, account_id: str) -> bytes:
    """What a device signs to log in."""
    return f"hearth-login-v1:{account_id}:{challenge_id}:".encode() + challenge


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Sealed:
    """A challenge's record as its id carries it: what it is for, its nonce and expiry."""

    challenge_id: str
    kind: str
    record: dict[str, str]
    nonce: bytes
    expires_at: float


class SealedChallenges:
    """Issues MAC-sealed challenge records and spends each one once, in bucket `bucket`.

    Each record names its `kind` (a device-key login, a passkey registration...), so a
    challenge issued for one ceremony is refused by every other.
    """

    def __init__(
        self,
        mac_key: bytes,
        lifetime: float,
        link: JetStreamLink,
        bucket: str,
        settings: StreamSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.mac_key = mac_key
        self.lifetime = lifetime
        self.clock = clock
        self.link = link
        # A spent nonce needs keeping only while its challenge could still be presented.
        self._spent: KeyValue = link.key_value(bucket, settings, ttl=max(60.0, 2 * lifetime))

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self.mac_key, body.encode(), hashlib.sha256).digest()[:16])

    def seal(self, kind: str, record: dict[str, str]) -> Sealed:
        nonce = secrets.token_bytes(32)
        expires_at = int(self.clock() + self.lifetime)
        whole = {"k": kind, "r": record, "e": expires_at, "n": _b64(nonce)}
        body = _b64(json.dumps(whole, separators=(",", ":")).encode())
        return Sealed(f"{body}.{self._mac(body)}", kind, record, nonce, expires_at)

    def open(self, challenge_id: str, kind: str, refused: Callable[[str], HearthError]) -> Sealed:
        """The record of an unexpired challenge of `kind` that this service sealed (not yet
        spent: that is `spend`'s, once the answer checks)."""
        body, _, mac = challenge_id.partition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(body).encode()):
            raise refused(f"unknown {kind} challenge")
        try:
            whole = json.loads(_unb64(body))
            sealed = Sealed(
                challenge_id,
                str(whole["k"]),
                {str(k): str(v) for k, v in dict(whole["r"]).items()},
                _unb64(whole["n"]),
                float(whole["e"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise refused(f"unknown {kind} challenge") from None
        if sealed.kind != kind:
            raise refused(f"unknown {kind} challenge (it is for a {sealed.kind})")
        if self.clock() > sealed.expires_at:
            raise refused(f"the {kind} challenge has expired")
        return sealed

    def spend(self, sealed: Sealed, refused: Callable[[str], HearthError]) -> None:
        key = hashlib.sha256(sealed.nonce).hexdigest()

        async def create() -> bool:
            try:
                await self._spent.create(key, b"1")
            except nats.js.errors.KeyWrongLastSequenceError:
                return False
            return True

        if not self.link.run(create()):
            raise refused(f"the {sealed.kind} challenge was already used")


@dataclass(frozen=True)
class Challenge:
    challenge_id: str
    challenge: bytes
    account_id: str
    device_public_key: bytes
    expires_at: float


class LoginChallenges(SealedChallenges):
    """Device-key logins: the device signs `login_text` over a sealed challenge."""

    def begin(self, account_id: str, device_public_key: bytes) -> Challenge:
        sealed = self.seal(LOGIN, {"a": account_id, "d": device_public_key.hex()})
        return self._challenge(sealed)

    def _challenge(self, sealed: Sealed) -> Challenge:
        try:
            key = bytes.fromhex(sealed.record["d"])
            return Challenge(
                sealed.challenge_id, sealed.nonce, sealed.record["a"], key, sealed.expires_at
            )
        except (KeyError, ValueError):
            raise LoginRefused("unknown login challenge") from None

    def complete(self, challenge_id: str, signature: bytes) -> Challenge:
        """The challenge, once its device's signature checks and it was never used before."""
        sealed = self.open(challenge_id, LOGIN, LoginRefused)
        challenge = self._challenge(sealed)
        text = login_text(challenge.challenge_id, challenge.challenge, challenge.account_id)
        try:
            VerifyKey(challenge.device_public_key).verify(text, signature)
        except (BadSignatureError, ValueError):
            raise LoginRefused("login signature is not by this account's device") from None
        self.spend(sealed, LoginRefused)
        return challenge
