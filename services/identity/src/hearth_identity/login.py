"""Login by device key: a single-use, short-lived challenge that the device signs.

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
from hearth_runtime.errors import NotAuthenticated


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
class Challenge:
    challenge_id: str
    challenge: bytes
    account_id: str
    device_public_key: bytes
    expires_at: float


class LoginChallenges:
    """Issues MAC-sealed challenges and spends each one once, in bucket `bucket`."""

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

    def begin(self, account_id: str, device_public_key: bytes) -> Challenge:
        nonce = secrets.token_bytes(32)
        expires_at = int(self.clock() + self.lifetime)
        record = {"a": account_id, "d": device_public_key.hex(), "e": expires_at}
        body = _b64(json.dumps({**record, "n": _b64(nonce)}, separators=(",", ":")).encode())
        return Challenge(
            challenge_id=f"{body}.{self._mac(body)}",
            challenge=nonce,
            account_id=account_id,
            device_public_key=device_public_key,
            expires_at=expires_at,
        )

    def _read(self, challenge_id: str) -> Challenge:
        body, _, mac = challenge_id.partition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(body).encode()):
            raise LoginRefused("unknown login challenge")
        try:
            record = json.loads(_unb64(body))
            return Challenge(
                challenge_id=challenge_id,
                challenge=_unb64(record["n"]),
                account_id=str(record["a"]),
                device_public_key=bytes.fromhex(record["d"]),
                expires_at=float(record["e"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise LoginRefused("unknown login challenge") from None

    def complete(self, challenge_id: str, signature: bytes) -> Challenge:
        """The challenge, once its device's signature checks and it was never used before."""
        challenge = self._read(challenge_id)
        if self.clock() > challenge.expires_at:
            raise LoginRefused("login challenge has expired")
        text = login_text(challenge.challenge_id, challenge.challenge, challenge.account_id)
        try:
            VerifyKey(challenge.device_public_key).verify(text, signature)
        except (BadSignatureError, ValueError):
            raise LoginRefused("login signature is not by this account's device") from None
        self._spend(challenge.challenge)
        return challenge

    def _spend(self, nonce: bytes) -> None:
        key = hashlib.sha256(nonce).hexdigest()

        async def create() -> bool:
            try:
                await self._spent.create(key, b"1")
            except nats.js.errors.KeyWrongLastSequenceError:
                return False
            return True

        if not self.link.run(create()):
            raise LoginRefused("login challenge was already used")
