"""The WebAuthn ceremonies of staff passkeys: add one, enrol with one, log in with one.

Each ceremony begins with a sealed, single-use, short-lived challenge (`login`'s
`SealedChallenges`, one kind per ceremony) and completes when the browser's answer verifies
(`passkeys.RelyingParty`); only then is the challenge spent and anything recorded, so a
refused answer leaves the identity stream as it was. Staff only, at every step: a child's,
young person's or guardian's account holds no passkey and is refused NOT_STAFF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from hearth_runtime.application import retrying
from hearth_runtime.errors import NotFound

from .domain import MAX_DEVICES, PASSKEY_ROLES, Account, Invitation, Role, TooManyDevices
from .login import LoginRefused, Sealed, SealedChallenges
from .passkeys import (
    AssertionRefused,
    ChallengeRefused,
    NotStaff,
    Passkey,
    PasskeyRegistered,
    RelyingParty,
    authentication_credential,
    device_id_for,
    registration_credential,
)
from .privacy import AccountNotFound

if TYPE_CHECKING:
    from .application import Identity, IssuedSession

REGISTRATION = "passkey registration"
ENROLMENT = "passkey enrolment"
LOGIN = "passkey login"


@dataclass(frozen=True)
class Options:
    """A begun ceremony: its challenge id and the options for the browser."""

    challenge_id: str
    options_json: str
    expires_at: int
    account_id: str = ""


@dataclass(frozen=True)
class SignedIn:
    """A staff member signed in by a passkey: enrolled with it, or logged in with it."""

    account_id: UUID
    device_id: str
    session: IssuedSession


def ensure_staff(role: Role) -> None:
    if role not in PASSKEY_ROLES:
        raise NotStaff(
            f"passkeys are for staff; the role {role.label} cannot sign in to the console"
        )


def enrolment_request_id(invitation: Invitation) -> str:
    """The enrolled account's id derives from its invitation, used once."""
    return f"passkey-enrolment:{invitation.id}"


