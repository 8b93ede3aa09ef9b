"""Age assurance, pure domain: bands, methods, verification sessions, issuer keys, attestations.

A verification session records how a band was decided, never the evidence (no birth date,
document or image) and never the account: its id comes from a capability only the client
holds. A redemption records the account's band in an `Attestation`, which cannot be tied back
to the session whose tokens were redeemed.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from hearth_crypto.age_band import AgeBand
from hearth_eventlog.published import aggregate_name, published, register_aliases
from hearth_proto.hearth.age.v1 import events_pb2
from hearth_runtime.errors import Conflict

NAMESPACE = uuid.UUID("0c7d8a41-5f0e-4b9b-9a43-2d1de5b8e6a7")


class MethodClass(enum.IntEnum):
    """Mirrors `hearth.age.v1.MethodClass`."""

    DOCUMENT = 1
    ESTIMATION = 2
    VOUCHING = 3

    @property
    def assurance_level(self) -> AssuranceLevel:
        """Fixed per method, so a token's issuer key (per band and method) carries it."""
        return {
            MethodClass.DOCUMENT: AssuranceLevel.ENHANCED,
            MethodClass.ESTIMATION: AssuranceLevel.STANDARD,
            MethodClass.VOUCHING: AssuranceLevel.BASIC,
        }[self]


class AssuranceLevel(enum.IntEnum):
    """Mirrors `hearth.age.v1.AssuranceLevel`."""

    BASIC = 1
    STANDARD = 2
    ENHANCED = 3
    STRICT = 4


class WrongMethod(Conflict):
    """Evidence of another method than the session was opened for."""

    reason = "WRONG_METHOD"


class AlreadyDecided(Conflict):
    """A session decides once; new evidence needs a new session."""

    reason = "ALREADY_DECIDED"


class NotDecided(Conflict):
    """Tokens are only issued for a session that has decided a band."""

    reason = "NOT_DECIDED"


class AlreadyIssued(Conflict):
    """A session issues one batch; only an identical retry gets the signatures again."""

    reason = "ALREADY_ISSUED"


def session_id_for(capability: bytes) -> uuid.UUID:
    """The aggregate id of a session: a hash of its capability, so the log cannot act for it."""
    return uuid.UUID(bytes=hashlib.sha256(b"hearth/age/session/v1" + capability).digest()[:16])


@aggregate_name("age.VerificationSession")
class VerificationSession(Aggregate):
    """One attempt to decide an age band by one method."""

    @published(events_pb2.VerificationStarted)
    class Started(Aggregate.Created):
        method_class: MethodClass
        subject_tag: bytes

    @classmethod
    def open(
        cls, capability: bytes, method_class: MethodClass, subject_tag: bytes = b""
    ) -> VerificationSession:
        return cls._create(
            cls.Started,
            id=session_id_for(capability),
            method_class=method_class,
            subject_tag=subject_tag,
        )

    @event(Started)
    def __init__(self, method_class: MethodClass, subject_tag: bytes) -> None:
        self.method_class = method_class
        self.subject_tag = subject_tag
        self.band: AgeBand | None = None
        self.assurance_level: AssuranceLevel | None = None
        self.issued_digest: bytes | None = None

    # Non-created events apply themselves (`apply`) rather than through `@event`-decorated
    # methods: hearth_eventlog's mapper rebuilds a published event as the aggregate's event
    # class, which is not the subclass that calls a decorated method.

    @published(events_pb2.VerificationDecided)
    class Decided(Aggregate.Event):
        band: AgeBand
        method_class: MethodClass
        assurance_level: AssuranceLevel
        verifier: str
        voucher_account_id: str
        voucher_role: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, VerificationSession)
            aggregate.band = self.band
            aggregate.assurance_level = self.assurance_level

    def decide(
        self,
        band: AgeBand,
        method_class: MethodClass,
        verifier: str,
        voucher_account_id: str = "",
        voucher_role: str = "",
    ) -> None:
        if method_class != self.method_class:
            raise WrongMethod(
                f"this session is for {self.method_class.name.lower()}, "
                f"not {method_class.name.lower()}"
            )
        if self.band is not None:
            raise AlreadyDecided("this session has already decided; start a new one")
        self.trigger_event(
            self.Decided,
            band=band,
            method_class=method_class,
            assurance_level=method_class.assurance_level,
            verifier=verifier,
            voucher_account_id=voucher_account_id,
            voucher_role=voucher_role,
        )

    @published(events_pb2.TokensIssued)
    class Issued(Aggregate.Event):
        key_id: bytes
        epoch: str
        count: int
        request_digest: bytes

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, VerificationSession)
            aggregate.issued_digest = self.request_digest

    def check_issuable(self, request_digest: bytes) -> bool:
        """True when this exact batch was already issued (a retry): sign again, record nothing."""
        if self.band is None:
            raise NotDecided("this session has not decided a band yet")
        if self.issued_digest is None:
            return False
        if self.issued_digest == request_digest:
            return True
        raise AlreadyIssued("this session has already issued its batch of tokens")

    def issue(self, key_id: bytes, epoch: str, count: int, request_digest: bytes) -> None:
        self.trigger_event(
            self.Issued, key_id=key_id, epoch=epoch, count=count, request_digest=request_digest
        )


