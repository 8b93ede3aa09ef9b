"""Accounts, organisations and guardian links: who is on the platform and who vouches for whom.

Pure domain: no I/O. Personal data reaches these aggregates already sealed under the
subject's key, so an event never holds a name or contact detail in the clear. Events after
creation are explicit classes with their own `apply`, so an aggregate rebuilt from its stored
(protobuf) events is the one that was saved.

Over 400 lines because each aggregate's explicit event classes live beside it, and the
aggregates share the role and band vocabulary. (The passkey aggregate lives with its WebAuthn
checks, in `passkeys`.)
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from hearth_crypto.age_band import AgeBand
from hearth_eventlog.published import aggregate_name, published
from hearth_proto.hearth.identity.v1 import events_pb2
from hearth_runtime.errors import Conflict, Exhausted, NotFound, Refused


class Role(enum.IntEnum):
    """Mirrors `hearth.identity.v1.Role`."""

    CHILD = 1
    YOUNG_PERSON = 2
    GUARDIAN = 3
    PRACTITIONER = 4
    MODERATOR = 5
    SAFEGUARDING_LEAD = 6
    AUDITOR = 7
    ORG_ADMIN = 8
    DATA_PROTECTION_OFFICER = 9
    RECORD_KEEPER = 10

    @property
    def label(self) -> str:
        return self.name.lower()


CHILD_ROLES = frozenset({Role.CHILD, Role.YOUNG_PERSON})
# Device keys and passkeys together.
MAX_DEVICES = 16


class TooManyDevices(Exhausted):
    reason = "TOO_MANY_DEVICES"


# With no band attested, an account is treated as the youngest it could be.
YOUNGEST = AgeBand.UNDER_13

REQUEST_NAMESPACE = uuid.UUID("6f0e3c52-58a4-4b43-8a8f-0b8f7ad5f4a1")


@aggregate_name("identity.Account")
class Account(Aggregate):
    """An account, its devices, band, organisations, acceptances and consents."""

    @staticmethod
    def create_id(request_id: str) -> uuid.UUID:
        """Derived from the client's request id, so a retried registration finds its account."""
        return uuid.uuid5(REQUEST_NAMESPACE, request_id)

    @published(events_pb2.AccountRegistered)
    class Registered(Aggregate.Created):
        role: Role
        device_public_key: bytes
        request_id: str

    @event(Registered)
    def __init__(self, role: Role, device_public_key: bytes, request_id: str) -> None:
        self.role = role
        # No device key when the first device is a passkey (an enrolment from the console).
        self.device_keys = [device_public_key] if device_public_key else []
        # Passkeys, device id -> credential id; each one's key and counter is its own aggregate.
        self.passkeys: dict[str, bytes] = {}
        self.request_id = request_id
        self.sealed_personal_data = b""
        self.band = AgeBand.UNSPECIFIED
        self.band_expires_at: datetime | None = None
        self.organisations: list[str] = []
        self.vetted_by: dict[str, tuple[str, datetime]] = {}
        self.house_rules_version = 0
        self.consents: dict[str, bool] = {}
        self.erased = False
        # The safety team's actions in force: action id -> (kind, case id, other account, since).
        self.restrictions: dict[str, tuple[str, str, str, datetime]] = {}

    def effective_band(self, now: datetime) -> AgeBand:
        """The attested band while it lasts; otherwise the youngest band it could be."""
        if self.band and self.band_expires_at is not None and now < self.band_expires_at:
            return self.band
        return YOUNGEST

    def attested_band(self, now: datetime) -> AgeBand:
        if self.band_expires_at is not None and now < self.band_expires_at:
            return self.band
        return AgeBand.UNSPECIFIED

    @property
    def devices(self) -> int:
        """Device keys and passkeys: each is a device of the account."""
        return len(self.device_keys) + len(self.passkeys)

    def ensure_active(self) -> None:
        if self.erased:
            raise Conflict(f"account {self.id} is erased", reason="ACCOUNT_ERASED")

    @published(events_pb2.PersonalDataRecorded)
    class PersonalDataRecorded(Aggregate.Event):
        sealed: bytes

        def apply(self, aggregate: Aggregate) -> None:
            _account(aggregate).sealed_personal_data = self.sealed

    def record_personal_data(self, sealed: bytes) -> None:
        self.trigger_event(self.PersonalDataRecorded, sealed=sealed)

    def add_device(self, device_public_key: bytes) -> None:
        self.ensure_active()
        if device_public_key in self.device_keys:
            return
        self.trigger_event(self.DeviceAdded, device_public_key=device_public_key)

    @published(events_pb2.DeviceAdded)
    class DeviceAdded(Aggregate.Event):
        device_public_key: bytes

        def apply(self, aggregate: Aggregate) -> None:
            _account(aggregate).device_keys.append(self.device_public_key)

    def remove_device(self, device_public_key: bytes) -> None:
        self.ensure_active()
        if device_public_key not in self.device_keys:
            raise NotFound("no such device on this account", reason="DEVICE_NOT_FOUND")
        if self.devices == 1:
            raise Conflict(
                "the last device cannot be removed; erase the account instead",
                reason="LAST_DEVICE",
            )
        self.trigger_event(self.DeviceRemoved, device_public_key=device_public_key)

    @published(events_pb2.DeviceRemoved)
    class DeviceRemoved(Aggregate.Event):
        device_public_key: bytes

        def apply(self, aggregate: Aggregate) -> None:
            _account(aggregate).device_keys.remove(self.device_public_key)

    def add_passkey(self, device_id: str, credential_id: bytes) -> None:
        self.ensure_active()
        if device_id not in self.passkeys:
            self.trigger_event(
                self.PasskeyAdded,
                account_id=str(self.id),
                device_id=device_id,
                credential_id=credential_id,
            )

    @published(events_pb2.PasskeyAdded)
    class PasskeyAdded(Aggregate.Event):
        account_id: str
        device_id: str
        credential_id: bytes

        def apply(self, aggregate: Aggregate) -> None:
            _account(aggregate).passkeys[self.device_id] = self.credential_id

    @published(events_pb2.AccountAgeBandSet)
    class AgeBandSet(Aggregate.Event):
        account_id: str
        band: AgeBand
        expires_at: datetime

        def apply(self, aggregate: Aggregate) -> None:
            account = _account(aggregate)
            account.band = self.band
            account.band_expires_at = self.expires_at

    def set_age_band(self, band: AgeBand, expires_at: datetime) -> None:
        self.trigger_event(
            self.AgeBandSet, account_id=str(self.id), band=band, expires_at=expires_at
        )

    def join(self, organisation_id: str, added_by: str) -> None:
        self.ensure_active()
        if organisation_id not in self.organisations:
            self.trigger_event(
                self.MemberAdded,
                organisation_id=organisation_id,
                account_id=str(self.id),
                added_by=added_by,
            )

    @published(events_pb2.OrganisationMemberAdded)
    class MemberAdded(Aggregate.Event):
        organisation_id: str
        account_id: str
        added_by: str

        def apply(self, aggregate: Aggregate) -> None:
            _account(aggregate).organisations.append(self.organisation_id)

    def vet(self, organisation_id: str, vetted_by: str) -> None:
        """An org admin vouches for a practitioner of their organisation."""
        self.ensure_active()
        if self.role != Role.PRACTITIONER:
            raise Conflict("only a practitioner is vetted")
        if organisation_id not in self.organisations:
            raise Conflict("the practitioner is not a member of this organisation")
        if organisation_id not in self.vetted_by:
            self.trigger_event(
                self.Vetted,
                organisation_id=organisation_id,
                account_id=str(self.id),
                vetted_by=vetted_by,
            )

    @published(events_pb2.PractitionerVetted)
    class Vetted(Aggregate.Event):
        organisation_id: str
        account_id: str
        vetted_by: str

        def apply(self, aggregate: Aggregate) -> None:
            # Who vetted and when: the event's own timestamp is the "when".
            _account(aggregate).vetted_by[self.organisation_id] = (self.vetted_by, self.timestamp)

    def accept_house_rules(self, version: int, in_force: int) -> None:
        self.ensure_active()
        if version != in_force:
            raise Conflict(
                f"the house rules in force are version {in_force}, not {version}",
                reason="HOUSE_RULES_VERSION",
            )
        if self.house_rules_version != version:
            self.trigger_event(self.HouseRulesAccepted, account_id=str(self.id), version=version)

    @published(events_pb2.HouseRulesAccepted)
    class HouseRulesAccepted(Aggregate.Event):
        account_id: str
        version: int

        def apply(self, aggregate: Aggregate) -> None:
            _account(aggregate).house_rules_version = self.version

    def consent(self, purpose: str, granted: bool) -> None:
        self.ensure_active()
        if self.consents.get(purpose) != granted:
            self.trigger_event(
                self.ConsentRecorded, account_id=str(self.id), purpose=purpose, granted=granted
            )

    @published(events_pb2.ConsentRecorded)
    class ConsentRecorded(Aggregate.Event):
        account_id: str
        purpose: str
        granted: bool

        def apply(self, aggregate: Aggregate) -> None:
            _account(aggregate).consents[self.purpose] = self.granted

    def erase(self, requested_by: str) -> None:
        if not self.erased:
            self.trigger_event(self.Erased, account_id=str(self.id), requested_by=requested_by)

    @published(events_pb2.AccountErased)
    class Erased(Aggregate.Event):
        account_id: str
        requested_by: str

        def apply(self, aggregate: Aggregate) -> None:
            account = _account(aggregate)
            account.erased = True
            account.sealed_personal_data = b""

    @published(events_pb2.AccountRestrictionNoted)
    class RestrictionNoted(Aggregate.Event):
        action_id: str
        kind: str
        case_id: str
        other_account_id: str
        since: datetime

        def apply(self, aggregate: Aggregate) -> None:
            _account(aggregate).restrictions[self.action_id] = (
                self.kind,
                self.case_id,
                self.other_account_id,
                self.since,
            )

    @published(events_pb2.AccountRestrictionLifted)
    class RestrictionLifted(Aggregate.Event):
        action_id: str

        def apply(self, aggregate: Aggregate) -> None:
            _account(aggregate).restrictions.pop(self.action_id, None)

    def note_restriction(
        self, action_id: str, kind: str, case_id: str, other_account_id: str, since: datetime
    ) -> None:
        """A safety action in force on the account (followed, so never refused)."""
        if action_id not in self.restrictions:
            self.trigger_event(
                self.RestrictionNoted,
                action_id=action_id,
                kind=kind,
                case_id=case_id,
                other_account_id=other_account_id,
                since=since,
            )

    def lift_restriction(self, action_id: str) -> None:
        if action_id in self.restrictions:
            self.trigger_event(self.RestrictionLifted, action_id=action_id)


