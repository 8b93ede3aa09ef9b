"""Identity's commands: accounts, devices, login, organisations, guardians.

Layers below, one job to a module: `privacy` (reading an account, consent, erasure, subject
access) on `follow` (age's attested bands).

A little over 400 lines: accounts, devices, login, organisations and guardians all turn on
the one account aggregate; what has its own job lives in the layers named above.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from hearth_crypto.age_band import AgeBand
from hearth_eventlog import NatsFactory
from hearth_runtime.admin import OPERATOR
from hearth_runtime.application import retrying
from hearth_runtime.errors import AlreadyDone, Conflict, Invalid, NotFound, Refused
from hearth_runtime.sessions import SessionSigner
from hearth_runtime.subject_keys import SubjectKeys

from .ceremonies import Ceremonies
from .domain import (
    CHILD_ROLES,
    MAX_DEVICES,
    STAFF_ROLES,
    Account,
    GuardianLink,
    Invitation,
    Organisation,
    Role,
    TooManyDevices,
)
from .login import Challenge, LoginChallenges, LoginRefused
from .passkeys import DEVELOPMENT_RP, Passkey, RelyingParty
from .privacy import AccountNotFound, HouseRules, Privacy

A = TypeVar("A", bound=Aggregate)


class RequestConflict(AlreadyDone):
    """A request id was reused for a different request."""

    reason = "REQUEST_ID_REUSED"


class BadProof(Invalid):
    reason = "BAD_DEVICE_PROOF"


def login_mac_key(signer: SessionSigner) -> bytes:
    """The key that seals login challenges: every replica holding the signing key has it."""
    return hmac.new(bytes(signer.signing_key), b"hearth-login-challenge-v1", "sha256").digest()


def add_device_text(account_id: str) -> bytes:
    """What a new device signs to prove it holds its key."""
    return f"hearth-add-device-v1:{account_id}".encode()


@dataclass(frozen=True)
class IssuedSession:
    token: str
    expires_at: int


class Identity(Privacy):
    name = "identity"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        signer: SessionSigner,
        house_rules: HouseRules,
        session_lifetime: int = 900,
        invitation_lifetime: int = 7 * 86400,
        challenge_lifetime: float = 60.0,
        subject_key_wrapping: bytes | None = None,
        relying_party: RelyingParty | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(env)
        self.signer = signer
        self.house_rules = house_rules
        self.session_lifetime = session_lifetime
        self.invitation_lifetime = invitation_lifetime
        self.clock = clock
        factory = self.factory
        assert isinstance(factory, NatsFactory)
        settings = factory.settings
        self.challenges = LoginChallenges(
            login_mac_key(signer),
            challenge_lifetime,
            factory.link,
            f"{settings.stream}_LOGIN_CHALLENGES",
            settings,
            clock=clock,
        )
        self.subject_keys = SubjectKeys(
            factory.link,
            f"{settings.stream}_SUBJECT_KEYS",
            settings,
            wrapping_key=subject_key_wrapping,
        )
        self.passkeys = Ceremonies(self, relying_party or DEVELOPMENT_RP, self.challenges)

    def _get(self, cls: type[A], aggregate_id: UUID, missing: str) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(missing) from None
        if not isinstance(aggregate, cls):
            raise NotFound(missing)
        return aggregate

    # Accounts and devices.

    def register_account(
        self,
        role: Role,
        device_public_key: bytes,
        request_id: str,
        personal_data: Mapping[str, str] | None = None,
        invitation_code: str = "",
    ) -> UUID:
        """Register, idempotently: a retry with the same request id finds the same account.
        A staff role needs an invitation, used up by this registration."""

        def command() -> UUID:
            account_id = Account.create_id(request_id)
            try:
                existing: Account = self.repository.get(account_id)
            except AggregateNotFoundError:
                invitation = self.invitation(invitation_code) if invitation_code else None
                return self.create_account(
                    role, device_public_key, request_id, personal_data, invitation
                )
            if existing.role != role or existing.device_keys[:1] != [device_public_key]:
                raise RequestConflict(
                    f"request_id {request_id!r} was used for another registration"
                )
            return account_id

        return retrying(command)

    def invitation(self, code: str) -> Invitation:
        """The invitation of a code; an unknown code is refused like a forged one."""
        try:
            return self._get(Invitation, Invitation.id_for(code), "")
        except NotFound:
            raise Refused("the invitation code is not valid") from None

    def create_account(
        self,
        role: Role,
        device_public_key: bytes,
        request_id: str,
        personal_data: Mapping[str, str] | None,
        invitation: Invitation | None,
        passkey: Passkey | None = None,
    ) -> UUID:
        """Register an account with its first device: a device key, or else `passkey`."""
        account = Account(role, device_public_key, request_id)
        changed: list[Aggregate] = [account]
        if passkey is not None:
            account.add_passkey(str(passkey.id), passkey.credential_id)
            changed.append(passkey)
        if role in STAFF_ROLES:
            if invitation is None:
                raise Refused(f"the role {role.label} needs an invitation from an org admin")
            invitation.accept(str(account.id), role, self.now())
            if invitation.organisation_name:
                # The operator's invitation of a new organisation's first admin.
                organisation = Organisation(
                    invitation.organisation_name, str(account.id), f"invitation:{invitation.id}"
                )
                account.join(str(organisation.id), invitation.invited_by)
                changed.append(organisation)
            elif invitation.organisation_id:
                account.join(invitation.organisation_id, invitation.invited_by)
            changed.append(invitation)
        if personal_data:
            sealed = self.subject_keys.seal(
                str(account.id), json.dumps(dict(personal_data)).encode()
            )
            account.record_personal_data(sealed)
        self.save(*changed)
        return account.id

    def invite_staff(
        self,
        inviter: str,
        *,
        operator: bool,
        organisation_id: UUID | None,
        role: Role,
        organisation_name: str = "",
    ) -> tuple[str, datetime]:
        """A single-use code for one staff role; only the code's hash is ever recorded. The
        operator may name a new organisation, created when its first org admin registers."""
        if role not in STAFF_ROLES:
            raise Conflict(f"{role.label} is not a staff role; it registers without one")
        if organisation_name:
            if not operator:
                raise Refused("an org admin creates an organisation with CreateOrganisation")
            if role != Role.ORG_ADMIN or organisation_id is not None:
                raise Conflict(
                    "organisation_name is for an org admin invited to a new organisation, "
                    "without organisation_id"
                )
        if organisation_id is not None:
            self._get(
                Organisation, organisation_id, f"organisation {organisation_id} does not exist"
            )
        if not operator:
            if organisation_id is None:
                raise Conflict("an org admin invites into one of their organisations")
            try:
                admin_id = UUID(inviter)
            except ValueError:
                raise NotFound("the session's account does not exist") from None
            self._require_admin(admin_id, organisation_id)
        code = secrets.token_urlsafe(24)
        expires_at = self.now() + timedelta(seconds=self.invitation_lifetime)
        invitation = Invitation(
            id=Invitation.id_for(code),
            organisation_id=str(organisation_id or ""),
            role=role,
            invited_by=OPERATOR if operator else inviter,
            expires_at=expires_at,
            organisation_name=organisation_name,
        )
        self.save(invitation)
        return code, expires_at

    def add_device(self, account_id: UUID, device_public_key: bytes, proof: bytes) -> int:
        try:
            VerifyKey(device_public_key).verify(add_device_text(str(account_id)), proof)
        except (BadSignatureError, ValueError):
            raise BadProof("proof is not the new device's signature over its account") from None

        def command() -> int:
            account = self.get_account(account_id)
            if device_public_key not in account.device_keys:
                if account.devices >= MAX_DEVICES:
                    raise TooManyDevices(f"an account has at most {MAX_DEVICES} devices")
                account.add_device(device_public_key)
                self.save(account)
            return account.devices

        return retrying(command)

    def remove_device(self, account_id: UUID, device_public_key: bytes) -> int:
        def command() -> int:
            account = self.get_account(account_id)
            account.remove_device(device_public_key)
            self.save(account)
            return account.devices

        return retrying(command)

    # Login and sessions.

    def begin_login(self, account_id: UUID, device_public_key: bytes) -> Challenge:
        try:
            account = self.get_account(account_id)
        except AccountNotFound:
            raise LoginRefused("unknown account or device") from None
        if account.erased or device_public_key not in account.device_keys:
            raise LoginRefused("unknown account or device")
        return self.challenges.begin(str(account_id), device_public_key)

    def complete_login(self, challenge_id: str, signature: bytes) -> IssuedSession:
        challenge = self.challenges.complete(challenge_id, signature)
        account = self.get_account(UUID(challenge.account_id))
        if account.erased or challenge.device_public_key not in account.device_keys:
            raise LoginRefused("unknown account or device")
        return self.issue_session(account)

    def renew_session(self, account_id: UUID) -> IssuedSession:
        try:
            account = self.get_account(account_id)
        except AccountNotFound:
            raise LoginRefused("the session's account does not exist") from None
        if account.erased:
            raise LoginRefused("the session's account is erased")
        return self.issue_session(account)

    def issue_session(self, account: Account) -> IssuedSession:
        """A token with the account's current roles, band and organisations."""
        expires_at = int(self.signer.clock()) + self.session_lifetime
        token = self.signer.issue(
            str(account.id),
            {account.role.label},
            lifetime=self.session_lifetime,
            age_band=account.effective_band(self.now()).label,
            organisations=set(account.organisations),
        )
        return IssuedSession(token, expires_at)

    # Organisations and vetting.

    def create_organisation(self, admin_id: UUID, request_id: str, name: str) -> UUID:
        def command() -> UUID:
            admin = self.get_account(admin_id)
            admin.ensure_active()
            if admin.role != Role.ORG_ADMIN:
                raise Refused("only an org admin creates an organisation")
            organisation_id = Organisation.create_id(request_id)
            try:
                existing: Organisation = self.repository.get(organisation_id)
            except AggregateNotFoundError:
                organisation = Organisation(name, str(admin_id), request_id)
                admin.join(str(organisation.id), str(admin_id))
                self.save(organisation, admin)
                return organisation.id
            if existing.name != name or existing.admin_account_id != str(admin_id):
                raise RequestConflict(f"request_id {request_id!r} created another organisation")
            return organisation_id

        return retrying(command)

    def _require_admin(self, admin_id: UUID, organisation_id: UUID) -> Account:
        self._get(Organisation, organisation_id, f"organisation {organisation_id} does not exist")
        admin = self.get_account(admin_id)
        admin.ensure_active()
        if admin.role != Role.ORG_ADMIN or str(organisation_id) not in admin.organisations:
            raise Refused(f"the caller is not an admin of organisation {organisation_id}")
        return admin

    def add_member(self, admin_id: UUID, organisation_id: UUID, account_id: UUID) -> None:
        self._require_admin(admin_id, organisation_id)

        def command() -> None:
            member = self.get_account(account_id)
            member.join(str(organisation_id), str(admin_id))
            self.save(member)

        retrying(command)

    def vet_practitioner(self, admin_id: UUID, organisation_id: UUID, account_id: UUID) -> datetime:
        self._require_admin(admin_id, organisation_id)

        def command() -> datetime:
            practitioner = self.get_account(account_id)
            practitioner.vet(str(organisation_id), str(admin_id))
            self.save(practitioner)
            return practitioner.vetted_by[str(organisation_id)][1]

        return retrying(command)

    # Guardian links, parental consent and approved contacts.

    def _link(self, guardian_id: UUID, child_id: UUID) -> GuardianLink:
        link_id = GuardianLink.create_id(str(guardian_id), str(child_id))
        try:
            link: GuardianLink = self.repository.get(link_id)
        except AggregateNotFoundError:
            link = GuardianLink(str(guardian_id), str(child_id))
        return link

    def _link_parties(self, guardian_id: UUID, child_id: UUID) -> tuple[Account, Account]:
        guardian, child = self.get_account(guardian_id), self.get_account(child_id)
        guardian.ensure_active()
        child.ensure_active()
        if guardian.role != Role.GUARDIAN:
            raise Conflict(f"account {guardian_id} is not a guardian")
        if child.role not in CHILD_ROLES:
            raise Conflict(f"account {child_id} is not a child or young person")
        return guardian, child

    def consent_to_link(self, caller_id: UUID, other_id: UUID) -> bool:
        caller = self.get_account(caller_id)
        if caller.role == Role.GUARDIAN:
            guardian_id, child_id, side = caller_id, other_id, "guardian"
        elif caller.role in CHILD_ROLES:
            guardian_id, child_id, side = other_id, caller_id, "child"
        else:
            raise Refused("only a guardian or a child consents to a guardian link")
        self._link_parties(guardian_id, child_id)

        def command() -> bool:
            link = self._link(guardian_id, child_id)
            link.consent(side)
            self.save(link)
            return link.linked

        return retrying(command)

    def confirm_link(self, admin_id: UUID, guardian_id: UUID, child_id: UUID) -> None:
        admin = self.get_account(admin_id)
        admin.ensure_active()
        _guardian, child = self._link_parties(guardian_id, child_id)
        shared = set(admin.organisations) & set(child.organisations)
        if admin.role != Role.ORG_ADMIN or not shared:
            raise Refused("only an admin of the child's organisation confirms a link")

        def command() -> None:
            link = self._link(guardian_id, child_id)
            link.confirm(str(admin_id))
            self.save(link)

        retrying(command)

    def _linked_child(self, guardian_id: UUID, child_id: UUID) -> tuple[GuardianLink, Account]:
        _guardian, child = self._link_parties(guardian_id, child_id)
        link = self._get(
            GuardianLink,
            GuardianLink.create_id(str(guardian_id), str(child_id)),
            "the caller has no guardian link with this child",
        )
        link.ensure_linked()
        if child.effective_band(self.now()) != AgeBand.UNDER_13:
            raise Conflict("guardian consent and approved contacts are for under-13s")
        return link, child

    def record_guardian_consent(self, guardian_id: UUID, child_id: UUID, granted: bool) -> None:
        def command() -> None:
            link, _child = self._linked_child(guardian_id, child_id)
            link.record_parental_consent(granted)
            self.save(link)

        retrying(command)

    def approve_contact(self, guardian_id: UUID, child_id: UUID, contact_id: UUID) -> None:
        self.get_account(contact_id).ensure_active()

        def command() -> None:
            link, _child = self._linked_child(guardian_id, child_id)
            link.approve_contact(str(contact_id))
            self.save(link)

        retrying(command)