@aggregate_name("age.VoucherStanding")
class VoucherStanding(Aggregate):
    """What identity's events say about an account as a voucher: vetted, guardian of whom.

    Kept from identity's published PractitionerVetted and GuardianLinked events (this service
    follows identity's stream), so a vouch is checked without asking identity.
    """

    @staticmethod
    def create_id(account_id: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"voucher:{account_id}")

    @published(events_pb2.VoucherNoted)
    class Noted(Aggregate.Created):
        account_id: str

    @event(Noted)
    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.vetted_in: set[str] = set()
        self.children: set[str] = set()

    @published(events_pb2.VoucherVetted)
    class Vetted(Aggregate.Event):
        organisation_id: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, VoucherStanding)
            aggregate.vetted_in.add(self.organisation_id)

    @published(events_pb2.VoucherGuardianOf)
    class GuardianOf(Aggregate.Event):
        child_account_id: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, VoucherStanding)
            aggregate.children.add(self.child_account_id)

    def note_vetting(self, organisation_id: str) -> None:
        if organisation_id not in self.vetted_in:
            self.trigger_event(self.Vetted, organisation_id=organisation_id)

    def note_guardian_of(self, child_account_id: str) -> None:
        if child_account_id not in self.children:
            self.trigger_event(self.GuardianOf, child_account_id=child_account_id)


@aggregate_name("age.IssuerKeyRecord")
class IssuerKeyRecord(Aggregate):
    """A published issuer public key: one per band, method class and epoch."""

    @staticmethod
    def create_id(key_id: bytes) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"issuer-key:{key_id.hex()}")

    @published(events_pb2.IssuerKeyPublished)
    class Published(Aggregate.Created):
        band: AgeBand
        epoch: str
        key_id: bytes
        public_key_der: bytes
        not_after: datetime
        method_class: MethodClass
        assurance_level: AssuranceLevel

    @event(Published)
    def __init__(
        self,
        band: AgeBand,
        epoch: str,
        key_id: bytes,
        public_key_der: bytes,
        not_after: datetime,
        method_class: MethodClass,
        assurance_level: AssuranceLevel,
    ) -> None:
        self.key_id = key_id


@aggregate_name("age.Attestation")
class Attestation(Aggregate):
    """A redeemed token: the account is in `band` until `expires_at`."""

    @staticmethod
    def id_for(account_id: str, request_id: str) -> uuid.UUID:
        """From the account and its request id, so a retried redemption finds its result."""
        return uuid.uuid5(NAMESPACE, f"attestation:{account_id}:{request_id}")

    @classmethod
    def record(
        cls,
        request_id: str,
        account_id: str,
        band: AgeBand,
        method_class: MethodClass,
        epoch: str,
        expires_at: datetime,
    ) -> Attestation:
        return cls._create(
            cls.Attested,
            id=cls.id_for(account_id, request_id),
            account_id=account_id,
            band=band,
            method_class=method_class,
            assurance_level=method_class.assurance_level,
            epoch=epoch,
            expires_at=expires_at,
        )

    @published(events_pb2.AgeBandAttested)
    class Attested(Aggregate.Created):
        account_id: str
        band: AgeBand
        method_class: MethodClass
        assurance_level: AssuranceLevel
        epoch: str
        expires_at: datetime

    @event(Attested)
    def __init__(
        self,
        account_id: str,
        band: AgeBand,
        method_class: MethodClass,
        assurance_level: AssuranceLevel,
        epoch: str,
        expires_at: datetime,
    ) -> None:
        self.account_id = account_id
        self.band = band
        self.method_class = method_class
        self.assurance_level = assurance_level
        self.epoch = epoch
        self.expires_at = expires_at


# Topics these events were stored under before they had schemas (eventsourcing's module:Class).
register_aliases(
    {
        "hearth_age.domain:VoucherStanding.Noted": events_pb2.VoucherNoted,
        "hearth_age.domain:VoucherStanding.Vetted": events_pb2.VoucherVetted,
        "hearth_age.domain:VoucherStanding.GuardianOf": events_pb2.VoucherGuardianOf,
    }
)