def _account(aggregate: Aggregate) -> Account:
    assert isinstance(aggregate, Account)
    return aggregate


@aggregate_name("identity.Organisation")
class Organisation(Aggregate):
    """A charity, school or social-care service; its admins are its org_admin members."""

    @staticmethod
    def create_id(request_id: str) -> uuid.UUID:
        return uuid.uuid5(REQUEST_NAMESPACE, f"organisation:{request_id}")

    @published(events_pb2.OrganisationCreated)
    class Created(Aggregate.Created):
        name: str
        admin_account_id: str
        request_id: str

    @event(Created)
    def __init__(self, name: str, admin_account_id: str, request_id: str) -> None:
        self.name = name
        self.admin_account_id = admin_account_id


@aggregate_name("identity.GuardianLink")
class GuardianLink(Aggregate):
    """A guardian and a child: in force once both consent, or an org admin confirms."""

    @staticmethod
    def create_id(guardian_account_id: str, child_account_id: str) -> uuid.UUID:
        return uuid.uuid5(
            REQUEST_NAMESPACE, f"guardian-link:{guardian_account_id}:{child_account_id}"
        )

    @published(events_pb2.GuardianLinkOpened)
    class Opened(Aggregate.Created):
        guardian_account_id: str
        child_account_id: str

    @event(Opened)
    def __init__(self, guardian_account_id: str, child_account_id: str) -> None:
        self.guardian_account_id = guardian_account_id
        self.child_account_id = child_account_id
        self.consented_sides: set[str] = set()
        self.linked = False
        self.parental_consent: bool | None = None
        self.approved_contacts: list[str] = []

    def consent(self, side: str) -> None:
        if side not in self.consented_sides:
            self.trigger_event(self.Consented, side=side)
        if {"guardian", "child"} <= self.consented_sides:
            self._link("both_parties")

    @published(events_pb2.GuardianLinkConsented)
    class Consented(Aggregate.Event):
        side: str

        def apply(self, aggregate: Aggregate) -> None:
            _link(aggregate).consented_sides.add(self.side)

    def confirm(self, org_admin_account_id: str) -> None:
        self._link(f"org_admin:{org_admin_account_id}")

    def _link(self, confirmed_by: str) -> None:
        if not self.linked:
            self.trigger_event(
                self.Linked,
                guardian_account_id=self.guardian_account_id,
                child_account_id=self.child_account_id,
                confirmed_by=confirmed_by,
            )

    @published(events_pb2.GuardianLinked)
    class Linked(Aggregate.Event):
        guardian_account_id: str
        child_account_id: str
        confirmed_by: str

        def apply(self, aggregate: Aggregate) -> None:
            _link(aggregate).linked = True

    def ensure_linked(self) -> None:
        if not self.linked:
            raise Conflict("the guardian link is not in force", reason="LINK_NOT_IN_FORCE")

    def record_parental_consent(self, granted: bool) -> None:
        self.ensure_linked()
        if self.parental_consent != granted:
            self.trigger_event(
                self.ParentalConsentRecorded,
                guardian_account_id=self.guardian_account_id,
                child_account_id=self.child_account_id,
                granted=granted,
            )

    @published(events_pb2.GuardianConsentRecorded)
    class ParentalConsentRecorded(Aggregate.Event):
        guardian_account_id: str
        child_account_id: str
        granted: bool

        def apply(self, aggregate: Aggregate) -> None:
            _link(aggregate).parental_consent = self.granted

    def approve_contact(self, contact_account_id: str) -> None:
        self.ensure_linked()
        if contact_account_id == self.child_account_id:
            raise Conflict("a child is not their own contact")
        if contact_account_id not in self.approved_contacts:
            self.trigger_event(
                self.ContactApproved,
                guardian_account_id=self.guardian_account_id,
                child_account_id=self.child_account_id,
                contact_account_id=contact_account_id,
            )

    @published(events_pb2.ContactApproved)
    class ContactApproved(Aggregate.Event):
        guardian_account_id: str
        child_account_id: str
        contact_account_id: str

        def apply(self, aggregate: Aggregate) -> None:
            _link(aggregate).approved_contacts.append(self.contact_account_id)