class Ceremonies:
    """Identity's passkey commands, over the application's repository and sessions."""

    def __init__(
        self, app: Identity, relying_party: RelyingParty, challenges: SealedChallenges
    ) -> None:
        self.app = app
        self.relying_party = relying_party
        self.challenges = challenges

    def _options(self, sealed: Sealed, options_json: str, account_id: str = "") -> Options:
        return Options(sealed.challenge_id, options_json, int(sealed.expires_at), account_id)

    def _passkey(self, device_id: UUID) -> Passkey | None:
        try:
            passkey: object = self.app.repository.get(device_id)
        except AggregateNotFoundError:
            return None
        return passkey if isinstance(passkey, Passkey) else None

    def _invitation(self, invitation_id: UUID) -> Invitation:
        try:
            invitation: object = self.app.repository.get(invitation_id)
        except AggregateNotFoundError:
            invitation = None
        if not isinstance(invitation, Invitation):
            raise ChallengeRefused("the enrolment's invitation does not exist")
        return invitation

    def _credentials(self, account: Account) -> list[bytes]:
        return list(account.passkeys.values())

    # A signed-in staff member adds a passkey.

    def _registrant(self, account_id: UUID) -> Account:
        account = self.app.get_account(account_id)
        account.ensure_active()
        ensure_staff(account.role)
        if account.devices >= MAX_DEVICES:
            raise TooManyDevices(f"an account has at most {MAX_DEVICES} devices")
        return account

    def begin_registration(self, account_id: UUID) -> Options:
        account = self._registrant(account_id)
        sealed = self.challenges.seal(REGISTRATION, {"a": str(account_id)})
        name = self.app.personal_data(account).get("display_name") or account.role.label
        options = self.relying_party.creation_options(
            sealed.nonce, account_id.bytes, name, self._credentials(account)
        )
        return self._options(sealed, options)

    def complete_registration(
        self, account_id: UUID, challenge_id: str, credential_json: str
    ) -> tuple[str, int]:
        sealed = self.challenges.open(challenge_id, REGISTRATION, ChallengeRefused)
        if sealed.record.get("a") != str(account_id):
            raise ChallengeRefused("the challenge was issued to another account")
        credential = registration_credential(credential_json)
        self._registrant(account_id)
        new = self.relying_party.verify_creation(credential, sealed.nonce)
        self._ensure_new(new.credential_id)
        self.challenges.spend(sealed, ChallengeRefused)

        def command() -> tuple[str, int]:
            account = self._registrant(account_id)
            self._ensure_new(new.credential_id)
            passkey = new.passkey(str(account_id), self.relying_party.rp_id)
            account.add_passkey(str(passkey.id), passkey.credential_id)
            self.app.save(passkey, account)
            return str(passkey.id), account.devices

        return retrying(command)

    def _ensure_new(self, credential_id: bytes) -> None:
        if self._passkey(device_id_for(credential_id)) is not None:
            raise PasskeyRegistered("this passkey is already registered")

    # An invited staff member registers with a passkey as their first device.

    def _open_invitation(self, invitation: Invitation) -> None:
        invitation.ensure_open(self.app.now())

    def begin_enrolment(self, invitation_code: str, display_name: str) -> Options:
        invitation = self.app.invitation(invitation_code)
        self._open_invitation(invitation)
        ensure_staff(invitation.role)
        account_id = Account.create_id(enrolment_request_id(invitation))
        sealed = self.challenges.seal(
            ENROLMENT, {"i": str(invitation.id), "a": str(account_id), "n": display_name}
        )
        options = self.relying_party.creation_options(
            sealed.nonce, account_id.bytes, display_name or invitation.role.label, []
        )
        return self._options(sealed, options, str(account_id))

    def complete_enrolment(self, challenge_id: str, credential_json: str) -> SignedIn:
        sealed = self.challenges.open(challenge_id, ENROLMENT, ChallengeRefused)
        try:
            invitation_id = UUID(sealed.record["i"])
            display_name = sealed.record["n"]
        except (KeyError, ValueError):
            raise ChallengeRefused("unknown passkey enrolment challenge") from None
        credential = registration_credential(credential_json)
        invitation = self._invitation(invitation_id)
        self._open_invitation(invitation)
        new = self.relying_party.verify_creation(credential, sealed.nonce)
        self._ensure_new(new.credential_id)
        self.challenges.spend(sealed, ChallengeRefused)

        def command() -> SignedIn:
            invitation = self._invitation(invitation_id)
            self._open_invitation(invitation)
            self._ensure_new(new.credential_id)
            request_id = enrolment_request_id(invitation)
            passkey = new.passkey(str(Account.create_id(request_id)), self.relying_party.rp_id)
            personal = {"display_name": display_name} if display_name else None
            account_id = self.app.create_account(
                invitation.role, b"", request_id, personal, invitation, passkey
            )
            session = self.app.issue_session(self.app.get_account(account_id))
            return SignedIn(account_id, str(passkey.id), session)

        return retrying(command)

    # A staff member logs in with a passkey.

    def begin_login(self, account_id: UUID | None) -> Options:
        allow: list[bytes] = []
        if account_id is not None:
            try:
                account = self.app.get_account(account_id)
            except AccountNotFound:
                raise LoginRefused("unknown account") from None
            if account.erased:
                raise LoginRefused("unknown account")
            ensure_staff(account.role)
            allow = self._credentials(account)
            if not allow:
                raise LoginRefused("the account has no passkey")
        sealed = self.challenges.seal(LOGIN, {"a": str(account_id or "")})
        return self._options(sealed, self.relying_party.request_options(sealed.nonce, allow))

    def complete_login(self, challenge_id: str, credential_json: str) -> SignedIn:
        sealed = self.challenges.open(challenge_id, LOGIN, LoginRefused)
        credential = authentication_credential(credential_json)
        device_id = device_id_for(credential.raw_id)
        passkey = self._passkey(device_id)
        if passkey is None:
            raise LoginRefused("unknown passkey")
        expected = sealed.record.get("a", "")
        if expected and expected != passkey.account_id:
            raise LoginRefused("the passkey is not one of this account's")
        account = self._login_account(passkey)
        if credential.response.user_handle and credential.response.user_handle != account.id.bytes:
            raise AssertionRefused("the assertion's user handle is not the passkey's account")
        sign_count = self.relying_party.verify_assertion(credential, sealed.nonce, passkey)
        self.challenges.spend(sealed, LoginRefused)

        loaded = [passkey]  # the first attempt saves what was verified; a retry reads again

        def command() -> None:
            current = loaded.pop() if loaded else self._passkey(device_id)
            assert current is not None  # passkeys are never deleted
            current.count_signature(sign_count)
            if current.pending_events:
                self.app.save(current)

        retrying(command)
        return SignedIn(account.id, str(device_id), self.app.issue_session(account))

    def _login_account(self, passkey: Passkey) -> Account:
        try:
            account = self.app.get_account(UUID(passkey.account_id))
        except (AccountNotFound, NotFound, ValueError):
            raise LoginRefused("unknown account or passkey") from None
        if account.erased or str(passkey.id) not in account.passkeys:
            raise LoginRefused("unknown account or passkey")
        ensure_staff(account.role)
        return account
