"""Per-subject keys: personal data in events is sealed under its subject's key, kept in a
JetStream key-value bucket, so erasure is destroying one key while the log stays append-only.
"""

from __future__ import annotations

import contextlib

import nats.js.errors
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from nacl.utils import random
from nats.js.kv import KeyValue

from hearth_eventlog import StreamSettings
from hearth_eventlog.link import JetStreamLink


class SubjectKeyError(Exception):
    """A stored subject key cannot be opened: the wrapping key is not the one it was made with."""


class SubjectKeys:
    """One XSalsa20-Poly1305 key per subject (an account id) in bucket `bucket`.

    With a wrapping key (from configuration, e.g. a Kubernetes Secret), each stored key is
    itself sealed under it, so read access to NATS alone opens no personal data.
    """

    def __init__(
        self,
        link: JetStreamLink,
        bucket: str,
        settings: StreamSettings,
        *,
        wrapping_key: bytes | None = None,
    ) -> None:
        self.link = link
        self.bucket = bucket
        self._wrap = SecretBox(wrapping_key) if wrapping_key else None
        self._kv: KeyValue = link.key_value(bucket, settings)

    def _get(self, subject: str) -> bytes | None:
        async def get() -> bytes | None:
            try:
                entry = await self._kv.get(subject)
            except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
                return None
            return entry.value or None

        stored = self.link.run(get())
        if stored is None or self._wrap is None:
            return stored
        try:
            return bytes(self._wrap.decrypt(stored))
        except CryptoError:
            raise SubjectKeyError(
                f"the subject key of {subject} does not open with the configured wrapping key"
            ) from None

    def key_for(self, subject: str) -> bytes:
        """The subject's key, created on first use; racing creators agree on one key."""
        existing = self._get(subject)
        if existing is not None:
            return existing
        fresh = random(SecretBox.KEY_SIZE)
        stored = bytes(self._wrap.encrypt(fresh)) if self._wrap else fresh

        async def create() -> None:
            # Another writer may have created it first: then theirs is the one.
            with contextlib.suppress(nats.js.errors.KeyWrongLastSequenceError):
                await self._kv.create(subject, stored)

        self.link.run(create())
        chosen = self._get(subject)
        assert chosen is not None
        return chosen

    def seal(self, subject: str, plaintext: bytes) -> bytes:
        return bytes(SecretBox(self.key_for(subject)).encrypt(plaintext))

    def open(self, subject: str, sealed: bytes) -> bytes | None:
        """The plaintext, or None once the subject's key is destroyed."""
        key = self._get(subject)
        if key is None or not sealed:
            return None
        try:
            return bytes(SecretBox(key).decrypt(sealed))
        except CryptoError:
            return None

    def holds(self, subject: str) -> bool:
        return self._get(subject) is not None

    def destroy(self, subject: str) -> None:
        """Purge the key and every earlier revision of it (a roll-up), idempotently."""
        self.link.run(self._kv.purge(subject))