def _link(aggregate: Aggregate) -> GuardianLink:
    assert isinstance(aggregate, GuardianLink)
    return aggregate


STAFF_ROLES = frozenset(
    {
        Role.PRACTITIONER,
        Role.MODERATOR,
        Role.SAFEGUARDING_LEAD,
        Role.AUDITOR,
        Role.ORG_ADMIN,
        Role.DATA_PROTECTION_OFFICER,
        # Invited like staff: an org admin registers their organisation's keeper.
        Role.RECORD_KEEPER,
    }
)
# The staff who are people and sign in to the console with passkeys: not the record keeper, a
# client its organisation runs with device keys of its own.
PASSKEY_ROLES = STAFF_ROLES - {Role.RECORD_KEEPER}


@aggregate_name("identity.Invitation")
class Invitation(Aggregate):
    """A staff invitation: its id derives from the secret code's hash; used once.

    The operator's invitation of a new organisation's first admin names the organisation,
    which is created when the invitation is accepted."""

    @staticmethod
    def id_for(code: str) -> uuid.UUID:
        digest = hashlib.sha256(code.encode()).hexdigest()
        return uuid.uuid5(REQUEST_NAMESPACE, f"invitation:{digest}")

    @published(events_pb2.StaffInvited)
    class Invited(Aggregate.Created):
        organisation_id: str
        role: Role
        invited_by: str
        expires_at: datetime
        organisation_name: str

    @event(Invited)
    def __init__(
        self,
        id: uuid.UUID,
        organisation_id: str,
        role: Role,
        invited_by: str,
        expires_at: datetime,
        organisation_name: str = "",
    ) -> None:
        self.organisation_id = organisation_id
        self.role = role
        self.invited_by = invited_by
        self.expires_at = expires_at
        self.organisation_name = organisation_name
        self.accepted_by = ""

    def accept(self, account_id: str, role: Role, now: datetime) -> None:
        """Use the invitation for `account_id`; a retry by the same account changes nothing."""
        if self.accepted_by == account_id:
            return
        if role != self.role:
            raise Refused(f"the invitation is for the role {self.role.label}")
        self.ensure_open(now)
        self.trigger_event(self.Accepted, account_id=account_id)

    def ensure_open(self, now: datetime) -> None:
        """Refuse an invitation that was used or has expired."""
        if self.accepted_by:
            raise Conflict("the invitation has already been used", reason="INVITATION_USED")
        if now >= self.expires_at:
            raise Conflict("the invitation has expired", reason="INVITATION_EXPIRED")

    @published(events_pb2.InvitationAccepted)
    class Accepted(Aggregate.Event):
        account_id: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Invitation)
            aggregate.accepted_by = self.account_id
