"""The age service's commands: verify, issue blind-signed tokens (redemption: `redemption`)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.persistence import IntegrityError

from hearth_crypto import blind_rsa
from hearth_crypto.age_band import AgeBand
from hearth_eventlog import NatsFactory, TracedNotification
from hearth_eventlog.published import decode_published
from hearth_proto.hearth.identity.v1 import events_pb2 as identity_events
from hearth_runtime.application import retrying
from hearth_runtime.revocation import REVOKING_TOPICS

from .domain import (
    AlreadyDecided,
    AssuranceLevel,
    IssuerKeyRecord,
    MethodClass,
    VerificationSession,
    VoucherStanding,
    WrongMethod,
    session_id_for,
)
from .errors import (
    BatchTooLarge,
    ExpiredEpoch,
    InvalidRequest,
    NotVouchable,
    SessionNotFound,
    WrongBand,
)
from .keys import IssuerKeyEntry, Keyring
from .redemption import Challenges, Redemption, SpentTokens
from .verifiers import AgeEstimator, DocumentVerifier, EstimationPolicy

VETTED = identity_events.PractitionerVetted.DESCRIPTOR.full_name
LINKED = identity_events.GuardianLinked.DESCRIPTOR.full_name
CAPABILITY_BYTES = 32


@dataclass(frozen=True)
class Decision:
    band: AgeBand
    method_class: MethodClass

    @property
    def assurance_level(self) -> AssuranceLevel:
        return self.method_class.assurance_level


@dataclass(frozen=True)
class AgeSettings:
    max_batch: int
    estimation_buffer: float


class AgeAssurance(Redemption):
    """Age assurance; it follows identity's stream to know who may vouch for whom."""

    name = "age"
    # From identity: who may vouch, and whose sessions to stop honouring.
    topics: ClassVar[frozenset[str] | None] = frozenset({VETTED, LINKED}) | REVOKING_TOPICS

    def __init__(
        self,
        *,
        keyring: Keyring,
        secret: bytes,
        documents: DocumentVerifier,
        estimator: AgeEstimator,
        settings: AgeSettings,
        env: dict[str, str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(env=env)
        self.keyring = keyring
        self.secret = secret
        self.documents = documents
        self.estimator = estimator
        self.estimation = EstimationPolicy(settings.estimation_buffer)
        self.max_batch = settings.max_batch
        self.clock = clock
        self.challenges = Challenges(secret, clock)
        self._published: set[bytes] = set()  # key ids known to be recorded as published
        assert isinstance(self.factory, NatsFactory)
        self.spent = SpentTokens(
            self.factory,
            f"{self.factory.settings.stream}_SPENT",
            ttl=2.0 * keyring.epochs.seconds,  # a spent token of an ended epoch is refused anyway
        )

    # Issuer keys.

    def publish_current_keys(self) -> list[IssuerKeyEntry]:
        """Make sure every current key exists and is recorded as published; return them."""
        entries = self.keyring.all_current(self.clock())
        for entry in entries:
            if entry.key_id in self._published:
                continue
            record_id = IssuerKeyRecord.create_id(entry.key_id)
            try:
                self.repository.get(record_id)
                self._published.add(entry.key_id)
                continue
            except AggregateNotFoundError:
                pass
            record = IssuerKeyRecord(
                band=entry.band,
                epoch=str(entry.epoch),
                key_id=entry.key_id,
                public_key_der=entry.public_der,
                not_after=entry.not_after,
                method_class=entry.method_class,
                assurance_level=entry.assurance_level,
            )
            with contextlib.suppress(IntegrityError):  # another replica published it first
                self.save(record)
            self._published.add(entry.key_id)
        return entries

    # Verification.

    def start_verification(self, account_id: str, request_id: str, method: MethodClass) -> bytes:
        """Open a session; its capability is derived, so a retry gets the same one back, and
        only the client learns it (the log holds its hash, never the account)."""
        capability = hmac.new(
            self.secret, f"verification\0{account_id}\0{request_id}".encode(), "sha256"
        ).digest()
        subject_tag = self._subject_tag(account_id) if method == MethodClass.VOUCHING else b""
        try:
            self.repository.get(session_id_for(capability))
        except AggregateNotFoundError:
            with contextlib.suppress(IntegrityError):  # a concurrent retry opened it
                self.save(VerificationSession.open(capability, method, subject_tag))
        return capability

    def _subject_tag(self, account_id: str) -> bytes:
        return hmac.new(self.secret, f"subject\0{account_id}".encode(), "sha256").digest()[:16]

    def _session(self, capability: bytes) -> VerificationSession:
        if len(capability) != CAPABILITY_BYTES:
            raise SessionNotFound("no verification session has this id")
        try:
            session: VerificationSession = self.repository.get(session_id_for(capability))
        except AggregateNotFoundError:
            raise SessionNotFound("no verification session has this id") from None
        return session

    def _decide(
        self,
        session: VerificationSession,
        decision: Decision,
        verifier: str,
        voucher_account_id: str = "",
        voucher_role: str = "",
    ) -> Decision:
        session.decide(
            decision.band, decision.method_class, verifier, voucher_account_id, voucher_role
        )
        self.save(session)
        return decision

    def submit_document(self, capability: bytes, document: bytes, signature: bytes) -> Decision:
        return retrying(lambda: self._submit_document(capability, document, signature))

    def _submit_document(self, capability: bytes, document: bytes, signature: bytes) -> Decision:
        session = self._session(capability)
        self._check_open(session, MethodClass.DOCUMENT)
        today = datetime.fromtimestamp(self.clock(), UTC).date()
        band = self.documents.verify(document, signature, today)
        return self._decide(session, Decision(band, MethodClass.DOCUMENT), self.documents.name)

    def submit_face_image(self, capability: bytes, image: bytes) -> Decision:
        return retrying(lambda: self._submit_face_image(capability, image))

    def _submit_face_image(self, capability: bytes, image: bytes) -> Decision:
        session = self._session(capability)
        self._check_open(session, MethodClass.ESTIMATION)
        band = self.estimation.band(self.estimator.estimate(image))
        return self._decide(session, Decision(band, MethodClass.ESTIMATION), self.estimator.name)

    def vouch(
        self,
        capability: bytes,
        band: AgeBand,
        subject_account_id: str,
        voucher_id: str,
        voucher_roles: frozenset[str],
    ) -> Decision:
        """A vetted practitioner, or a linked guardian, vouches for the account that opened the
        session; both facts come from identity's published events."""
        return retrying(
            lambda: self._vouch(capability, band, subject_account_id, voucher_id, voucher_roles)
        )

    def _vouch(
        self,
        capability: bytes,
        band: AgeBand,
        subject_account_id: str,
        voucher_id: str,
        voucher_roles: frozenset[str],
    ) -> Decision:
        session = self._session(capability)
        self._check_open(session, MethodClass.VOUCHING)
        if not hmac.compare_digest(session.subject_tag, self._subject_tag(subject_account_id)):
            raise NotVouchable("this verification session was not opened by that account")
        if voucher_id == subject_account_id:
            raise NotVouchable("nobody vouches for themselves")
        standing = self.voucher_standing(voucher_id)
        if "practitioner" in voucher_roles and standing is not None and standing.vetted_in:
            voucher_role = "practitioner"
        elif (
            "guardian" in voucher_roles
            and standing is not None
            and subject_account_id in standing.children
        ):
            voucher_role = "guardian"
        else:
            raise NotVouchable(
                "the voucher is neither a vetted practitioner nor a linked guardian of that "
                "account (as identity has recorded)"
            )
        return self._decide(
            session,
            Decision(band, MethodClass.VOUCHING),
            f"vouching/{voucher_role}",
            voucher_account_id=voucher_id,
            voucher_role=voucher_role,
        )

    def voucher_standing(self, account_id: str) -> VoucherStanding | None:
        try:
            standing: VoucherStanding = self.repository.get(VoucherStanding.create_id(account_id))
        except AggregateNotFoundError:
            return None
        return standing

    def policy(
        self, upstream: str, notification: TracedNotification, processing: ProcessingEvent[UUID]
    ) -> None:
        """Identity's vetting and guardian links, kept as who may vouch for whom."""
        if notification.topic not in (VETTED, LINKED):
            return
        fact = decode_published(notification.topic, notification.state)
        if isinstance(fact, identity_events.PractitionerVetted):
            standing = self._standing_for(fact.account_id)
            standing.note_vetting(fact.organisation_id)
        elif isinstance(fact, identity_events.GuardianLinked):
            standing = self._standing_for(fact.guardian_account_id)
            standing.note_guardian_of(fact.child_account_id)
        else:
            return
        processing.collect_events(standing)

    def _standing_for(self, account_id: str) -> VoucherStanding:
        return self.voucher_standing(account_id) or VoucherStanding(account_id)

    @staticmethod
    def _check_open(session: VerificationSession, method: MethodClass) -> None:
        """Refuse before reading any evidence: a decided or other-method session takes none."""
        if session.band is not None:
            raise AlreadyDecided("this session has already decided; start a new one")
        if session.method_class != method:
            raise WrongMethod(
                f"this session is for {session.method_class.name.lower()}, "
                f"not {method.name.lower()}"
            )

    # Issuance.

    def issue_tokens(
        self, capability: bytes, key_id: bytes, blinded_messages: Sequence[bytes]
    ) -> tuple[list[bytes], IssuerKeyEntry]:
        return retrying(lambda: self._issue_tokens(capability, key_id, blinded_messages))

    def _issue_tokens(
        self, capability: bytes, key_id: bytes, blinded_messages: Sequence[bytes]
    ) -> tuple[list[bytes], IssuerKeyEntry]:
        if not blinded_messages:
            raise InvalidRequest("blinded_messages is empty")
        if len(blinded_messages) > self.max_batch:
            raise BatchTooLarge(
                f"{len(blinded_messages)} tokens asked for; at most {self.max_batch} per session"
            )
        session = self._session(capability)
        entry = self.keyring.by_id(key_id)
        if entry is None:
            raise InvalidRequest("key_id names no issuer key; see GetIssuerKeys")
        digest = hashlib.sha256(
            b"".join(struct.pack(">I", len(m)) + m for m in blinded_messages)
        ).digest()
        retry = session.check_issuable(digest)
        if entry.band != session.band or entry.method_class != session.method_class:
            assert session.band is not None
            raise WrongBand(
                f"this session decided {session.band.name} by "
                f"{session.method_class.name.lower()}; key_id is for {entry.band.name} by "
                f"{entry.method_class.name.lower()}"
            )
        if entry.epoch != self.keyring.epochs.of(self.clock()):
            raise ExpiredEpoch("key_id is of an epoch that has ended; see GetIssuerKeys")
        try:
            signatures = [entry.key.sign(m) for m in blinded_messages]
        except blind_rsa.MessageOutOfRange:
            raise InvalidRequest(
                "a blinded message is not smaller than the key's modulus"
            ) from None
        except blind_rsa.InvalidInput as e:
            raise InvalidRequest(str(e)) from None
        if not retry:
            session.issue(entry.key_id, str(entry.epoch), len(blinded_messages), digest)
            self.save(session)
        return signatures, entry
