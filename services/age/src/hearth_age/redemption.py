"""Redemption: a challenge bound to the account, then a token spent once, then an attestation.

`Redemption` is the layer of the `AgeAssurance` application that redeems; `Challenges` and
`SpentTokens` are what it keeps (nothing of the first, a key-value bucket for the second).
"""

from __future__ import annotations

import hmac
import secrets
import struct
from collections.abc import Callable
from datetime import UTC, datetime

import nats.js.errors
from eventsourcing.application import AggregateNotFoundError

from hearth_crypto import age_token
from hearth_crypto.age_band import AgeBand
from hearth_eventlog import NatsFactory
from hearth_runtime.application import FollowingApplication

from .domain import Attestation
from .errors import (
    ChallengeRejected,
    ExpiredEpoch,
    ForgedToken,
    InvalidRequest,
    NotTheHolder,
    TokenAlreadySpent,
    WrongBand,
)
from .keys import Keyring

CHALLENGE_LIFETIME = 300  # seconds a redemption challenge stays valid


class Challenges:
    """Stateless redemption challenges: time, randomness and a MAC binding them to the account.

    `time (8) || random (16) || HMAC-SHA256(secret, account || time || random)[:16]`
    """

    def __init__(self, secret: bytes, clock: Callable[[], float]) -> None:
        self.secret = secret
        self.clock = clock

    def _mac(self, account_id: str, head: bytes) -> bytes:
        return hmac.new(self.secret, account_id.encode() + b"\0" + head, "sha256").digest()[:16]

    def issue(self, account_id: str) -> tuple[bytes, datetime]:
        issued = int(self.clock())
        head = struct.pack(">Q", issued) + secrets.token_bytes(16)
        expires = datetime.fromtimestamp(issued + CHALLENGE_LIFETIME, UTC)
        return head + self._mac(account_id, head), expires

    def check(self, account_id: str, challenge: bytes) -> None:
        if len(challenge) != 40:
            raise ChallengeRejected("challenge must be the 40 bytes GetRedemptionChallenge gave")
        head, mac = challenge[:24], challenge[24:]
        if not hmac.compare_digest(mac, self._mac(account_id, head)):
            raise ChallengeRejected("challenge was not issued to this account")
        (issued,) = struct.unpack(">Q", head[:8])
        if self.clock() > issued + CHALLENGE_LIFETIME:
            raise ChallengeRejected("challenge has expired; ask for a new one")


class SpentTokens:
    """Spend keys of redeemed tokens in a JetStream key-value bucket: an atomic create refuses
    a second redemption of the same token, across every replica of the service."""

    def __init__(self, factory: NatsFactory, bucket: str, ttl: float) -> None:
        self.link = factory.link
        self.bucket = bucket
        self.kv = self.link.key_value(bucket, factory.settings, ttl=ttl)

    def spend(self, spend_key: str, epoch: str) -> int:
        """Record a token as spent; its revision, or `TokenAlreadySpent`."""
        try:
            revision: int = self.link.run(self.kv.create(spend_key, epoch.encode()))
        except nats.js.errors.KeyWrongLastSequenceError:
            raise TokenAlreadySpent("this token has already been redeemed") from None
        return revision

    def unspend(self, spend_key: str, revision: int) -> None:
        """Undo a spend whose attestation could not be recorded, so the token is not lost."""
        self.link.run(self.kv.delete(spend_key, last=revision))


class Redemption(FollowingApplication):
    keyring: Keyring
    clock: Callable[[], float]
    challenges: Challenges
    spent: SpentTokens

    def redemption_challenge(self, account_id: str) -> tuple[bytes, datetime]:
        return self.challenges.issue(account_id)

    def redeem(
        self,
        account_id: str,
        request_id: str,
        band: AgeBand,
        challenge: bytes,
        presentation: age_token.TokenPresentation,
    ) -> Attestation:
        self.challenges.check(account_id, challenge)
        try:
            message = age_token.TokenMessage.parse(presentation.message)
        except age_token.MalformedToken as e:
            raise InvalidRequest(str(e)) from None
        entry = self.keyring.by_id(message.key_id)
        if entry is None:
            raise ForgedToken("token names no issuer key of this service")
        try:
            verified = age_token.verify_presentation(presentation, entry.key.public, challenge)
        except age_token.InvalidTokenSignature as e:
            raise ForgedToken(str(e)) from None
        except age_token.HolderProofInvalid as e:
            raise NotTheHolder(str(e)) from None
        except age_token.AgeTokenError as e:
            raise InvalidRequest(str(e)) from None
        if entry.epoch != self.keyring.epochs.of(self.clock()):
            raise ExpiredEpoch(
                f"token's epoch ended at {entry.not_after.isoformat()}; verify again"
            )
        if entry.band != band:
            raise WrongBand(f"token is for band {entry.band.name}, not {band.name}")
        epoch = str(entry.epoch)
        try:
            revision = self.spent.spend(verified.spend_key, epoch)
        except TokenAlreadySpent:
            # A retry of this very redemption gets its result; anyone else is refused. Looked
            # up only here, so a first redemption costs no read.
            try:
                done: Attestation = self.repository.get(Attestation.id_for(account_id, request_id))
            except AggregateNotFoundError:
                raise TokenAlreadySpent("this token has already been redeemed") from None
            return done
        attestation = Attestation.record(
            request_id, account_id, entry.band, entry.method_class, epoch, entry.not_after
        )
        try:
            self.save(attestation)
        except BaseException:
            self.spent.unspend(verified.spend_key, revision)
            raise
        return attestation
